"""``train dlum``: dataset with ultrasound and mammography of each lesion -> DL-UM / DL-U / DL-M bundle."""

from __future__ import annotations

import logging
from pathlib import Path

from ..bundle import save_bundle
from ..networks import network_config
from ..training import TrainingSettings, train
from ..training.bundle_facts import run_log_files, training_facts
from ..training.crop_training import crop_training_data
from .options import DLUMOptions  # noqa: E402,F401 (re-exported)
from .task import DLUMTask

log = logging.getLogger(__name__)


def train_dlum(data_dir: str | Path, out: str | Path, options: DLUMOptions, settings: TrainingSettings) -> Path | None:
    data = crop_training_data(data_dir, options, lambda _dataset: options.modalities, f"{options.variant} needs benign and "
                              "malignant lesions with {modalities} images", settings.progress)
    dataset, modalities, train_samples, val_samples = data.dataset, data.modalities, data.train_samples, data.val_samples
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
