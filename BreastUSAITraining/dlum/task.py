"""DL-UM training task: focal + deep supervision + branch consistency; validation loss
selects the model (SPEC 3.4); AUC is logged beside it."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..training.crop_dataset import crop_augmentation
from ..training.crop_task import CropClassifierTask
from .loss import dlum_loss
from .network import DLUM


class DLUMTask(CropClassifierTask):
    name = "dlum"
    metric = "loss"
    metric_goal = "min"
    oversample = False

    def __init__(self, train_samples: list[dict[str, Any]], val_samples: list[dict[str, Any]], variant: str, width: float,
                 augment: bool = True, description: dict[str, Any] | None = None) -> None:
        super().__init__(train_samples, val_samples, crop_augmentation() if augment else None)
        self.variant, self.width, self.augment = variant, width, augment
        self.description = dict(description or {})

    def network_arguments(self) -> dict[str, Any]:
        return {"variant": self.variant, "width": self.width}

    def build_model(self) -> nn.Module:
        return DLUM(**self.network_arguments())

    def training_loss(self, model: nn.Module, batch: Any, device: torch.device) -> torch.Tensor:
        image, label = batch["image"].to(device), batch["label"].to(device)
        final, block_logits, _ = model(image, with_details=True)
        return dlum_loss(final, block_logits, label)["total"]

    def probabilities(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        final, _, _ = model(x, with_details=True)
        return torch.sigmoid(final.float()).reshape(-1)

    def validation_extras(self, model: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """The training loss on the validation lesions (summed; the model is selected by its mean)."""
        final, blocks, _ = model(x, with_details=True)
        return {"loss": float(dlum_loss(final, blocks, labels)["total"]) * len(final)}

    def fingerprint(self) -> dict[str, Any]:
        return {"task": self.name, **self.network_arguments(), "augment": self.augment,
                "train_lesions": len(self.train_samples), "val_lesions": len(self.val_samples), **self.description}
