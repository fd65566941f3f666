"""A dataset's lesion item (:func:`~..dataset.loader.lesion_dicts`) -> the :class:`LesionInput` every
family's predictor reads: each image read as its kind wants, the lesion's segment on its grid."""

from __future__ import annotations

from typing import Any

from ..errors import InputFileError
from ..imagefiles import read_image, read_segmentation
from ..imagefiles.colour import colour_mode_for
from .lesion import LesionInput, LesionView


def lesion_from_item(item: dict[str, Any], kinds: list[str]) -> LesionInput:
    """The lesion of ``item`` in each of ``kinds`` (its primary image when ``kinds`` is empty)."""
    from ..lesions import Lesion

    name = f"{item['case_id']}/{item.get('lesion_id') or item.get('segment')}"
    views = {}
    for kind in kinds or [item["modality"]]:
        image_path = item["image"] if kind == item["modality"] else item.get(kind)
        seg_path = item.get("segmentation") if kind == item["modality"] else (item.get(f"segmentation_{kind}")
                                                                              or item.get("segmentation"))
        if image_path is None or seg_path is None or not item.get("segment"):
            raise InputFileError(image_path or item["image"], f"lesion {name} has no {kind} image or mask")
        image = read_image(image_path, colour=colour_mode_for(kind))
        mask = read_segmentation(seg_path).on_grid(image.geometry, image.shape_kji).segment(item["segment"]).mask
        if not mask.any():
            raise InputFileError(seg_path, f"segment {item['segment']!r} is empty on {image_path}")
        views[kind] = LesionView(image, Lesion(str(item.get("lesion_id") or item["segment"]), mask))
    primary = item["modality"] if item["modality"] in views else next(iter(views))
    return LesionInput(name, views, primary, dict(item.get("clinical") or {}), item.get("birads"))
