"""The plane classifier as a :class:`~BreastUSAITraining.training.TrainingTask`.

Training: each step takes one random frame of each plane of a lesion (frames of one
plane are interchangeable views), augments the stacked planes together and learns
from the fused output plus, at weight 0.3, each plane's own head. Minority-class
lesions are oversampled (SPEC 3.3 did the same for MUP-Net). Validation: every frame,
probabilities averaged per lesion (seed 004), AUC.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.transforms import Compose, RandAdjustContrastd, RandAffined, RandFlipd, RandScaleIntensityd
from torch import nn
from torch.utils.data import Dataset

from ..networks.three_plane import ThreePlaneClassifier
from ..statistics.roc import auc_and_accuracy
from ..training.crop_dataset import CropDataset
from ..training.task import TrainingTask

PLANE_HEAD_WEIGHT = 0.3


def plane_augmentation() -> Compose:
    """Joint augmentation of (P, S, S) unit-range planes: left-right flip, +-10 degrees,
    crop 90-110%, gain and gamma (SPEC 3.3's recipe)."""
    return Compose([
        RandFlipd(keys="image", prob=0.5, spatial_axis=1),
        RandAffined(keys="image", prob=0.8, rotate_range=(math.radians(10),), scale_range=(0.1, 0.1),
                    translate_range=(8, 8), padding_mode="zeros"),
        RandScaleIntensityd(keys="image", factors=0.1, prob=0.5),
        RandAdjustContrastd(keys="image", prob=0.4, gamma=(0.8, 1.25)),
    ])


class LesionFrameDataset(CropDataset):
    """Training view of lesion samples: a random frame of each plane, augmented, oversampled."""

    clamp = False

    def unit_image(self, sample: dict[str, Any]) -> torch.Tensor:
        frames = sample["frames"]
        picks = np.random.randint(0, frames.shape[0], size=frames.shape[1])
        return torch.as_tensor(np.stack([frames[f, p] for p, f in enumerate(picks)]).astype(np.float32) / 255.0)


class PlaneClassifierTask(TrainingTask):
    """Train :class:`~BreastUSAITraining.networks.three_plane.ThreePlaneClassifier` on lesion samples."""

    name = "abvs-planes"
    metric = "auc"

    def __init__(self, train_samples: list[dict[str, Any]], val_samples: list[dict[str, Any]], planes: str, backbone: str,
                 oversample: bool = True, initial_weights: dict[str, torch.Tensor] | None = None,
                 description: dict[str, Any] | None = None, augment: bool = True, width: float = 1.0) -> None:
        self.train_samples, self.val_samples = train_samples, val_samples
        self.width = width
        self.planes, self.backbone, self.oversample = planes, backbone, oversample
        self.initial_weights = initial_weights
        self.augment = augment
        self.transform = plane_augmentation() if augment else None
        self.description = dict(description or {})

    def network_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {"planes": self.planes, "backbone": self.backbone}
        if self.width != 1.0:  # bundles of full-width networks keep their earlier arguments
            arguments["width"] = self.width
        return arguments

    def build_model(self) -> nn.Module:
        model = ThreePlaneClassifier(**self.network_arguments())
        if self.initial_weights is not None:
            model.load_state_dict(self.initial_weights, strict=False)
        return model

    def training_data(self) -> Dataset:
        return LesionFrameDataset(self.train_samples, self.transform, self.oversample)

    def training_loss(self, model: nn.Module, batch: Any, device: torch.device) -> torch.Tensor:
        image, label = batch["image"].to(device), batch["label"].to(device)
        fused, per_plane = model(image, with_planes=True)  # through the DDP wrapper when distributed
        loss = F.cross_entropy(fused.float(), label)
        planes = per_plane.float()
        plane_loss = F.cross_entropy(planes.reshape(-1, 2), label.repeat_interleave(planes.shape[1]))
        return loss + PLANE_HEAD_WEIGHT * plane_loss

    def lesion_probabilities(self, model: nn.Module, device: torch.device) -> np.ndarray:
        """Malignant probability per validation lesion (mean over its frames)."""
        out = []
        for sample in self.val_samples:
            x = torch.as_tensor(sample["frames"], dtype=torch.float32, device=device) / 255.0
            out.append(float(torch.softmax(model(x).float(), dim=1)[:, 1].mean()))
        return np.array(out)

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        if not self.val_samples:
            return {}
        labels = np.array([s["label"] for s in self.val_samples])
        probability = self.lesion_probabilities(model, device)
        clipped = np.clip(probability, 1e-6, 1 - 1e-6)
        loss = float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))
        return {**auc_and_accuracy(labels, probability), "loss": loss}

    def fingerprint(self) -> dict[str, Any]:
        return {"task": self.name, **self.network_arguments(), "oversample": self.oversample, "augment": self.augment,
                "train_lesions": len(self.train_samples), "val_lesions": len(self.val_samples), **self.description}
