"""Ultrasound-appropriate augmentation (MONAI dictionary transforms).

Left-right flips only (depth has a direction: shadowing falls below a lesion, never
above it), small rotations (+-10 degrees) and scaling (+-15%), gain (brightness),
gamma (contrast), a little blur (resolution) and noise. Keys ``image`` (uint8 0..255
in, float 0..1 out) and ``label``.
"""

from __future__ import annotations

import math

import numpy as np
from monai.transforms import (
    Compose,
    EnsureTyped,
    RandAdjustContrastd,
    RandAffined,
    RandCropByPosNegLabeld,
    RandFlipd,
    RandGaussianNoised,
    RandGaussianSmoothd,
    RandScaleIntensityd,
    ScaleIntensityRanged,
)

from .options import AUGMENT_FLIPS_ONLY

KEYS = ("image", "label")


def to_unit_range() -> list:
    return [EnsureTyped(keys=KEYS, dtype=np.float32, track_meta=False),
            ScaleIntensityRanged(keys="image", a_min=0, a_max=255, b_min=0.0, b_max=1.0, clip=True)]




def training_transforms_2d(strength: float | str = 1.0) -> Compose:
    """Random augmentation of (1, H, W) samples; ``strength`` 0 switches it off, ``"flips"`` keeps
    only the left-right flip (probability 0.5)."""
    steps = to_unit_range()
    if strength == AUGMENT_FLIPS_ONLY:
        steps.append(RandFlipd(keys=KEYS, prob=0.5, spatial_axis=1))
    elif strength > 0:
        steps += [
            RandFlipd(keys=KEYS, prob=0.5, spatial_axis=1),
            RandAffined(keys=KEYS, prob=0.7 * strength, rotate_range=(math.radians(10) * strength,),
                        scale_range=(0.15 * strength, 0.15 * strength), translate_range=(12 * strength, 12 * strength),
                        mode=("bilinear", "nearest"), padding_mode="zeros"),
            RandScaleIntensityd(keys="image", factors=0.2 * strength, prob=0.4),
            RandAdjustContrastd(keys="image", prob=0.4, gamma=(1 - 0.3 * strength, 1 + 0.5 * strength)),
            RandGaussianSmoothd(keys="image", prob=0.15, sigma_x=(0.25, 1.0), sigma_y=(0.25, 1.0)),
            RandGaussianNoised(keys="image", prob=0.15, std=0.03 * strength),
        ]
    return Compose(steps)


def training_transforms_3d(patch_kji: tuple[int, int, int]) -> Compose:
    """Random patches (half centred on lesion) of (1, K, J, I) volumes, flipped left-right."""
    return Compose(to_unit_range() + [
        RandCropByPosNegLabeld(keys=KEYS, label_key="label", spatial_size=patch_kji, pos=1, neg=1, num_samples=1,
                               allow_smaller=False),
        RandFlipd(keys=KEYS, prob=0.5, spatial_axis=2),
        RandScaleIntensityd(keys="image", factors=0.2, prob=0.4),
        RandAdjustContrastd(keys="image", prob=0.3, gamma=(0.7, 1.5)),
    ])
