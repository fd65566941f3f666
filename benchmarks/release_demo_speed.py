"""How long the shipped models take for a user (issue 19): ``make demo`` (wall and CPU time, peak
memory), and ``predict`` of one BUSI sample image with the default (shipped) models - cold (a fresh
process, as Slicer's background run and a first command-line call) and warm (models loaded once).

    python benchmarks/release_demo_speed.py [--repeats 3] [--threads 2]

Writes ``results/release_demo_speed.json``; the README table is rendered from it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from machine import machine_info  # noqa: E402

from BreastUSAITraining.atomic import write_json_atomic  # noqa: E402

SAMPLE = HERE.parent / "Resources" / "SampleData" / "busi" / "malignant_139.png"


def _child_run(arguments: list[str], threads: int) -> dict[str, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one child process (its own rusage, via wait4)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "BreastUSAITraining", "-q", *arguments], env=env,
                             stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed with exit code {child.returncode}")
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def warm_predict(repeats: int, threads: int) -> list[float]:
    import torch

    from BreastUSAITraining.imagefiles import read_image
    from BreastUSAITraining.predict.pipeline import PredictOptions, ShippedModelsByKind, predict_one
    from BreastUSAITraining.predict.progress import ProgressReporter

    torch.set_num_threads(threads)
    models = ShippedModelsByKind(torch.device("cpu"), set()).for_image(read_image(SAMPLE, colour="grey"))
    seconds = []
    with tempfile.TemporaryDirectory() as out:
        options = PredictOptions(models=[], out=out, device="cpu", progress="none")
        for n in range(repeats + 1):
            started = time.perf_counter()
            predict_one(SAMPLE, models, options, 0, ProgressReporter("none", 1), Path(out) / f"r{n}")
            if n:  # the first call warms caches
                seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="cold predict runs (median) (default: 3)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        demo = _child_run(["demo", "--out", str(Path(work) / "demo")], args.threads)
        summary = json.loads((Path(work) / "demo" / "demo_result.json").read_text())["summary"]
        cold = [_child_run(["predict", str(SAMPLE), "--out", str(Path(work) / f"p{n}")], args.threads)
                for n in range(args.repeats)]
    warm = warm_predict(10, args.threads)
    result = {"machine": machine_info(), "threads": args.threads,
              "demo": {**demo, "images": 11, "summary": summary},
              "predict_cold": {"input": f"BUSI sample {SAMPLE.name}", "runs": cold,
                               "median_wall_s": statistics.median(r["wall_s"] for r in cold),
                               "peak_rss_mb": max(r["peak_rss_mb"] for r in cold)},
              "predict_warm": {"input": f"BUSI sample {SAMPLE.name}", "median_s": round(statistics.median(warm), 3),
                               "runs": [round(v, 3) for v in warm]},
              "models": "shipped: lesion-segmentation + lesion-classifier + bmode-mupnet (predict without --model)"}
    write_json_atomic(HERE / "results" / "release_demo_speed.json", result)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))


if __name__ == "__main__":
    main()
