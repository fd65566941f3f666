"""Killed runs: SIGKILL at random moments, then look at what is on disk.

* training: every checkpoint on disk loads, the bundle folder is absent or whole, the run
  resumes (``--resume``) and, on CPU with fixed seeds, ends with exactly the weights of an
  uninterrupted run;
* export (Slicer logic, real MRML) and ``predict``: the output is the old complete one or
  the new complete one, never a mixture or a half-written folder.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _train_command(data: Path, out: Path, epochs: int) -> list[str]:
    return [sys.executable, "-m", "BreastUSAITraining", "train", "segmentation", "--data", str(data), "--out", str(out),
            "--size", "32", "--channels", "4", "--epochs", str(epochs), "--batch-size", "4", "--seed", "7", "-q",
            "--resume", "--overwrite"]


def _run_until(command: list[str], delay_s: float, cwd: Path = REPO) -> tuple[bool, int | None]:
    """Start ``command``; SIGKILL it after ``delay_s`` unless it ended. Returns (killed, exit code)."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        process.wait(delay_s)
        return False, process.returncode
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True, None


def _weights(bundle: Path) -> dict:
    from BreastUSAITraining.bundle import load_bundle

    return load_bundle(bundle).state_dict


def _on_disk_problems(bundle: Path) -> list[str]:
    """Checkpoints that do not load, or a bundle folder that is not whole."""
    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.training.checkpoint import load_checkpoint

    problems = []
    run = bundle.parent / f"{bundle.name}.run" / "checkpoints"
    for checkpoint in sorted(run.glob("*.pt")) if run.is_dir() else []:
        try:
            load_checkpoint(checkpoint)
        except Exception as error:  # noqa: BLE001 - any failure to load is the finding
            problems.append(f"{checkpoint.name}: {error}")
    if bundle.exists():
        try:
            load_bundle(bundle)
        except Exception as error:  # noqa: BLE001
            problems.append(f"bundle: {error}")
    return problems


def killed_training(data: Path, work: Path, kills: int, epochs: int = 10, seed: int = 0) -> dict:
    """Kill moments are uniform over the length of an uninterrupted run (start-up, epochs,
    checkpoint writes and the final bundle write all get hit)."""
    import torch

    work.mkdir(parents=True, exist_ok=True)
    reference = work / "uninterrupted"
    started = time.perf_counter()
    killed, code = _run_until(_train_command(data, reference, epochs), 1800)
    max_delay_s = time.perf_counter() - started
    if killed or code != 0:
        raise RuntimeError("the uninterrupted reference run failed")
    expected = _weights(reference)
    rng = np.random.default_rng(seed)
    done, runs, problems, equal_runs, delays = 0, 0, [], 0, []
    while done < kills:
        bundle = work / f"killed_{runs}"
        runs += 1
        while True:
            delay = float(rng.uniform(0.3, max_delay_s)) if done < kills else 1800.0
            was_killed, code = _run_until(_train_command(data, bundle, epochs), delay)
            if was_killed:
                done += 1
                delays.append(round(delay, 2))
                problems += [f"kill {done}: {p}" for p in _on_disk_problems(bundle)]
                continue
            if code != 0:
                problems.append(f"run {bundle.name}: resumed run exited {code}")
                break
            final = _weights(bundle)
            if set(final) == set(expected) and all(torch.equal(final[k], expected[k]) for k in final):
                equal_runs += 1
            else:
                problems.append(f"run {bundle.name}: final weights differ from the uninterrupted run")
            break
    return {"kills": done, "runs": runs, "runs_with_identical_weights": equal_runs, "kill_delays_s": delays,
            "uninterrupted_run_s": round(max_delay_s, 1), "epochs": epochs,
            "problems": problems, "held": done if not problems else done - len(problems)}


def _complete_prediction(folder: Path) -> str | None:
    """None when ``folder`` holds a whole predict result, else what is wrong."""
    from BreastUSAITraining.imagefiles import read_image, read_segmentation

    try:
        document = json.loads((folder / "result.json").read_text())
        if document.get("lesions"):
            read_segmentation(folder / "lesions.seg.nrrd")
        for lesion in document.get("lesions", []):
            if lesion.get("heatmap"):
                read_image(folder / lesion["heatmap"]["file"])
    except Exception as error:  # noqa: BLE001
        return f"{folder.name}: {error}"
    return None


def killed_predict(inputs: list[Path], bundles: list[Path], work: Path, kills: int, seed: int = 0) -> dict:
    """Old results present; a new ``predict`` into the same folder is killed at random."""
    out = work / "predict_out"
    # every run replaces the previous results (--overwrite): the kills land while it does
    command = [sys.executable, "-m", "BreastUSAITraining", "predict", *map(str, inputs), "--out", str(out), "--device", "cpu",
               "--progress", "none", "-q", "--overwrite"]
    for bundle in bundles:
        command += ["--model", str(bundle)]
    killed, code = _run_until(command, 1800)
    if killed or code != 0:
        raise RuntimeError("the first predict run failed")
    rng = np.random.default_rng(seed)
    problems, delays = [], []
    for n in range(kills):
        delay = float(rng.uniform(0.5, 12.0))
        delays.append(round(delay, 2))
        killed, code = _run_until(command, delay)
        if not killed and code != 0:
            problems.append(f"kill {n + 1}: the run ended with exit code {code} before the kill (refused?)")
        for folder in sorted(p for p in out.iterdir() if not p.name.startswith(".")):
            problem = _complete_prediction(folder)
            if problem:
                problems.append(f"kill {n + 1}: {problem}")
        missing = {i.name.split(".")[0] for i in inputs} - {p.name for p in out.iterdir()}
        if missing:
            problems.append(f"kill {n + 1}: results of {sorted(missing)} vanished")
    return {"kills": kills, "kill_delays_s": delays, "problems": problems, "held": kills - len({p.split(':')[0] for p in problems})}


def killed_export(dataset: Path, work: Path, kills: int, seed: int = 0) -> dict:
    """An export of 3 cases exists; an export of 6 cases into the same folder is killed at
    moments spread over its length. Held: the folder then holds exactly the old complete
    export or exactly the new one (dataset.json byte for byte), and it validates."""
    from BreastUSAITraining.dataset.validate import validate_dataset_folder

    out = work / "export_out"
    job = [sys.executable, str(HERE / "export_job.py"), str(dataset), str(out)]
    if _run_until(job + ["6"], 1800) != (False, 0):
        raise RuntimeError("the export of 6 cases failed")
    new = (out / "dataset.json").read_bytes()
    started = time.perf_counter()
    if _run_until(job + ["3"], 1800) != (False, 0):
        raise RuntimeError("the export of 3 cases failed")
    duration = time.perf_counter() - started
    old = (out / "dataset.json").read_bytes()
    rng = np.random.default_rng(seed)
    problems, delays, seen = [], [], {"old": 0, "new": 0}
    for n in range(kills):
        delay = float(rng.uniform(0.2, duration * 1.1))
        delays.append(round(delay, 2))
        _run_until(job + ["6"], delay)
        current = (out / "dataset.json").read_bytes() if (out / "dataset.json").is_file() else b""
        violations = validate_dataset_folder(out, deep=True) if current else ["dataset.json missing"]
        if violations:
            problems.append(f"kill {n + 1}: {violations[0]}")
        elif current not in (old, new):
            problems.append(f"kill {n + 1}: the export is neither the old nor the new one")
        else:
            seen["old" if current == old else "new"] += 1
        if current == new:  # the new export landed: put the old one back so the next kill tests a swap again
            _run_until(job + ["3"], 1800)
    return {"kills": kills, "kill_delays_s": delays, "export_s": round(duration, 1), "found_after_kill": seen,
            "problems": problems, "held": kills - len(problems)}
