"""Time the one-command set-up on a fresh clone: `make venv` (no pip cache tricks).

    python benchmarks/setup_time.py [--out benchmarks/results/setup_time.json]

Clones this repository (HEAD) into a temporary folder beside it, runs `make venv`
there and records the wall time and the resulting venv size.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(HERE / "results" / "setup_time.json"), help="result JSON to write")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from machine import machine_info

    work = Path(tempfile.mkdtemp(prefix="setup-time-", dir=REPO.parent))
    try:
        clone = work / "clone"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        start = time.perf_counter()
        subprocess.run(["make", "venv"], cwd=clone, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        packages = subprocess.run([str(clone / ".venv/bin/python"), "-m", "pip", "freeze"], capture_output=True, text=True).stdout
        result = {
            "machine": machine_info(),
            "make_venv_seconds": round(seconds, 1),
            "venv_mb": round(folder_mb(clone / ".venv"), 0),
            "packages": len([line for line in packages.splitlines() if "==" in line]),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.path.insert(0, str(REPO))
    from BreastUSAITraining.atomic import write_json_atomic

    write_json_atomic(args.out, result)
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
