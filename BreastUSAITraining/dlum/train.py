"""``train dlum``: dataset with ultrasound and mammography of each lesion -> DL-UM / DL-U / DL-M bundle."""

from __future__ import annotations

import logging
from pathlib import Path

from ..bundle import save_bundle
from ..dataset import load_dataset
from ..dataset.loader import fold_split
from ..errors import UsageError
from ..networks import network_config
from ..planes.lesion_crops import build_lesion_crop_samples
from ..training import TrainingSettings, train
from ..training.bundle_facts import resolve_val_fold, run_log_files, training_facts
from .options import DLUMOptions  # noqa: E402,F401 (re-exported)
from .task import DLUMTask

log = logging.getLogger(__name__)


def train_dlum(data_dir: str | Path, out: str | Path, options: DLUMOptions, settings: TrainingSettings) -> Path | None:
    problems = options.problems()
    if problems:
        raise UsageError("; ".join(problems))
    dataset = load_dataset(data_dir)
    options.val_fold = resolve_val_fold(dataset, options.val_fold)
    modalities = options.modalities
    training, validation = fold_split(dataset, options.val_fold, modalities=modalities)
    if {i["label"] for i in training} != {0, 1}:
        raise UsageError(f"{data_dir}: {options.variant} needs benign and malignant lesions with {' and '.join(modalities)} images")
    train_samples = build_lesion_crop_samples(training, modalities, options.size, options.margin, settings.progress)
    val_samples = build_lesion_crop_samples(validation, modalities, options.size, options.margin, settings.progress)
    task = DLUMTask(train_samples, val_samples, options.variant, options.width, options.augment,
                    {"dataset": dataset.name, "val_fold": options.val_fold, "size": options.size, "modalities": modalities})
    result = train(task, settings)
    if not result.is_main:
        return None
    best = next((row for row in result.history if row["epoch"] == result.best_epoch), {})
    metadata = {
        "task": "dlum",
        "name": f"{options.variant}-{'-'.join(m.replace('us_', '').replace('mg_', 'mg-') for m in modalities)}",
        "version": "1.0",
        "description": f"{options.variant.upper()} ultrasound + mammography network (Breast Cancer Res 2025), trained by BreastUSAI",
        "inputs": {"modalities": modalities, "size": [options.size, options.size], "margin": options.margin,
                   "intensity": "percentile 0.5-99.5 to [0, 1] per crop"},
        "outputs": {"classes": ["benign", "malignant"], "explanation": "probability per head, CAM of every block"},
        "metrics": {"validation_loss": result.best_metric, "validation_auc": best.get("val_auc"),
                    "best_epoch": result.best_epoch, "selection": "lowest validation loss"},
        "training": training_facts(result, settings, dataset, {"val_fold": options.val_fold, "modalities": modalities,
                                                                "training_lesions": len(train_samples),
                                                                "validation_lesions": len(val_samples)}),
    }
    inference = {"network": network_config("dlum", **task.network_arguments()), "modalities": modalities,
                 "size": options.size, "margin": options.margin, "threshold": 0.5}
    path = save_bundle(out, result.model.state_dict(), metadata, inference, run_log_files(settings.run_dir))
    log.info("%s bundle written to %s", options.variant, path)
    return path
