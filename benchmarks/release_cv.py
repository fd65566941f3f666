"""What the release cross-validations share (``release_classifier_cv.py``, ``release_segmentation_cv.py``):
training a shipped recipe on all folds but one (resumable, final epoch kept), the fold files, the
linked groups of the release dataset, and AUC figures with a cluster-bootstrap CI."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tools")]

from release_recipes import recipe  # noqa: E402

from BreastUSAITraining.dataset.contract import Dataset  # noqa: E402
from BreastUSAITraining.dataset.folds import link_groups  # noqa: E402
from BreastUSAITraining.statistics import auc, bootstrap_auc_ci  # noqa: E402


def cli(*args: str, threads: int) -> None:
    """``python -m BreastUSAITraining -q ARGS`` with ``threads`` torch threads; fails loudly."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    subprocess.run([sys.executable, "-m", "BreastUSAITraining", "-q", *args], check=True, env=env)


def training_seconds(run_dir: Path, measured: float, bundle: Path | None = None) -> float:
    """Seconds the run trained: the sum of the epochs' ``seconds`` in ``run_dir/training_log.csv`` (every
    session of a resumed run, which a wall clock around the last session misses); without a log, the
    ``training.seconds`` the bundle's metadata records (a reused bundle: ``measured`` would be the
    instant it took to find it); ``measured`` when neither is there."""
    log = run_dir / "training_log.csv"
    if not log.is_file():
        metadata = bundle / "configs" / "metadata.json" if bundle else None
        if metadata and metadata.is_file():
            recorded = json.loads(metadata.read_text()).get("training", {}).get("seconds")
            if recorded is not None:
                return float(recorded)
        return measured
    with open(log, newline="") as handle:
        return float(sum(float(row["seconds"]) for row in csv.DictReader(handle)))


def train_fold(model: str, data: Path, work: Path, fold: int, threads: int,
               arguments: tuple[str, ...] | None = None) -> tuple[Path, float]:
    """Train ``model``'s recipe (or the training ``arguments`` given) with ``fold`` held out (kept: the
    final epoch), resuming a killed run; an existing bundle is reused. Returns the bundle and its training seconds
    (:func:`training_seconds`)."""
    bundle, run_dir = work / f"fold{fold}", work / f"fold{fold}.run"
    started = time.perf_counter()
    if not (bundle / "configs" / "metadata.json").exists():
        resume = ["--resume"] if (run_dir / "checkpoints" / "last.pt").exists() else []
        cli("train", *(arguments or recipe(model).train), "--data", str(data), "--out", str(bundle), "--run-dir", str(run_dir),
            "--val-fold", str(fold), "--keep", "last", "--device", "cpu", "--overwrite", *resume, threads=threads)
    return bundle, training_seconds(run_dir, time.perf_counter() - started, bundle)


def train_whole(model: str, data: Path, bundle: Path, threads: int) -> tuple[Path, float]:
    """Train ``model``'s recipe on every training item of ``data`` (``--val-fold none``, the final
    epoch kept), resuming a killed run; an existing bundle is reused. Returns the bundle and seconds."""
    run_dir = bundle.with_name(bundle.name + ".run")
    started = time.perf_counter()
    if not (bundle / "configs" / "metadata.json").exists():
        resume = ["--resume"] if (run_dir / "checkpoints" / "last.pt").exists() else []
        cli("train", *recipe(model).train, "--data", str(data), "--out", str(bundle), "--run-dir", str(run_dir),
            "--val-fold", "none", "--keep", "last", "--device", "cpu", "--overwrite", *resume, threads=threads)
    return bundle, training_seconds(run_dir, time.perf_counter() - started, bundle)


def run_missing_folds(folds: list[int], results: Path, run: Callable[[int], None]) -> None:
    """``run(fold)`` for every fold without a result file in ``results``."""
    for fold in folds:
        if (results / f"fold{fold}.json").exists():
            print(f"fold {fold}: done already ({results / f'fold{fold}.json'})")
            continue
        print(f"fold {fold}: training and scoring ...", flush=True)
        run(fold)


def fold_documents(results: Path) -> list[dict]:
    """The finished fold files, in fold order."""
    return [json.loads(path.read_text()) for path in sorted(results.glob("fold*.json"))]


def case_groups(dataset: Dataset) -> dict[str, int]:
    """case id -> its linked group (same case, patient or duplicate group): the unit of every CI."""
    group_of = {}
    for number, group in enumerate(link_groups(dataset.items)):
        for index in group:
            group_of[dataset.items[index].case_id] = number
    return group_of


def auc_figures(labels: np.ndarray, scores: np.ndarray, groups: list) -> dict:
    """Lesions, malignant, AUC and its 95% CI resampling whole groups."""
    low, high = bootstrap_auc_ci(labels, scores, groups=groups)
    return {"lesions": int(labels.size), "malignant": int(labels.sum()), "auc": round(auc(labels, scores), 4),
            "auc_ci95_cluster": [round(low, 4), round(high, 4)], "groups": len(set(groups))}
