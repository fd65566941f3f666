"""What a model family tells the training engine: a base class whose hooks do nothing until a
family overrides them (no ``hasattr`` probing in the engine)."""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn
from torch.utils.data import Dataset


class TrainingTask:
    """One family's training. Override the five required methods; the hooks are optional."""

    #: short name used in logs ("segmentation", "abvs-planes", ...)
    name: str = "task"
    #: validation metric ("dice", "auc", "loss" ...) and whether higher or lower is better
    metric: str = "auc"
    metric_goal: str = "max"
    #: a DataLoader collate_fn when batches need one (None: PyTorch's default)
    collate: Callable | None = None
    #: the training augmentation (a MONAI Compose re-seeded every epoch), if any
    transform: Any = None

    # -- required ------------------------------------------------------------------------
    def build_model(self) -> nn.Module:
        raise NotImplementedError

    def training_data(self) -> Dataset:
        raise NotImplementedError

    def training_loss(self, model: nn.Module, batch: Any, device: torch.device) -> torch.Tensor:
        raise NotImplementedError

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Validation figures; must hold ``self.metric`` (empty dict: no validation data)."""
        raise NotImplementedError

    def fingerprint(self) -> dict[str, Any]:
        """JSON-safe description of the model and data; a resumed run must match it."""
        raise NotImplementedError

    # -- hooks (no-ops unless overridden) ------------------------------------------------
    def set_epoch_seed(self, seed: int) -> None:
        """Re-seed the random augmentations (called at the start of every epoch)."""
        if self.transform is not None:
            self.transform.set_random_state(seed=seed)

    def parameter_groups(self, model: nn.Module, lr: float) -> list[Any]:
        """The optimiser's parameters (default: every trainable one; override for per-part rates)."""
        return [p for p in model.parameters() if p.requires_grad]

    def on_epoch_start(self, model: nn.Module, epoch: int) -> None:
        """E.g. freeze / unfreeze parts (MUP-Net's warm-up)."""

    def on_epoch_end(self, model: nn.Module, epoch: int, device: torch.device) -> None:
        """E.g. MUP-Net's push and last-layer phase."""

    def selectable(self, epoch: int) -> bool:
        """False for epochs that may not become the bundle."""
        return True
