"""Companion images of one ``predict`` input: the same lesions seen in other images
(Doppler, elastography, mammography), so multimodal MUP-Net and DL-UM run in ``predict``.

Given as ``--companion KIND=IMAGE`` (co-registered with the input: the input's lesion
masks are resampled onto the companion's grid through patient space) or
``--companion KIND=IMAGE,SEG`` (the lesion drawn on the companion itself, e.g. a
mammogram: the segment with the lesion's name, or the only segment).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..dataset.schema import MODALITIES
from ..errors import InputFileError, UsageError
from ..families.lesion import LesionView
from ..geometry import Geometry
from ..imagefiles import ImageData, SegmentationData, read_image, read_segmentation
from ..imagefiles.colour import colour_mode_for
from ..lesions import Lesion, lesions_to_segmentation


@dataclass
class Companion:
    kind: str
    image: ImageData
    segmentation: SegmentationData | None  # on the companion's grid; None: co-registered with the input


def parse_companions(texts: list[str]) -> dict[str, tuple[str, str | None]]:
    """``["us_doppler=a.nrrd", "mg_cc=m.nrrd,m.seg.nrrd"]`` -> {kind: (image, segmentation or None)}."""
    found: dict[str, tuple[str, str | None]] = {}
    for text in texts:
        kind, _, rest = text.partition("=")
        if kind not in MODALITIES or not rest:
            raise UsageError(f"--companion must be KIND=IMAGE[,SEG] with KIND one of {', '.join(MODALITIES)}; got {text!r}")
        if kind in found:
            raise UsageError(f"--companion {kind} given twice")
        image, _, segmentation = rest.partition(",")
        found[kind] = (image, segmentation or None)
    return found


def load_companions(spec: dict[str, tuple[str, str | None]]) -> dict[str, Companion]:
    companions = {}
    for kind, (image_path, seg_path) in spec.items():
        image = read_image(image_path, colour=colour_mode_for(kind))
        if not image.is_2d:
            raise InputFileError(image_path, f"{kind} companion must be a 2D image, it has {image.shape_kji[0]} slices")
        segmentation = read_segmentation(seg_path).on_grid(image.geometry, image.shape_kji) if seg_path else None
        companions[kind] = Companion(kind, image, segmentation)
    return companions


def _mask_on(companion: Companion, lesion: Lesion, geometry: Geometry, shape_kji: tuple[int, int, int]) -> np.ndarray:
    if companion.segmentation is not None:
        segments = companion.segmentation.segments
        named = [s for s in segments if s.name in (lesion.name, lesion.lesion_id) or s.segment_id in (lesion.name, lesion.lesion_id)]
        if not named and len(segments) != 1:
            raise InputFileError(companion.segmentation.source, f"no segment named {lesion.lesion_id!r} for the {companion.kind} "
                                                                "image, and not exactly one segment to use")
        return (named or segments)[0].mask[0]
    single = lesions_to_segmentation([lesion], geometry, shape_kji)
    return single.on_grid(companion.image.geometry, companion.image.shape_kji).segments[0].mask[0]


def companion_views(companions: dict[str, Companion], lesion: Lesion, image: ImageData) -> dict[str, LesionView]:
    """The lesion (found or drawn on the input ``image``) on every companion image, by kind."""
    views = {}
    for kind, companion in companions.items():
        mask = _mask_on(companion, lesion, image.geometry, image.shape_kji)
        if not mask.any():
            raise InputFileError(companion.image.source, f"lesion {lesion.lesion_id} does not fall on the {kind} image")
        views[kind] = LesionView(companion.image, Lesion(lesion.lesion_id, mask[None]))
    return views


def companion_paths(spec: dict[str, tuple[str, str | None]]) -> list[Path]:
    return [Path(p) for image, seg in spec.values() for p in (image, seg) if p]
