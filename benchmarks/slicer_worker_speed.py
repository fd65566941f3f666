"""*Run AI* from the Slicer module, first click and later clicks (issue 20): the warm background
worker (one ``breastusai worker`` process, models loaded once) against a fresh ``predict`` process
per click (the module before the worker). One BUSI sample image, the shipped B-mode models
(segmentation + classifier + MUP-Net), the module's own runners (BreastUSAILib), CPU.

    python benchmarks/slicer_worker_speed.py [--clicks 5] [--threads 2]

Writes ``results/slicer_worker_speed.json``: seconds from the click (the runner's start) to the
run's last event, per click. Timings depend on the machine and its load (recorded).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "BreastUSAI"), str(HERE)]

from machine import machine_info  # noqa: E402

from BreastUSAITraining.atomic import write_json_atomic  # noqa: E402

SAMPLE = HERE.parent / "Resources" / "SampleData" / "busi" / "malignant_139.png"
RESULT = HERE / "results" / "slicer_worker_speed.json"


def click(runner, job) -> float:
    started = time.perf_counter()
    runner.start(job)
    state = runner.wait(600)
    if state != "finished":
        raise RuntimeError(f"run {state}: {runner.message}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=5, help="clicks per runner (default: 5)")
    parser.add_argument("--threads", type=int, default=2, help="OMP / MKL threads of the background processes (default: 2)")
    parser.add_argument("--note", default="", help="what else the machine was doing (recorded in the result)")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(args.threads)
    from BreastUSAILib.PredictRunner import PredictJob, SubprocessRunner
    from BreastUSAILib.PredictWorker import PredictWorker, WorkerRunner
    from BreastUSAITraining.shipped import models_for_kind

    models = [str(m.path) for m in models_for_kind("us_bmode")]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as work:
        def job(name: str) -> PredictJob:
            return PredictJob([str(SAMPLE)], models, str(Path(work) / name), device="cpu")

        worker = PredictWorker()
        try:
            warm = [click(WorkerRunner(worker), job(f"w{n}")) for n in range(args.clicks)]
        finally:
            worker.stop()
        fresh = [click(SubprocessRunner(), job(f"s{n}")) for n in range(args.clicks)]
    document = {"machine": machine_info(), "load_average_1min": round(load, 2), "note": args.note, "threads": args.threads,
                "image": "BUSI malignant_139.png (Resources/SampleData)", "models": [Path(m).name for m in models],
                "warm_worker_s": [round(t, 3) for t in warm], "fresh_process_s": [round(t, 3) for t in fresh],
                "warm_first_click_s": round(warm[0], 3), "warm_later_clicks_median_s": round(statistics.median(warm[1:]), 3),
                "fresh_process_median_s": round(statistics.median(fresh), 3), "goal": "later clicks under 1 s"}
    write_json_atomic(RESULT, document)
    print({k: v for k, v in document.items() if k != "machine"})


if __name__ == "__main__":
    main()
