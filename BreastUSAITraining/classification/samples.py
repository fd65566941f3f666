"""Lesion items -> classifier samples.

ABVS lesions give ``frames`` frames of each plane (see :mod:`..planes`); 2D lesions give
one transverse crop. A sample is ``{"frames": uint8 (F, P, S, S), "label": 0/1, ...}``
with intensities 0..255 standing for [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import InputFileError
from ..imagefiles import ImageData, read_image, read_segmentation
from ..planes import extract_planes


def lesion_planes_u8(image: ImageData, mask: np.ndarray, planes: str, frames: int, size: int, margin: float) -> np.ndarray:
    """(F, P, S, S) uint8 frames of one lesion; 2D images give (1, 1, S, S)."""
    grey = image.array if not image.is_colour else image.array.mean(axis=-1)
    lesion = extract_planes(grey, image.geometry, mask, "T" if image.is_2d else planes, 1 if image.is_2d else frames, size, margin)
    stacked = lesion.stack("T" if image.is_2d else planes)
    return np.clip(np.rint(stacked * 255), 0, 255).astype(np.uint8)


def build_lesion_samples(items: list[dict[str, Any]], planes: str, frames: int, size: int, margin: float,
                         progress: bool = True) -> list[dict[str, Any]]:
    """One sample per lesion item (from :func:`~..dataset.loader.lesion_dicts`)."""
    samples = []
    cached: tuple[str, ImageData] | None = None
    for item in tqdm(items, desc="extracting lesion planes", disable=not progress, unit="lesion"):
        if cached is None or cached[0] != item["image"]:
            cached = (item["image"], read_image(item["image"], colour="grey"))
        image = cached[1]
        if "segmentation" not in item or not item.get("segment"):
            raise InputFileError(item["image"], f"lesion {item['case_id']}/{item.get('lesion_id')} has no segmentation to locate it")
        mask = read_segmentation(item["segmentation"]).on_grid(image.geometry, image.shape_kji).segment(item["segment"]).mask
        if not mask.any():
            raise InputFileError(item["segmentation"], f"segment {item['segment']!r} is empty on the image grid")
        samples.append({"frames": lesion_planes_u8(image, mask, planes, frames, size, margin), "label": int(item["label"]),
                        "case_id": item["case_id"], "lesion_id": item.get("lesion_id"), "modality": item["modality"]})
    return samples
