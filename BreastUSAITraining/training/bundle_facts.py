"""What every trained model family shares around the engine: the validation fold, the
training facts a bundle records, and the run's log files copied into the bundle."""

from __future__ import annotations

import logging
import platform
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..dataset.contract import Dataset
from ..errors import UsageError
from .engine import TrainingResult, TrainingSettings

log = logging.getLogger(__name__)
LOG_FILES = ("training_log.csv", "training_curves.png")


def resolve_val_fold(dataset: Dataset, val_fold: int | None) -> int | None:
    """The validation fold to use: None when asked for none or when the dataset has no
    folds (with a warning); a fold the dataset lacks is a usage error."""
    if val_fold is not None and dataset.n_folds == 0:
        log.warning("%s has no folds: training on everything without validation (the last epoch is kept)", dataset.root)
        return None
    if val_fold is not None and not 0 <= val_fold < dataset.n_folds:
        raise UsageError(f"--val-fold {val_fold} does not exist: {dataset.root} has folds 0..{dataset.n_folds - 1}")
    return val_fold


def run_log_files(run_dir: Path) -> dict[str, Path]:
    """Bundle-relative name -> file of the run's logs that exist (for ``save_bundle``)."""
    return {f"logs/{name}": Path(run_dir) / name for name in LOG_FILES if (Path(run_dir) / name).exists()}


def training_facts(result: TrainingResult, settings: TrainingSettings, dataset: Dataset, selection: dict[str, Any]) -> dict[str, Any]:
    """Training data summary, settings, device, time and per-rank weight digests."""
    val_fold = selection.get("val_fold")
    training_split = [item for item in dataset.items if item.split == "training"]
    return {
        "data": {"dataset": dataset.name, "folder_name": dataset.root.name, **selection,
                 # by content, so that evaluate can tell which images the model saw, whatever the dataset is named
                 "training_case_ids": sorted({i.case_id for i in training_split if val_fold is None or i.fold != val_fold}),
                 "validation_case_ids": sorted({i.case_id for i in training_split
                                                if val_fold is not None and i.fold == val_fold})},
        "settings": {k: v for k, v in settings.to_json().items() if k not in ("run_dir", "progress")},
        "device": result.device,
        "mixed_precision": result.mixed_precision,
        "processes": result.world_size,
        "rank_weight_sha256": result.rank_digests,
        "seconds": round(result.seconds, 1),
        "epochs_run": len(result.history),
        "resumed_from_epoch": result.resumed_from_epoch,
        "best_epoch": result.best_epoch,
        "software": {"engine": __version__, "torch": torch.__version__, "python": platform.python_version()},
    }
