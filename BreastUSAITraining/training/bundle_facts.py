"""What every trained bundle records about its training (metadata ``training`` / ``metrics``)."""

from __future__ import annotations

import platform
from typing import Any

import torch

from .. import __version__
from ..dataset.contract import Dataset
from .engine import TrainingResult, TrainingSettings


def training_facts(result: TrainingResult, settings: TrainingSettings, dataset: Dataset, selection: dict[str, Any]) -> dict[str, Any]:
    """Training data summary, settings, device, time and per-rank weight digests."""
    return {
        "data": {"dataset": dataset.name, "folder_name": dataset.root.name, **selection},
        "settings": {k: v for k, v in settings.to_json().items() if k not in ("run_dir", "progress")},
        "device": result.device,
        "processes": result.world_size,
        "rank_weight_sha256": result.rank_digests,
        "seconds": round(result.seconds, 1),
        "epochs_run": len(result.history),
        "resumed_from_epoch": result.resumed_from_epoch,
        "best_epoch": result.best_epoch,
        "software": {"engine": __version__, "torch": torch.__version__, "python": platform.python_version()},
    }
