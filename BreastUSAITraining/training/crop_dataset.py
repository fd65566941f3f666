"""Training view of lesion-crop samples (``{"x": uint8 (C, S, S), "label"}``) shared by the
crop-based models (MUP-Net, DL-UM, deep radiomics): augmentation and oversampling."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from monai.transforms import Compose, RandAdjustContrastd, RandAffined, RandFlipd, RandScaleIntensityd
from torch.utils.data import Dataset

from .sampling import oversampled_order


def crop_augmentation() -> Compose:
    """SPEC 3.3: horizontal flip p=0.5, brightness/contrast x[0.9, 1.1], random crop 90-100%
    resized back (a zoom of 1.0-1.11), rotation +-10 degrees; all channels together."""
    return Compose([
        RandFlipd(keys="image", prob=0.5, spatial_axis=1),
        RandAffined(keys="image", prob=0.8, rotate_range=(math.radians(10),), scale_range=((-0.1, 0.0), (-0.1, 0.0)),
                    padding_mode="border"),
        RandScaleIntensityd(keys="image", factors=0.1, prob=0.5),
        RandAdjustContrastd(keys="image", prob=0.5, gamma=(0.9, 1.1)),
    ])


def stack_crops(samples: list[dict[str, Any]]) -> torch.Tensor:
    """The samples' ``x`` (uint8, 0..255) as one float tensor (N, C, S, S) in [0, 1]."""
    return torch.as_tensor(np.stack([s["x"] for s in samples]), dtype=torch.float32) / 255.0


class CropDataset(Dataset):
    """Samples as float tensors in [0, 1], augmented, minority class oversampled on request.

    Subclasses change what one sample's image is by overriding :meth:`unit_image`.
    """

    #: clip augmented images back to [0, 1]
    clamp = True

    def __init__(self, samples: list[dict[str, Any]], transform: Compose | None, oversample: bool) -> None:
        self.samples, self.transform = samples, transform
        labels = np.array([s["label"] for s in samples])
        self.order = oversampled_order(labels) if oversample else list(range(len(samples)))

    def __len__(self) -> int:
        return len(self.order)

    def unit_image(self, sample: dict[str, Any]) -> torch.Tensor:
        return torch.as_tensor(sample["x"], dtype=torch.float32) / 255.0

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.samples[self.order[index]]
        image = self.unit_image(sample)
        if self.transform is not None:
            image = torch.as_tensor(np.asarray(self.transform({"image": image})["image"]), dtype=torch.float32)
            if self.clamp:
                image = image.clamp(0, 1)
        return {"image": image, "label": torch.tensor(sample["label"], dtype=torch.long)}
