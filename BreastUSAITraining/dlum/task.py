"""DL-UM training task: focal + deep supervision + branch consistency; validation loss
selects the model (SPEC 3.4); AUC is logged beside it."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from ..statistics.roc import auc_and_accuracy
from ..training.crop_dataset import CropDataset, crop_augmentation, stack_crops
from .loss import dlum_loss
from .network import DLUM


class DLUMTask:
    name = "dlum"
    metric = "loss"
    metric_goal = "min"

    def __init__(self, train_samples: list[dict[str, Any]], val_samples: list[dict[str, Any]], variant: str, width: float,
                 augment: bool = True, description: dict[str, Any] | None = None) -> None:
        self.train_samples, self.val_samples = train_samples, val_samples
        self.variant, self.width, self.augment = variant, width, augment
        self.transform = crop_augmentation() if augment else None
        self.description = dict(description or {})

    def network_arguments(self) -> dict[str, Any]:
        return {"variant": self.variant, "width": self.width}

    def build_model(self) -> nn.Module:
        return DLUM(**self.network_arguments())

    def training_data(self) -> Dataset:
        return CropDataset(self.train_samples, self.transform, oversample=False)

    def set_epoch_seed(self, seed: int) -> None:
        if self.transform is not None:
            self.transform.set_random_state(seed=seed)

    def training_loss(self, model: nn.Module, batch: Any, device: torch.device) -> torch.Tensor:
        image, label = batch["image"].to(device), batch["label"].to(device)
        final, block_logits, _ = model(image, with_details=True)
        return dlum_loss(final, block_logits, label)["total"]

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        if not self.val_samples:
            return {}
        x = stack_crops(self.val_samples)
        y = torch.tensor([s["label"] for s in self.val_samples])
        losses, probabilities = [], []
        for start in range(0, len(x), 16):
            final, blocks, _ = model(x[start : start + 16].to(device), with_details=True)
            losses.append(float(dlum_loss(final, blocks, y[start : start + 16].to(device))["total"]) * len(final))
            probabilities.append(torch.sigmoid(final.float()).cpu().numpy())
        p, labels = np.concatenate(probabilities), y.numpy()
        return {"loss": sum(losses) / len(x), **auc_and_accuracy(labels, p)}

    def fingerprint(self) -> dict[str, Any]:
        return {"task": self.name, **self.network_arguments(), "augment": self.augment,
                "train_lesions": len(self.train_samples), "val_lesions": len(self.val_samples), **self.description}
