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
from ..geometry import Geometry
from ..imagefiles import ImageData, SegmentationData, read_image, read_segmentation
from ..imagefiles.colour import colour_mode_for
from ..planes.lesion_crops import crop_to_uint8, modality_crop
from ..segmentation.lesions import Lesion, lesions_to_segmentation


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


def lesion_crops(modalities: list[str], image: ImageData, lesion: Lesion, companions: dict[str, Companion], size: int,
                 margin: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The lesion's crop in every modality a model needs, stacked as channels in [0, 1]
    (rounded to 1/255 steps, as in training), and each modality's crop as a grey picture."""
    crops, pictures = [], {}
    for kind in modalities:
        if kind == "us_bmode":
            plane, plane_geometry, mask = image.array[0], image.geometry, lesion.mask[0]
        elif kind in companions:
            companion = companions[kind]
            plane, plane_geometry = companion.image.plane, companion.image.geometry
            mask = _mask_on(companion, lesion, image.geometry, image.shape_kji)
        else:
            raise UsageError(f"the model needs a {kind} image of each lesion: give --companion {kind}=IMAGE[,SEG]")
        if not mask.any():
            raise InputFileError(companions[kind].image.source if kind in companions else image.source,
                                 f"lesion {lesion.lesion_id} does not fall on the {kind} image")
        crop = modality_crop(plane, plane_geometry, mask, kind, size, margin)
        crops.append(crop)
        pictures[kind] = crop.mean(axis=0)
    return crop_to_uint8(np.concatenate(crops)).astype(np.float32) / 255.0, pictures


def companion_paths(spec: dict[str, tuple[str, str | None]]) -> list[Path]:
    return [Path(p) for image, seg in spec.values() for p in (image, seg) if p]
