"""``breastusai worker``: predict requests over stdin / stdout with the models kept loaded (what the
Slicer module's warm background worker runs). A real process, real bundles, a real sample image."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "Resources" / "SampleData" / "busi" / "malignant_139.png"
SEGMENTATION = REPO / "Resources" / "Models" / "lesion-segmentation"


def _answer(process: subprocess.Popen) -> tuple[list[dict], dict]:
    events = []
    while True:
        line = process.stdout.readline()
        assert line, "the worker ended without answering"
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a log line (stderr is merged here)
        if event.get("event") == "request_done":
            return events, event
        events.append(event)


def test_worker_answers_requests_in_one_process_and_survives_bad_ones(tmp_path):
    worker = subprocess.Popen([sys.executable, "-m", "BreastUSAITraining", "worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    try:
        def ask(number, argv):
            worker.stdin.write(json.dumps({"id": number, "argv": argv}) + "\n")
            worker.stdin.flush()
            return _answer(worker)

        _, done = ask(1, ["dataset", "validate", "x"])  # not a predict: refused, the worker goes on
        assert done["exit_code"] == 2 and "predict" in done["message"]
        worker.stdin.write("{not json\n")
        worker.stdin.flush()
        assert _answer(worker)[1]["exit_code"] == 2
        results = []
        for number in (2, 3):
            events, done = ask(number, ["predict", str(SAMPLE), "--model", str(SEGMENTATION), "--out", str(tmp_path / f"o{number}"),
                                        "--progress", "json", "--expect-lesion"])
            assert done == {"event": "request_done", "id": number, "exit_code": 0}
            assert events[0]["event"] == "start" and events[-1] == {"event": "finished", "succeeded": 1, "failed": 0,
                                                                     "fraction": 1.0}
            results.append(json.loads((tmp_path / f"o{number}" / SAMPLE.stem / "result.json").read_text()))
        assert results[0]["lesions"] == results[1]["lesions"]  # the kept models give the same answer
        _, done = ask(4, ["predict", str(tmp_path / "missing.png"), "--model", str(SEGMENTATION), "--out", str(tmp_path / "o4"),
                          "--progress", "json"])
        assert done["exit_code"] == 2 and worker.poll() is None  # an input error fails that request only
    finally:
        worker.stdin.close()
        assert worker.wait(timeout=60) == 0  # end of input: the worker ends by itself


def test_kept_models_are_loaded_again_when_a_bundle_changes_on_disk(tmp_path):
    import torch

    from BreastUSAITraining.predict import pipeline

    bundle = tmp_path / "seg"
    shutil.copytree(SEGMENTATION, bundle)
    device = torch.device("cpu")
    pipeline.keep_models_loaded(True)
    try:
        first = pipeline.loaded_models([str(bundle)], device)
        assert pipeline.loaded_models([str(bundle)], device) is first
        time.sleep(0.01)
        metadata = bundle / "configs" / "metadata.json"
        metadata.write_text(metadata.read_text() + " ")  # a retrained bundle replaces its files
        assert pipeline.loaded_models([str(bundle)], device) is not first
    finally:
        pipeline.keep_models_loaded(False)
    assert pipeline.loaded_models([str(bundle)], device) is not pipeline.loaded_models([str(bundle)], device)
