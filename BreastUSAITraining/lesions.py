"""From a lesion probability map to lesion objects (SPEC 3.1, seed 004).

Threshold -> binary mask -> connected components -> small components removed ->
one lesion per remaining component (largest first: ``lesion_1``, ``lesion_2`` ...),
each with its bounding box. Masks are ``(K, J, I)`` bool on the input's grid.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from .errors import InputFileError
from .geometry import Geometry
from .imagefiles import Segment, SegmentationData


def centroid_kji(mask: np.ndarray) -> np.ndarray:
    """Centre of mass (k, j, i) of a bool mask from its three marginal sums (no full-size
    temporary arrays, unlike ``ndimage.center_of_mass``: matters for lesions of a full ABVS volume)."""
    total = np.count_nonzero(mask)
    centre = []
    for axis in range(3):
        profile = mask.sum(axis=tuple(a for a in range(3) if a != axis), dtype=np.int64)
        centre.append(float(np.dot(np.arange(profile.size), profile)) / total)
    return np.asarray(centre)


class Lesion:
    """One lesion on an image grid of shape ``shape_kji``.

    The mask is kept cropped to the lesion's box (``box_mask`` (k, j, i) bool starting at
    voxel ``offset_kji``), so a full ABVS volume with several lesions costs kilobytes, not
    147 MB per lesion; :attr:`mask` gives the full-grid mask when one is needed.
    ``bbox_ijk`` is the inclusive voxel box ((i0, j0, k0), (i1, j1, k1)); ``probability``
    the mean segmentation probability inside (None for drawn masks); ``tags`` metadata
    carried from a ``.seg.nrrd`` segment (pathology, BI-RADS ...).
    """

    def __init__(self, lesion_id: str, mask: np.ndarray, probability: float | None = None, name: str = "",
                 colour: tuple[float, float, float] | None = None, tags: dict[str, str] | None = None,
                 offset_kji: tuple[int, int, int] | None = None, shape_kji: tuple[int, int, int] | None = None) -> None:
        """``mask`` is the full-grid mask, or with ``offset_kji`` and ``shape_kji`` a box of it."""
        mask = np.asarray(mask, dtype=bool)
        box = ndimage.find_objects(mask.view(np.uint8))  # a view: no copy of a full volume
        if not box or box[0] is None:
            raise ValueError(f"lesion {lesion_id} has an empty mask")
        base = offset_kji or (0, 0, 0)
        self.box_mask = np.ascontiguousarray(mask[box[0]])
        self.offset_kji = tuple(int(base[a] + box[0][a].start) for a in range(3))
        self.shape_kji = tuple(int(v) for v in (shape_kji or mask.shape))
        self.lesion_id, self.probability = lesion_id, probability
        self.name, self.colour, self.tags = name or lesion_id, colour, dict(tags or {})
        (k0, j0, i0) = self.offset_kji
        (k1, j1, i1) = np.add(self.offset_kji, self.box_mask.shape) - 1
        self.bbox_ijk = ((int(i0), int(j0), int(k0)), (int(i1), int(j1), int(k1)))
        self.voxels = int(np.count_nonzero(self.box_mask))
        centre_kji = np.add(centroid_kji(self.box_mask), self.offset_kji)
        self.centroid_ijk = tuple(float(v) for v in centre_kji[::-1])

    @property
    def box_slices(self) -> tuple[slice, slice, slice]:
        return tuple(slice(o, o + n) for o, n in zip(self.offset_kji, self.box_mask.shape))  # type: ignore[return-value]

    @property
    def mask(self) -> np.ndarray:
        """The full-grid (K, J, I) bool mask (allocated on each call)."""
        full = np.zeros(self.shape_kji, dtype=bool)
        full[self.box_slices] = self.box_mask
        return full

    def describe(self, geometry: Geometry) -> dict[str, Any]:
        """JSON-ready facts: box in IJK and RAS, centroid, size in mm3 (or mm2 for 2D)."""
        (i0, j0, k0), (i1, j1, k1) = self.bbox_ijk
        corners = np.array([[i, j, k] for i in (i0 - 0.5, i1 + 0.5) for j in (j0 - 0.5, j1 + 0.5) for k in (k0 - 0.5, k1 + 0.5)])
        if self.shape_kji[0] == 1:
            corners[:, 2] = 0.0
        ras = geometry.index_to_ras(corners)
        voxel_mm3 = float(np.prod(geometry.spacing))
        facts: dict[str, Any] = {
            "id": self.lesion_id,
            "name": self.name,
            "voxels": self.voxels,
            "bbox_ijk": {"min": list(self.bbox_ijk[0]), "max": list(self.bbox_ijk[1])},
            "bbox_ras": {"min": [round(float(v), 3) for v in ras.min(axis=0)], "max": [round(float(v), 3) for v in ras.max(axis=0)]},
            "centroid_ijk": [round(v, 2) for v in self.centroid_ijk],
            "centroid_ras": [round(float(v), 3) for v in geometry.index_to_ras(np.array(self.centroid_ijk))],
        }
        if self.shape_kji[0] == 1:
            facts["area_mm2"] = round(self.voxels * geometry.spacing[0] * geometry.spacing[1], 3)
        else:
            facts["volume_mm3"] = round(self.voxels * voxel_mm3, 3)
        if self.probability is not None:
            facts["segmentation_probability"] = round(float(self.probability), 4)
        if self.tags:
            facts["tags"] = dict(self.tags)
        return facts


def _foreground_box(mask: np.ndarray) -> tuple[slice, ...] | None:
    """The smallest box holding every True voxel (None when empty); labelling only that
    box keeps memory small on full ABVS volumes."""
    boxes = ndimage.find_objects(mask.view(np.uint8))
    return boxes[0] if boxes and boxes[0] is not None else None


def lesions_from_mask(
    mask: np.ndarray,
    geometry: Geometry,
    probability: np.ndarray | None = None,
    min_size_mm: float = 4.0,
    min_voxels: int = 20,
    max_lesions: int = 20,
) -> list[Lesion]:
    """Connected components of ``mask`` (K, J, I) as lesions, largest first.

    Components smaller than ``min_size_mm`` (mm3 in 3D, mm2 for single-slice images)
    or ``min_voxels`` voxels are dropped. ``probability`` ((K, J, I), float in [0, 1] or
    uint8 0..255) gives each lesion its mean probability.
    """
    mask = np.asarray(mask, dtype=bool)
    box = _foreground_box(mask)
    if box is None:
        return []
    two_d = mask.shape[0] == 1
    unit = geometry.spacing[0] * geometry.spacing[1] * (1.0 if two_d else geometry.spacing[2])
    structure = ndimage.generate_binary_structure(3, 1)
    labels, count = ndimage.label(mask[box], structure=structure)
    sizes = np.bincount(labels.ravel())[1:]
    order = [int(n) + 1 for n in np.argsort(-sizes, kind="stable") if sizes[n] >= min_voxels and sizes[n] * unit >= min_size_mm]
    offset = tuple(int(part.start) for part in box)
    kept = order[:max_lesions]
    means = ndimage.mean(probability[box], labels, kept) if probability is not None and kept else [None] * len(kept)
    scale = 255.0 if probability is not None and probability.dtype == np.uint8 else 1.0
    lesions = []
    for number, (label, mean_p) in enumerate(zip(kept, means), start=1):
        lesions.append(Lesion(f"lesion_{number}", labels == label, None if mean_p is None else float(mean_p) / scale,
                              offset_kji=offset, shape_kji=mask.shape))
    return lesions


def lesions_from_segmentation(segmentation: SegmentationData, geometry: Geometry, shape_kji: tuple[int, int, int]) -> list[Lesion]:
    """Every segment of a (user-drawn or corrected) segmentation as one lesion, on the image grid.

    Raises InputFileError when the file has no segments or a segment is empty on the image.
    """
    if not segmentation.segments:
        raise InputFileError(segmentation.source, "segmentation holds no segments (no lesion to classify)")
    on_grid = segmentation.on_grid(geometry, shape_kji)
    lesions = []
    for segment in on_grid.segments:
        if not segment.mask.any():
            raise InputFileError(segmentation.source, f"segment {segment.name!r} is empty on the image grid "
                                 "(drawn on another image, or outside this image)")
        lesions.append(Lesion(segment.segment_id, segment.mask, None, segment.name, segment.colour, dict(segment.tags)))
    return lesions


def lesions_to_segmentation(lesions: list[Lesion], geometry: Geometry, shape_kji: tuple[int, int, int]) -> SegmentationData:
    """A ``.seg.nrrd``-ready segmentation with one segment per lesion, on the box holding all
    lesions (as Slicer writes segmentations: a sub-grid of the image with its spacing and
    direction; readers put it back with ``on_grid``). No lesion: an empty 1-voxel grid."""
    if not lesions:
        return SegmentationData([], geometry, (1, 1, 1))
    low = np.min([l.offset_kji for l in lesions], axis=0)
    high = np.max([np.add(l.offset_kji, l.box_mask.shape) for l in lesions], axis=0)
    box_shape = tuple(int(v) for v in high - low)
    origin = geometry.index_to_lps(np.array([low[2], low[1], low[0]], dtype=float))
    box_geometry = Geometry(geometry.spacing, tuple(origin), geometry.direction)
    segments = []
    for lesion in lesions:
        mask = np.zeros(box_shape, dtype=bool)
        start = np.subtract(lesion.offset_kji, low)
        mask[tuple(slice(s, s + n) for s, n in zip(start, lesion.box_mask.shape))] = lesion.box_mask
        segments.append(Segment(lesion.name, mask, lesion.colour, lesion.lesion_id, dict(lesion.tags)))
    return SegmentationData(segments, box_geometry, box_shape)


BELOW_THRESHOLD_TAG = "BreastUSAI.Detection"


def most_probable_region(probability: np.ndarray, geometry: Geometry, min_size_mm: float = 4.0,
                         min_voxels: int = 20) -> list[Lesion]:
    """For an image known to hold a lesion where no voxel passed the threshold: the connected
    region around the peak probability where the probability is at least half the peak, as
    one lesion tagged ``BreastUSAI.Detection`` = "below threshold - ..." (so it is never taken
    for a confident finding). ``probability`` (K, J, I) float in [0, 1] or uint8 0..255.
    Returns [] when the probability is zero everywhere or the region is too small."""
    scale = 255.0 if probability.dtype == np.uint8 else 1.0
    peak_at = np.unravel_index(int(np.argmax(probability)), probability.shape)
    peak = float(probability[peak_at])
    if peak <= 0:
        return []
    region = probability >= (max(1.0, np.ceil(peak / 2)) if scale == 255.0 else peak / 2)
    box = _foreground_box(region)
    labels, _ = ndimage.label(region[box], structure=ndimage.generate_binary_structure(3, 1))
    chosen = labels == labels[tuple(int(a - part.start) for a, part in zip(peak_at, box))]
    size = int(chosen.sum())
    unit = geometry.spacing[0] * geometry.spacing[1] * (1.0 if probability.shape[0] == 1 else geometry.spacing[2])
    if size < min_voxels or size * unit < min_size_mm:
        return []
    mean_p = float(probability[box][chosen].mean()) / scale
    note = f"below threshold - the most probable region (peak probability {peak / scale:.2f}), check it"
    return [Lesion("lesion_1", chosen, mean_p, tags={BELOW_THRESHOLD_TAG: note},
                   offset_kji=tuple(int(part.start) for part in box), shape_kji=probability.shape)]
