"""Plane heatmaps -> a heatmap on the input's own voxel grid.

Each plane's map lives in that plane's square window (see :mod:`..planes`). On the
input grid, every voxel of the lesion's neighbourhood takes, from each plane, the map
value at its in-plane position (the plane's map extended along the plane's normal),
and the planes are averaged; the result is scaled to [0, 1]. For a 2D image this is
the crop's map put back where the crop came from. Outside the box the heat is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..geometry import Geometry
from ..planes import PLANES, LesionPlanes


@dataclass
class HeatmapBox:
    """Heat values ``array`` (K', J', I') float32 in [0, 1] starting at voxel ``offset_kji`` of the input."""

    array: np.ndarray
    offset_kji: tuple[int, int, int]

    def on_full_grid(self, shape_kji: tuple[int, int, int]) -> np.ndarray:
        full = np.zeros(shape_kji, dtype=np.float32)
        full[self.slices] = self.array
        return full

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        return tuple(slice(o, o + n) for o, n in zip(self.offset_kji, self.array.shape))  # type: ignore[return-value]

    def geometry(self, parent: Geometry) -> Geometry:
        """Geometry of the box: the parent's spacing and direction, origin at the box's first voxel."""
        k, j, i = self.offset_kji
        return Geometry(parent.spacing, tuple(parent.index_to_lps(np.array([i, j, k], dtype=float))), parent.direction)


def heatmap_from_planes(shape_kji: tuple[int, int, int], geometry: Geometry, bbox_ijk: tuple[tuple[int, int, int], tuple[int, int, int]],
                        planes: LesionPlanes, maps: dict[str, np.ndarray]) -> HeatmapBox:
    """Average of the plane maps on the voxels of the lesion box widened to the windows."""
    spacing = geometry.spacing
    size_ijk = (shape_kji[2], shape_kji[1], shape_kji[0])
    low = list(bbox_ijk[0])
    high = list(bbox_ijk[1])
    for plane in maps:
        window = planes.frames[plane][0].window
        _, _, row_ax, col_ax = PLANES[plane]
        for axis, centre in ((row_ax, window.centre_mm[0]), (col_ax, window.centre_mm[1])):
            low[axis] = min(low[axis], int(np.floor((centre - window.side_mm / 2) / spacing[axis])))
            high[axis] = max(high[axis], int(np.ceil((centre + window.side_mm / 2) / spacing[axis])))
    low = [max(0, v) for v in low]
    high = [min(size_ijk[a] - 1, v) for a, v in enumerate(high)]
    if shape_kji[0] == 1:
        low[2] = high[2] = 0
    counts = [high[a] - low[a] + 1 for a in range(3)]
    total = np.zeros((counts[2], counts[1], counts[0]), dtype=np.float32)
    for plane, cam in maps.items():
        window = planes.frames[plane][0].window
        _, fixed, row_ax, col_ax = PLANES[plane]
        rows = np.arange(low[row_ax], high[row_ax] + 1)
        cols = np.arange(low[col_ax], high[col_ax] + 1)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        pixels = window.index_to_pixel(np.stack([rr, cc], axis=-1), (spacing[row_ax], spacing[col_ax]))
        values = ndimage.map_coordinates(cam.astype(np.float32), [pixels[..., 0], pixels[..., 1]], order=1, mode="constant", cval=0.0)
        # (rows, cols) -> (K, J, I) order with length 1 along the fixed axis, then broadcast
        axes = [row_ax, col_ax, fixed]
        total += np.transpose(values[:, :, None], [axes.index(a) for a in (2, 1, 0)])
    total /= max(len(maps), 1)
    peak = float(total.max())
    if peak > 0:
        total /= peak
    return HeatmapBox(total.astype(np.float32), (low[2], low[1], low[0]))
