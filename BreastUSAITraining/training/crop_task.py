"""The training task shared by the lesion-crop classifiers (MUP-Net, DL-UM, the deep-radiomics CNN):
one training view of the crops and one validation - malignant probability per validation lesion,
AUC and accuracy - instead of a copy per family."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..statistics.roc import auc_and_accuracy
from .crop_dataset import CropDataset, stack_crops
from .task import TrainingTask

VALIDATION_BATCH = 32


class CropClassifierTask(TrainingTask):
    """Samples ``{"x": uint8 (C, S, S), "label"}``; subclasses give the network, the loss and how
    logits become a malignant probability (:meth:`probabilities`; default: softmax of 2 classes)."""

    metric = "auc"
    #: oversample the minority class in training
    oversample: bool = True

    def __init__(self, train_samples: list[dict[str, Any]], val_samples: list[dict[str, Any]], transform: Any) -> None:
        self.train_samples, self.val_samples, self.transform = train_samples, val_samples, transform

    def training_data(self) -> CropDataset:
        return CropDataset(self.train_samples, self.transform, self.oversample)

    def probabilities(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """(N,) malignant probability of a batch (N, C, S, S) in [0, 1]."""
        return torch.softmax(model(x).float(), 1)[:, 1]

    def validation_extras(self, model: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """More validation figures of one batch, summed over its samples (e.g. DL-UM's loss)."""
        return {}

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        if not self.val_samples:
            return {}
        x = stack_crops(self.val_samples)
        labels = torch.tensor([s["label"] for s in self.val_samples])
        probabilities, extras = [], {}
        for start in range(0, len(x), VALIDATION_BATCH):
            batch = x[start : start + VALIDATION_BATCH].to(device)
            probabilities.append(self.probabilities(model, batch).cpu().numpy())
            for key, value in self.validation_extras(model, batch, labels[start : start + VALIDATION_BATCH].to(device)).items():
                extras[key] = extras.get(key, 0.0) + value
        figures = auc_and_accuracy(labels.numpy(), np.concatenate(probabilities))
        return {**{key: value / len(x) for key, value in extras.items()}, **figures}
