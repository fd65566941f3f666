"""Planes through each lesion of a volume, cropped and resampled for the classifier.

ABVS axes (see :mod:`BreastUSAITraining.phantom.abvs`): i lateral, j depth, k the
sweep. So:

=====  ===========  ===========  ===========  ==============
code   plane        fixed axis   rows         columns
=====  ===========  ===========  ===========  ==============
T      transverse   k            j (depth)    i (lateral)
S      sagittal     i            j (depth)    k (sweep)
C      coronal      j            k (sweep)    i (lateral)
=====  ===========  ===========  ===========  ==============

For each plane, ``frames`` slices are taken: through the lesion's centroid, through
its largest cross-section, then evenly over the central half of its extent. Every
frame of a plane shares one square window in millimetres: the lesion's box in that
plane widened on each side by ``margin`` x its shortest side (seed 002 used 30%),
then squared so the lesion keeps its true shape (taller-than-wide matters). The
window is resampled (linear) to ``size`` x ``size`` pixels and normalised to [0, 1].
Positions are reported in IJK and RAS so a viewer can jump to each plane.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from ..geometry import Geometry
from ..lesions import centroid_kji
from ..preprocessing import normalise_intensity

#: code -> (name, fixed ijk axis, row ijk axis, column ijk axis)
PLANES: dict[str, tuple[str, int, int, int]] = {
    "T": ("transverse", 2, 1, 0),
    "S": ("sagittal", 0, 1, 2),
    "C": ("coronal", 1, 2, 0),
}


def _kji(axis_ijk: int) -> int:
    return 2 - axis_ijk


@dataclass(frozen=True)
class PlaneWindow:
    """A square window in one plane: centre (row, column) in mm from voxel (0, 0) of the
    plane's grid (index x spacing), side in mm, sampled at ``size`` pixels."""

    plane: str
    centre_mm: tuple[float, float]
    side_mm: float
    size: int

    def pixel_to_index(self, spacing_rc: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
        """Continuous (row, column) voxel indices of every output pixel centre, each (size, size)."""
        offsets = (np.arange(self.size) + 0.5) * self.side_mm / self.size - self.side_mm / 2
        rows = (self.centre_mm[0] + offsets) / spacing_rc[0]
        cols = (self.centre_mm[1] + offsets) / spacing_rc[1]
        return np.meshgrid(rows, cols, indexing="ij")

    def index_to_pixel(self, index_rc: np.ndarray, spacing_rc: tuple[float, float]) -> np.ndarray:
        """Continuous output-pixel coordinates of voxel indices (..., 2) (row, column)."""
        mm = np.asarray(index_rc, dtype=float) * np.asarray(spacing_rc)
        start = np.asarray(self.centre_mm) - self.side_mm / 2
        return (mm - start) * self.size / self.side_mm - 0.5


@dataclass
class PlaneFrame:
    """One resampled frame: ``image`` (size, size) float32 in [0, 1] of plane ``plane`` at voxel
    ``index`` along the plane's fixed axis."""

    plane: str
    index: int
    reason: str
    window: PlaneWindow
    image: np.ndarray = field(repr=False)
    centre_ijk: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def describe(self, geometry: Geometry) -> dict[str, Any]:
        name, fixed, _, _ = PLANES[self.plane]
        normal_lps = geometry.direction_matrix[:, fixed]
        return {
            "plane": name,
            "fixed_axis": "ijk"[fixed],
            "index": self.index,
            "reason": self.reason,
            "centre_ijk": [round(v, 2) for v in self.centre_ijk],
            "centre_ras": [round(float(v), 3) for v in geometry.index_to_ras(np.array(self.centre_ijk))],
            "normal_ras": [round(float(v), 6) for v in normal_lps * np.array([-1.0, -1.0, 1.0])],
            "window_mm": round(self.window.side_mm, 3),
        }


@dataclass
class LesionPlanes:
    """The frames of every requested plane, ``frames`` each."""

    frames: dict[str, list[PlaneFrame]]

    def stack(self, planes: str) -> np.ndarray:
        """(frames, len(planes), size, size) float32: frame f of every plane side by side."""
        count = len(self.frames[planes[0]])
        return np.stack([np.stack([self.frames[p][f].image for p in planes]) for f in range(count)]).astype(np.float32)

    def describe(self, geometry: Geometry) -> dict[str, list[dict[str, Any]]]:
        return {PLANES[p][0]: [f.describe(geometry) for f in frames] for p, frames in self.frames.items()}


def _frame_indices(mask: np.ndarray, offset_kji: tuple[int, int, int], fixed_ijk: int, centroid_ijk: np.ndarray,
                   count: int) -> list[tuple[int, str]]:
    """Slice indices along the fixed axis: centroid, largest section, then evenly spread."""
    axis = _kji(fixed_ijk)
    areas = mask.sum(axis=tuple(a for a in range(3) if a != axis))
    present = np.flatnonzero(areas) + offset_kji[axis]
    low, high = int(present.min()), int(present.max())
    chosen = [(int(round(centroid_ijk[fixed_ijk])), "centroid")]
    largest = int(np.argmax(areas)) + offset_kji[axis]
    if count > 1 and largest != chosen[0][0]:
        chosen.append((largest, "largest section"))
    quarter = 0.25 * (high - low)
    for candidate in np.linspace(low + quarter, high - quarter, max(count, 2)):
        if len(chosen) >= count:
            break
        index = int(round(candidate))
        if index not in [c[0] for c in chosen]:
            chosen.append((index, "offset"))
    while len(chosen) < count:
        chosen.append((chosen[0][0], "centroid (repeated: thin lesion)"))
    return chosen[:count]


def _window(plane: str, lo: np.ndarray, hi: np.ndarray, spacing_ijk: tuple[float, float, float], margin: float,
            size: int) -> PlaneWindow:
    """The plane's square window around the lesion box ``lo``..``hi`` (inclusive voxel (i, j, k))."""
    _, _, row_ax, col_ax = PLANES[plane]
    extent = [(hi[a] - lo[a] + 1) * spacing_ijk[a] for a in (row_ax, col_ax)]
    centre = [(lo[a] + hi[a]) / 2 * spacing_ijk[a] for a in (row_ax, col_ax)]
    side = max(extent) + 2 * margin * min(extent)
    return PlaneWindow(plane, (float(centre[0]), float(centre[1])), float(side), size)


def _slice_of(volume: np.ndarray, fixed_ijk: int, index: int) -> np.ndarray:
    """The 2D slice at ``index`` along ``fixed_ijk`` with axes (rows, columns) as in PLANES."""
    index = int(np.clip(index, 0, volume.shape[_kji(fixed_ijk)] - 1))
    if fixed_ijk == 2:
        return volume[index]            # (J, I): rows j, columns i
    if fixed_ijk == 0:
        return volume[:, :, index].T    # (K, J) -> (J, K): rows j, columns k
    return volume[:, index, :]          # (K, I): rows k, columns i


def _sample(slice_2d: np.ndarray, window: PlaneWindow, spacing_rc: tuple[float, float]) -> np.ndarray:
    rows, cols = window.pixel_to_index(spacing_rc)
    values = ndimage.map_coordinates(slice_2d.astype(np.float32, copy=False), [rows, cols], order=1, mode="constant", cval=0.0)
    return normalise_intensity(values)


def extract_planes(volume: np.ndarray, geometry: Geometry, mask: np.ndarray, planes: str = "TSC", frames: int = 3,
                   size: int = 224, margin: float = 0.3, mask_offset_kji: tuple[int, int, int] | None = None) -> LesionPlanes:
    """Frames of ``planes`` through the lesion ``mask`` of ``volume`` ((K, J, I) grey).

    ``mask`` is (K, J, I) bool on the volume's grid, or a box of it starting at voxel
    ``mask_offset_kji``. A single-slice volume (2D image) supports only the transverse
    plane ``T``, with one frame.
    """
    if mask_offset_kji is None:
        if volume.shape[:3] != mask.shape:
            raise ValueError(f"mask shape {mask.shape} differs from the image's {volume.shape[:3]}")
        mask_offset_kji = (0, 0, 0)
    if not mask.any():
        raise ValueError("empty lesion mask: no plane to extract")
    if volume.shape[0] == 1 and planes != "T":
        raise ValueError(f"a 2D image has only the transverse plane, {planes!r} was asked")
    spacing = geometry.spacing
    box = ndimage.find_objects(np.asarray(mask, dtype=bool).view(np.uint8))[0]
    low_ijk = np.array([box[a].start + mask_offset_kji[a] for a in (2, 1, 0)])
    high_ijk = np.array([box[a].stop - 1 + mask_offset_kji[a] for a in (2, 1, 0)])
    centroid = (centroid_kji(np.asarray(mask, dtype=bool)) + np.asarray(mask_offset_kji))[::-1]
    out: dict[str, list[PlaneFrame]] = {}
    for plane in planes:
        _, fixed, row_ax, col_ax = PLANES[plane]
        window = _window(plane, low_ijk, high_ijk, spacing, margin, size)
        spacing_rc = (spacing[row_ax], spacing[col_ax])
        chosen = [(0, "image")] if volume.shape[0] == 1 else _frame_indices(mask, mask_offset_kji, fixed, centroid, frames)
        frame_list = []
        for index, reason in chosen:
            image = _sample(_slice_of(volume, fixed, index), window, spacing_rc)
            centre = [0.0, 0.0, 0.0]
            centre[fixed] = float(index)
            centre[row_ax] = window.centre_mm[0] / spacing[row_ax]
            centre[col_ax] = window.centre_mm[1] / spacing[col_ax]
            frame_list.append(PlaneFrame(plane, int(index), reason, window, image, tuple(centre)))
        out[plane] = frame_list
    return LesionPlanes(out)


def plane_crop_2d(image_2d: np.ndarray, geometry: Geometry, mask_2d: np.ndarray, size: int = 224, margin: float = 0.3) -> PlaneFrame:
    """The lesion crop of a 2D image ((J, I) grey, (J, I) bool mask) as one transverse frame."""
    return extract_planes(image_2d[None], geometry, mask_2d[None], "T", 1, size, margin).frames["T"][0]


def crop_lesion_2d(image_2d: np.ndarray, geometry: Geometry, mask_2d: np.ndarray, size: int = 224,
                   margin: float = 0.3) -> tuple[np.ndarray, PlaneWindow]:
    """The lesion's square crop of a 2D image as ``(C, size, size)`` float32 in [0, 1], and its window.

    Grey images (``(J, I)``) are normalised by their percentiles inside the crop; colour images
    (``(J, I, 3)``, Doppler and elastography, whose colour is the signal) keep their colours,
    each channel scaled by 1/255 (uint8) or by the image's maximum.
    """
    if not np.asarray(mask_2d).any():
        raise ValueError("empty lesion mask: no crop")
    points = np.argwhere(mask_2d)
    low_ijk = np.array([points[:, 1].min(), points[:, 0].min(), 0])
    high_ijk = np.array([points[:, 1].max(), points[:, 0].max(), 0])
    window = _window("T", low_ijk, high_ijk, geometry.spacing, margin, size)
    spacing_rc = (geometry.spacing[1], geometry.spacing[0])
    if image_2d.ndim == 2:
        return _sample(image_2d, window, spacing_rc)[None], window
    scale = 255.0 if image_2d.dtype == np.uint8 else max(float(image_2d.max()), 1e-6)
    rows, cols = window.pixel_to_index(spacing_rc)
    channels = [ndimage.map_coordinates(image_2d[..., c].astype(np.float32) / scale, [rows, cols], order=1, mode="constant", cval=0.0)
                for c in range(image_2d.shape[-1])]
    return np.clip(np.stack(channels), 0.0, 1.0).astype(np.float32), window
