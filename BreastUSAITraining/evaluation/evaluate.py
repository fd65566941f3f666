"""``evaluate``: a bundle on a labelled split of a dataset.

Classifiers: ``predictions.csv`` (one row per lesion), ``metrics.json`` (AUC with 95%
bootstrap CI, accuracy / sensitivity / specificity / PPV / NPV / F1 and the confusion
matrix at 0.5 and at Youden's threshold, Brier score, calibration bins, net benefit),
``roc.png`` (with a bootstrap band), ``confusion.png``, ``calibration.png``,
``decision_curve.png``. Segmentation models: ``predictions.csv`` (Dice / IoU per case)
and ``metrics.json``. Everything is written to a staging folder and moved into place whole.
``metrics.json`` also says whether the evaluated lesions were the model's training data or
chose its epoch (``data_overlap``, :mod:`.overlap`); those cases are logged as warnings. So is a
classifier whose probabilities are (nearly) all the same (``warnings``).
"""

from __future__ import annotations

import logging
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_directory, write_json_atomic
from ..bundle import load_bundle
from ..dataset import load_dataset
from ..errors import UsageError
from ..families import SEGMENTATION, family_for_task
from ..statistics import auc, bootstrap_auc_ci, threshold_metrics, youden_threshold
from ..training.device import resolve_device
from .overlap import evaluation_overlap
from .plots import calibration_bins, plot_calibration, plot_confusion, plot_decision_curve, plot_roc_with_band
from .predictions import lesion_rows, parse_split, segmentation_rows, write_rows_csv

log = logging.getLogger(__name__)


def classification_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """Every figure of SPEC 3.7 for one model on one set of lesions."""
    low, high = bootstrap_auc_ci(labels, scores, resamples=1000, seed=0)
    youden = youden_threshold(labels, scores)
    return {
        "lesions": int(labels.size), "malignant": int(labels.sum()),
        "auc": auc(labels, scores), "auc_ci95": [low, high], "auc_ci_method": "stratified bootstrap, 1000 resamples",
        "at_0.5": threshold_metrics(labels, scores, 0.5),
        "at_youden": threshold_metrics(labels, scores, youden),
        "brier": float(np.mean((scores - labels) ** 2)),
        "calibration": calibration_bins(labels, scores),
    }


def prediction_warnings(scores: np.ndarray, spread: float = 1e-3) -> list[str]:
    """What a reader of the metrics must know about the probabilities themselves: when every
    lesion got (nearly) the same one, the model does not tell them apart and its AUC only
    reflects ties and rounding (e.g. a training too short for its batch-norm statistics)."""
    low, high = float(scores.min()), float(scores.max())
    if high - low >= spread:
        return []
    return [f"every lesion's malignant probability lies within {low:.4f}-{high:.4f}: the model does not "
            "separate these lesions and its AUC is meaningless; check its training (training_log.csv in the "
            "bundle's logs: too few steps, a validation score that never moved)"]


def evaluate_bundle(bundle_path: str | Path, data_dir: str | Path, split: str, out: str | Path,
                    device: str = "auto", progress: bool = True) -> dict[str, Any]:
    """Evaluate and write the folder ``out``; returns the metrics document."""
    split_name, folds = parse_split(split)
    bundle = load_bundle(bundle_path)
    dataset = load_dataset(data_dir)
    if folds and not 0 <= folds[0] < dataset.n_folds:
        raise UsageError(f"{data_dir} has no fold {folds[0]} (folds 0..{dataset.n_folds - 1})")
    torch_device = resolve_device(device)
    document: dict[str, Any] = {"model": {"name": bundle.name, "version": bundle.version, "task": bundle.task,
                                          "weights_sha256": bundle.metadata["weights_sha256"]},
                                "dataset": dataset.name, "split": split,
                                "data_overlap": evaluation_overlap(bundle.metadata, dataset, split_name, folds)}
    for warning in document["data_overlap"]["warnings"]:
        log.warning("%s: %s", bundle.name, warning)
    with atomic_directory(out, overwrite=True) as staging:
        family = family_for_task(bundle.task, bundle_path)
        if family.role == SEGMENTATION:
            rows = segmentation_rows(bundle, torch_device, dataset, split_name, folds, progress)
            write_rows_csv(staging / "predictions.csv", rows)
            for key in ("dice", "iou"):
                values = [r[key] for r in rows]
                document[key] = {"mean": statistics.fmean(values), "sd": statistics.pstdev(values),
                                 "median": statistics.median(values), "n": len(values)}
        else:
            rows = lesion_rows(bundle, torch_device, dataset, split_name, folds, progress)
            write_rows_csv(staging / "predictions.csv", rows)
            labels = np.array([r["label"] for r in rows])
            scores = np.array([r["probability"] for r in rows])
            if labels.min() == labels.max():
                raise UsageError(f"split {split} holds only {'malignant' if labels[0] else 'benign'} lesions: no ROC")
            document.update(classification_metrics(labels, scores))
            document["warnings"] = prediction_warnings(scores)
            for warning in document["warnings"]:
                log.warning("%s: %s", bundle.name, warning)
            plot_roc_with_band(staging / "roc.png", labels, scores, bundle.name, tuple(document["auc_ci95"]))
            plot_confusion(staging / "confusion.png", document["at_0.5"], 0.5)
            plot_calibration(staging / "calibration.png", document["calibration"])
            _, document["decision_curve"] = plot_decision_curve(staging / "decision_curve.png", labels, scores)
        write_json_atomic(staging / "metrics.json", document)
    return document
