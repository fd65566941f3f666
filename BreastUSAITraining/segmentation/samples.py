"""Dataset cases -> in-memory training samples for segmentation.

* 2D networks: one sample per 2D image; for ABVS volumes one sample per transverse
  (k) slice holding lesion, plus a share of lesion-free slices so the network also
  learns to say "nothing here".
* 3D networks: one sample per volume (random patches are cut during training).

Images are stored as uint8 after :func:`~BreastUSAITraining.preprocessing.normalise_intensity`
(0..255 <-> 0..1), masks as uint8 0/1, both channel-first: ``(1, H, W)`` or ``(1, K, J, I)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from ..imagefiles import ImageData, read_image, read_segmentation
from ..preprocessing import normalise_intensity, resize_batch


def read_case(case: dict[str, Any]) -> tuple[ImageData, np.ndarray]:
    """The case's grey image and the union of its lesion segments (K, J, I) bool on the image grid."""
    image = read_image(case["image"], colour="grey")
    segmentation = read_segmentation(case["segmentation"]).on_grid(image.geometry, image.shape_kji)
    mask = np.zeros(image.shape_kji, dtype=bool)
    for name in case.get("segments", []):
        mask |= segmentation.segment(name).mask
    return image, mask


def _to_uint8(unit: np.ndarray | torch.Tensor) -> np.ndarray:
    return np.clip(np.rint(np.asarray(unit, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def planes_to_samples(planes: np.ndarray, masks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(B, H, W) grey planes + (B, H, W) bool masks -> uint8 (B, size, size) images and masks."""
    unit = np.stack([normalise_intensity(p) for p in planes])
    images = resize_batch(unit, (size, size))
    labels = resize_batch(masks.astype(np.float32), (size, size)) > 0.5
    return _to_uint8(images.numpy()), labels.numpy().astype(np.uint8)


def build_2d_samples(cases: list[dict[str, Any]], size: int, negative_share: float = 0.3, seed: int = 0,
                     progress: bool = True) -> list[dict[str, Any]]:
    """One sample per 2D image or lesion-bearing ABVS slice (plus ``negative_share`` x as many
    lesion-free slices, drawn deterministically from ``seed``)."""
    rng = np.random.default_rng(seed)
    samples: list[dict[str, Any]] = []
    for case in tqdm(cases, desc="reading segmentation cases", disable=not progress, unit="case"):
        image, mask = read_case(case)
        if image.is_2d:
            chosen = [0]
        else:
            has_lesion = mask.any(axis=(1, 2))
            positives = np.flatnonzero(has_lesion)
            negatives = np.flatnonzero(~has_lesion)
            n_neg = min(len(negatives), int(round(negative_share * max(len(positives), 1))))
            chosen = sorted(positives.tolist() + rng.choice(negatives, n_neg, replace=False).tolist())
        images, labels = planes_to_samples(image.array[chosen], mask[chosen], size)
        for index, k in enumerate(chosen):
            samples.append({"image": images[index][None], "label": labels[index][None],
                            "case_id": case["case_id"], "slice": int(k)})
    return samples


def build_3d_samples(cases: list[dict[str, Any]], progress: bool = True) -> list[dict[str, Any]]:
    """One sample per volume, intensities normalised over the whole volume."""
    samples = []
    for case in tqdm(cases, desc="reading segmentation volumes", disable=not progress, unit="case"):
        image, mask = read_case(case)
        samples.append({"image": _to_uint8(normalise_intensity(image.array))[None], "label": mask.astype(np.uint8)[None],
                        "case_id": case["case_id"], "slice": -1})
    return samples
