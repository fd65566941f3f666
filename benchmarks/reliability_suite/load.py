"""Load: resident memory over many predictions in one process, and two ``predict``
processes writing into one output folder at the same time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def predict_memory(inputs: list[Path], bundles: list[Path], work: Path, warmup: int = 50) -> dict:
    """One ``predict`` process over every input; RSS sampled against the inputs done.

    Growth = (highest RSS after warm-up - RSS when the warm-up ended) / RSS when it ended.
    """
    out = work / "memory_out"
    command = [sys.executable, "-m", "BreastUSAITraining", "predict", *map(str, inputs), "--out", str(out), "--device", "cpu",
               "--progress", "json", "--no-overlays"]
    for bundle in bundles:
        command += ["--model", str(bundle)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
    samples: list[tuple[int, int]] = []  # (inputs done, rss)
    done = 0
    started = time.perf_counter()
    assert process.stdout is not None
    for line in process.stdout:
        event = json.loads(line)
        if event["event"] in ("done", "error"):
            done += 1
            rss = _rss_bytes(process.pid)
            if rss:
                samples.append((done, rss))
    process.wait()
    seconds = time.perf_counter() - started
    at_warmup = next(rss for n, rss in samples if n >= warmup)
    after = [rss for n, rss in samples if n > warmup]
    growth = (max(after) - at_warmup) / at_warmup if after else 0.0
    results = sum(1 for p in out.iterdir() if (p / "result.json").is_file()) if out.exists() else 0
    return {"inputs": len(inputs), "results": results, "exit_code": process.returncode, "seconds": round(seconds, 1),
            "rss_at_warmup_mb": round(at_warmup / 2 ** 20, 1), "rss_max_after_warmup_mb": round(max(after) / 2 ** 20, 1),
            "rss_final_mb": round(samples[-1][1] / 2 ** 20, 1), "growth_after_warmup": round(growth, 4),
            "warmup_inputs": warmup, "held": process.returncode == 0 and results == len(inputs) and growth < 0.05,
            "rss_curve_mb": [[n, round(r / 2 ** 20, 1)] for n, r in samples[:: max(1, len(samples) // 50)]]}


def two_writers(inputs: list[Path], bundles: list[Path], work: Path, rounds: int = 3) -> dict:
    """Two ``predict`` processes on overlapping inputs into one folder, started together."""
    from BreastUSAITraining.imagefiles import read_segmentation

    out = work / "shared_out"
    half = len(inputs) // 2
    sets = [inputs[: half + half // 2], inputs[half // 2 :]]  # they overlap in the middle
    problems = []
    for round_ in range(rounds):
        processes = []
        for chosen in sets:
            # racing writers replace each other's folders on purpose (--overwrite: the folder is theirs)
            command = [sys.executable, "-m", "BreastUSAITraining", "predict", *map(str, chosen), "--out", str(out),
                       "--device", "cpu", "--progress", "none", "-q", "--overwrite"]
            for bundle in bundles:
                command += ["--model", str(bundle)]
            processes.append(subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        for process in processes:
            _, err = process.communicate(timeout=1800)
            if process.returncode != 0:
                problems.append(f"round {round_ + 1}: a writer exited {process.returncode}: {err[-300:]}")
        for path in inputs:
            folder = out / path.name.split(".")[0]
            try:
                document = json.loads((folder / "result.json").read_text())
                if document.get("lesions"):
                    read_segmentation(folder / "lesions.seg.nrrd")
            except Exception as error:  # noqa: BLE001
                problems.append(f"round {round_ + 1}: {folder.name}: {error}")
        debris = [p.name for p in out.iterdir() if p.name.startswith(".")]
        if debris:
            problems.append(f"round {round_ + 1}: staging debris left: {debris[:3]}")
    return {"rounds": rounds, "inputs": len(inputs), "overlapping_inputs": len(set(sets[0]) & set(sets[1])),
            "problems": problems, "held": not problems}
