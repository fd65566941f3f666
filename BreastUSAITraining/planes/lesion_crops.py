"""Lesion items -> multimodal crop samples (MUP-Net, DL-UM): the lesion's crop in every
requested modality, stacked as channels.

Grey modalities (B-mode, mammography) give 1 channel normalised by percentiles; colour modalities
(Doppler, elastography) give 3 channels with their colours kept (a grey file is repeated
to 3 channels). A sample: ``{"x": uint8 (C_total, S, S) (0..255 = 0..1), "label",
"birads", "case_id", "lesion_id"}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import InputFileError
from ..imagefiles import read_image, read_segmentation
from ..imagefiles.colour import colour_mode_for, to_grey
from .extract import crop_lesion_2d


def channels_of(modality: str) -> int:
    return 3 if colour_mode_for(modality) == "keep" else 1


def modality_crop(plane: np.ndarray, geometry, mask_2d: np.ndarray, modality: str, size: int, margin: float) -> np.ndarray:
    """(channels_of(modality), size, size) float32 crop in [0, 1] of one lesion on one 2D image
    (``plane`` already grey or colour as the modality wants); a grey picture of a colour
    modality is repeated to its 3 channels."""
    crop, _ = crop_lesion_2d(plane, geometry, mask_2d, size, margin)
    if crop.shape[0] != channels_of(modality):
        crop = np.repeat(crop[:1], channels_of(modality), axis=0)
    return crop


def crop_to_uint8(crop: np.ndarray) -> np.ndarray:
    """Crops as training stores them: values in [0, 1] -> uint8 0..255 (divide by 255 to use)."""
    return np.clip(np.rint(crop * 255), 0, 255).astype(np.uint8)


def lesion_crop(image_path: str, segmentation_path: str, segment: str, modality: str, size: int, margin: float) -> np.ndarray:
    """(channels_of(modality), size, size) float32 crop of one lesion in one image."""
    image = read_image(image_path, colour=colour_mode_for(modality))
    if not image.is_2d:
        raise InputFileError(image_path, f"{modality} must be a 2D image, found {image.shape_kji[0]} slices")
    mask = read_segmentation(segmentation_path).on_grid(image.geometry, image.shape_kji).segment(segment).mask[0]
    if not mask.any():
        raise InputFileError(segmentation_path, f"segment {segment!r} is empty on {image_path}")
    return modality_crop(image.plane, image.geometry, mask, modality, size, margin)


def build_lesion_crop_samples(items: list[dict[str, Any]], modalities: list[str], size: int, margin: float,
                         progress: bool = True) -> list[dict[str, Any]]:
    """One sample per lesion item (from :func:`~..dataset.loader.lesion_dicts` with these modalities)."""
    samples = []
    for item in tqdm(items, desc="cropping lesions (all modalities)", disable=not progress, unit="lesion"):
        crops = []
        for modality in modalities:
            key = "segmentation" if modality == item["modality"] else f"segmentation_{modality}"
            segmentation = item.get(key) or item.get("segmentation")
            if segmentation is None or not item.get("segment"):
                raise InputFileError(item[modality], f"lesion {item['case_id']}/{item.get('lesion_id')} has no mask for {modality}")
            crops.append(lesion_crop(item[modality], segmentation, item["segment"], modality, size, margin))
        x = crop_to_uint8(np.concatenate(crops))
        samples.append({"x": x, "label": int(item["label"]), "birads": item.get("birads"), "case_id": item["case_id"],
                        "lesion_id": item.get("lesion_id"), "pathology": item.get("pathology")})
    return samples


def crops_of_lesion(lesion, kinds: list[str], size: int, margin: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A :class:`~..families.lesion.LesionInput`'s crop in every kind a model reads, stacked as
    channels in [0, 1] rounded to 1/255 steps as in training, and each kind's crop as a grey picture.
    The same crops whoever built the lesion (``predict``, ``evaluate``, the Slicer module)."""
    crops, pictures = [], {}
    for kind in kinds:
        view = lesion.view(kind, fallback_to_main=len(kinds) == 1)
        image = view.image
        if not image.is_2d:
            raise InputFileError(image.source, f"the {kind} image must be 2D, it has {image.shape_kji[0]} slices")
        plane = image.plane
        if image.is_colour and colour_mode_for(kind) != "keep":
            plane = to_grey(plane)
        crop = modality_crop(plane, image.geometry, view.lesion.mask[0], kind, size, margin)
        crops.append(crop)
        pictures[kind] = crop.mean(axis=0)
    return crop_to_uint8(np.concatenate(crops)).astype(np.float32) / 255.0, pictures
