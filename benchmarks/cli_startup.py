"""Cold start of the command line (issue 18): whole-process wall time of each command as a user
types it, median of ``--repeats`` fresh processes, and what the process had to import.

* ``--help`` of the program and of every command: nothing heavy may load (goal: under 1 s);
* an argument error (``predict`` with no input): the same;
* ``predict`` of one BUSI sample image with the shipped segmentation bundle only (the review's
  9.1 s figure), and with the default shipped models: torch and the bundles load here, as they must.

    python benchmarks/cli_startup.py [--repeats 3] [--threads 2]

Writes ``results/cli_startup.json``. Timings depend on the machine and on what else runs on it:
the file records both (``machine``, ``load_average_1min`` before the runs).
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

ROOT = HERE.parent
SAMPLE = ROOT / "Resources" / "SampleData" / "busi" / "malignant_139.png"
SEGMENTATION = ROOT / "Resources" / "Models" / "lesion-segmentation"
RESULT = HERE / "results" / "cli_startup.json"


def commands(work: Path) -> dict[str, list[str]]:
    from BreastUSAITraining.cli.main import build_parser

    parser = build_parser()
    runs = {"--help": ["--help"]}
    for action in parser._actions:
        for name in getattr(action, "choices", None) or {}:
            if isinstance(action.choices, dict):
                runs[f"{name} --help"] = [name, "--help"]
    runs["train mupnet --help"] = ["train", "mupnet", "--help"]
    runs["predict (no input: argument error)"] = ["predict"]
    runs["predict 1 BUSI image, segmentation bundle only"] = [
        "predict", str(SAMPLE), "--model", str(SEGMENTATION), "--out", str(work / "seg"), "--overwrite", "-q"]
    runs["predict 1 BUSI image, default shipped models"] = [
        "predict", str(SAMPLE), "--out", str(work / "all"), "--overwrite", "-q"]
    return runs


def time_run(arguments: list[str], threads: int) -> tuple[float, int]:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "BreastUSAITraining", *arguments], env=env, capture_output=True)
    return time.perf_counter() - started, done.returncode


def heavy_imports(arguments: list[str]) -> list[str]:
    probe = (f"import sys\nfrom BreastUSAITraining.cli.main import main\nmain({arguments!r})\n"
             "print('HEAVY', sorted(m for m in ('torch', 'monai', 'scipy.stats', 'sklearn', 'SimpleITK') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("HEAVY")), "HEAVY []")
    return json.loads(line.split(" ", 1)[1].replace("'", '"'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per command (median reported; default: 3)")
    parser.add_argument("--threads", type=int, default=2, help="OMP / MKL threads of each process (default: 2)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        load = os.getloadavg()[0]
        for label, arguments in commands(Path(work)).items():
            times, codes = zip(*(time_run(arguments, args.threads) for _ in range(args.repeats)))
            heavy = heavy_imports(arguments) if "predict 1" not in label else ["(runs the networks)"]
            rows.append({"command": label, "median_s": round(statistics.median(times), 3),
                         "min_s": round(min(times), 3), "exit_code": codes[0], "heavy_imports": heavy})
            print(f"{label:55s} {statistics.median(times):6.2f} s  exit {codes[0]}  {heavy}", flush=True)
    write_json_atomic(RESULT, {"machine": machine_info(), "load_average_1min": round(load, 2), "repeats": args.repeats,
                               "threads": args.threads, "goal": "--help and argument errors under 1 s", "commands": rows})


if __name__ == "__main__":
    main()
