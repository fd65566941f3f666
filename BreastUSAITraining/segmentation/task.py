"""Segmentation as a :class:`~BreastUSAITraining.training.TrainingTask`: Dice + cross-entropy
loss, validation by mean Dice over lesion-bearing samples (lesion-free ones count in the loss)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from monai.data import Dataset, list_data_collate
from monai.inferers import sliding_window_inference
from monai.losses import DiceCELoss
from torch import nn

from ..networks.segmentation import MONAI_ENCODER_BN_MOMENTUM, build_segmentation_network
from ..training.task import TrainingTask
from .augment import training_transforms_2d, training_transforms_3d


def dice_and_iou(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Dice and IoU of two bool masks (both empty: 1, 1)."""
    predicted, truth = predicted.astype(bool), truth.astype(bool)
    inter = float(np.logical_and(predicted, truth).sum())
    total = float(predicted.sum() + truth.sum())
    union = total - inter
    if total == 0:
        return 1.0, 1.0
    return 2 * inter / total, inter / union


class SegmentationTask(TrainingTask):
    """Train a 2D or 3D lesion segmentation network on prepared samples."""

    name = "segmentation"
    metric = "dice"
    collate = staticmethod(list_data_collate)

    def __init__(self, train_samples: list[dict[str, Any]], val_samples: list[dict[str, Any]], arch: str = "unet",
                 spatial_dims: int = 2, base_channels: int = 32, augment: float = 1.0,
                 patch_kji: tuple[int, int, int] = (32, 64, 64), description: dict[str, Any] | None = None,
                 encoder_bn_momentum: float | None = None) -> None:
        self.train_samples, self.val_samples = train_samples, val_samples
        self.arch, self.spatial_dims, self.base_channels = arch, spatial_dims, base_channels
        self.encoder_bn_momentum = encoder_bn_momentum
        self.patch_kji = tuple(int(v) for v in patch_kji)
        self.augment = augment
        self.transform = training_transforms_2d(augment) if spatial_dims == 2 else training_transforms_3d(self.patch_kji)
        self.loss = DiceCELoss(to_onehot_y=True, softmax=True, batch=True)
        self.description = dict(description or {})
        self.initial_weights: dict[str, torch.Tensor] | None = None  # start from these instead of random init

    def network_arguments(self) -> dict[str, Any]:
        """The bundle's network arguments; MONAI's own encoder momentum is left out (as in older bundles)."""
        arguments: dict[str, Any] = {"arch": self.arch, "spatial_dims": self.spatial_dims, "base_channels": self.base_channels}
        if self.encoder_bn_momentum not in (None, MONAI_ENCODER_BN_MOMENTUM):
            arguments["encoder_bn_momentum"] = self.encoder_bn_momentum
        return arguments

    def build_model(self) -> nn.Module:
        model = build_segmentation_network(**self.network_arguments())
        if self.initial_weights is not None:
            model.load_state_dict(self.initial_weights, strict=True)
        return model

    def training_data(self) -> Dataset:
        return Dataset(self.train_samples, transform=self.transform)

    def training_loss(self, model: nn.Module, batch: Any, device: torch.device) -> torch.Tensor:
        image = batch["image"].to(device, non_blocking=True)
        label = batch["label"].to(device, non_blocking=True)
        return self.loss(model(image), label)

    def logits(self, model: nn.Module, image_u8: np.ndarray, device: torch.device) -> torch.Tensor:
        """Logits of samples (B, 1, ...) uint8 (whole volumes by sliding window in 3D)."""
        x = torch.as_tensor(image_u8, dtype=torch.float32, device=device) / 255.0
        if self.spatial_dims == 3:
            return sliding_window_inference(x, self.patch_kji, sw_batch_size=4, predictor=model, overlap=0.25)
        return model(x)

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        if not self.val_samples:
            return {}
        dices, ious, losses = [], [], []
        step = 16 if self.spatial_dims == 2 else 1
        for start in range(0, len(self.val_samples), step):
            chunk = self.val_samples[start : start + step]
            images = np.stack([s["image"] for s in chunk])
            labels = np.stack([s["label"] for s in chunk])
            logits = self.logits(model, images, device)
            losses.append(float(self.loss(logits.float(), torch.as_tensor(labels, device=device))) * len(chunk))
            predicted = (torch.softmax(logits.float(), dim=1)[:, 1] > 0.5).cpu().numpy()
            for p, t in zip(predicted, labels[:, 0]):
                if t.any():
                    dice, iou = dice_and_iou(p, t)
                    dices.append(dice)
                    ious.append(iou)
        return {"dice": float(np.mean(dices)) if dices else float("nan"),
                "iou": float(np.mean(ious)) if ious else float("nan"),
                "loss": sum(losses) / len(self.val_samples)}

    def fingerprint(self) -> dict[str, Any]:
        return {"task": self.name, **self.network_arguments(), "augment": self.augment,
                "patch": list(self.patch_kji), "train_samples": len(self.train_samples),
                "val_samples": len(self.val_samples), **self.description}
