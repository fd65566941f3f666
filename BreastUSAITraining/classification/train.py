"""``train abvs-planes``: dataset -> three-plane (ABVS) or single-plane (2D) classifier bundle."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..bundle import save_bundle
from ..bundle.bundle import read_state_dict
from ..dataset import load_dataset
from ..dataset.loader import fold_split
from ..errors import UsageError
from ..networks import network_config
from ..networks.three_plane import PLANE_NAMES
from ..training import TrainingSettings, train
from ..training.bundle_facts import resolve_val_fold, run_log_files, training_facts
from .options import PlaneClassifierOptions  # noqa: E402,F401 (re-exported)
from .samples import build_lesion_samples
from .task import PlaneClassifierTask

log = logging.getLogger(__name__)


def _modality_of(dataset_items: list[dict[str, Any]]) -> str:
    kinds = {item["modality"] for item in dataset_items}
    if "abvs" in kinds:
        return "abvs"
    return sorted(kinds)[0]


def train_plane_classifier(data_dir: str | Path, out: str | Path, options: PlaneClassifierOptions,
                           settings: TrainingSettings) -> Path | None:
    """Train and write the bundle (rank 0 only; other ranks return None)."""
    problems = options.problems()
    if problems:
        raise UsageError("; ".join(problems))
    dataset = load_dataset(data_dir)
    options.val_fold = resolve_val_fold(dataset, options.val_fold)
    training, validation = fold_split(dataset, options.val_fold)
    if not training:
        raise UsageError(f"{data_dir}: no labelled lesion (benign / malignant with a segment) to train on")
    modality = _modality_of(training)
    training = [i for i in training if i["modality"] == modality]
    validation = [i for i in validation if i["modality"] == modality]
    planes = options.planes if modality == "abvs" else "T"
    if planes != options.planes:
        log.info("%s holds 2D %s images: training a single-plane classifier on lesion crops", data_dir, modality)
    labels = {i["label"] for i in training}
    if labels != {0, 1}:
        raise UsageError(f"{data_dir}: training needs benign and malignant lesions, found only {sorted(labels)}")
    frames = options.frames if modality == "abvs" else 1
    train_samples = build_lesion_samples(training, planes, frames, options.size, options.margin, settings.progress)
    val_samples = build_lesion_samples(validation, planes, frames, options.size, options.margin, settings.progress)
    weights = read_state_dict(options.weights) if options.weights else None
    task = PlaneClassifierTask(train_samples, val_samples, planes, options.backbone, options.oversample, weights,
                               {"dataset": dataset.name, "val_fold": options.val_fold, "modality": modality,
                                "size": options.size, "frames": frames, "margin": options.margin},
                               augment=options.augment, width=options.width)
    result = train(task, settings)
    if not result.is_main:
        return None
    best = next((row for row in result.history if row["epoch"] == result.best_epoch), {})
    selection = {"val_fold": options.val_fold, "modality": modality,
                 "training_lesions": len(train_samples), "validation_lesions": len(val_samples),
                 "training_malignant": sum(s["label"] for s in train_samples),
                 "validation_malignant": sum(s["label"] for s in val_samples),
                 "initial_weights": Path(options.weights).name if options.weights else "random",
                 "augmentation": options.augment, "oversampling": options.oversample}
    metadata = {
        "task": "abvs-planes",
        "name": f"{'three' if len(planes) == 3 else 'single' if len(planes) == 1 else 'two'}-plane-{options.backbone}-{planes}",
        "version": "1.0",
        "description": f"Benign / malignant lesion classifier, one {options.backbone}"
                       + (f" (width x{options.width:g})" if options.width != 1.0 else "") + f" per plane ({planes}), "
                       "fusion add(T, S) + concat(C) (seed 004), trained by BreastUSAI",
        "inputs": {"image": {"modality": modality, "planes": [PLANE_NAMES[p] for p in planes], "frames": frames,
                             "size": [options.size, options.size], "margin": options.margin,
                             "intensity": "percentile 0.5-99.5 to [0, 1] per crop"},
                   "lesion": "a mask per lesion (segmentation model or drawn)"},
        "outputs": {"classes": ["benign", "malignant"], "probability": "malignant, fused and per plane; mean over frames"},
        "metrics": {"validation_auc": result.best_metric, "validation_accuracy": best.get("val_accuracy"),
                    "best_epoch": result.best_epoch},
        "training": training_facts(result, settings, dataset, selection),
    }
    inference = {"network": network_config("three_plane", **task.network_arguments()), "planes": planes,
                 "modality": modality, "size": options.size, "frames": frames, "margin": options.margin,
                 "threshold": 0.5, "flip_tta": options.flip_tta, "gradcam_layers": {p: f"branches.{p}.layer4" for p in planes}}
    path = save_bundle(out, result.model.state_dict(), metadata, inference, run_log_files(settings.run_dir))
    log.info("classifier bundle written to %s (validation AUC %s)", path, result.best_metric)
    return path
