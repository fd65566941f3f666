"""A plane classifier's explanation of one lesion as files: the heatmap (NRRD on the input's grid, or
on the lesion's box for very large volumes), the planes with their CAMs (PNG) and, on a 2D image,
the image with the heatmap and the outline (PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..explain import heatmap_from_planes, save_image_overlay, save_plane_overlays
from ..imagefiles import ImageData, write_nrrd
from ..networks.names import PLANE_NAMES

#: Above this many voxels a heatmap is written on the lesion's box (a sub-grid of the
#: input: same spacing and direction, origin on an input voxel) instead of the full grid.
FULL_GRID_HEATMAP_VOXELS = 20_000_000


def write_plane_explanation(folder: Path, image: ImageData, lesion, planes, maps: dict[str, np.ndarray],
                            outcome: dict[str, Any], model_name: str, cam: str, heatmap_grid: str, overlays: bool,
                            facts: dict[str, Any]) -> None:
    """Write ``heatmap_<lesion>.nrrd`` (+ PNGs when ``overlays``) into ``folder``; describe them in ``facts``."""
    box = heatmap_from_planes(image.shape_kji, image.geometry, lesion.bbox_ijk, planes, maps)
    full = heatmap_grid == "full" or (heatmap_grid == "auto" and int(np.prod(image.shape_kji)) <= FULL_GRID_HEATMAP_VOXELS)
    if full:
        heat = ImageData(box.on_full_grid(image.shape_kji), image.geometry, source="heatmap", meta={"modality": "heatmap"})
    else:
        heat = ImageData(box.array, box.geometry(image.geometry), source="heatmap", meta={"modality": "heatmap"})
    heat_name = f"heatmap_{lesion.lesion_id}.nrrd"
    write_nrrd(heat, folder / heat_name)
    facts["heatmap"] = {"file": heat_name, "grid": "input" if full else "lesion box (sub-grid of the input)",
                        "offset_kji": [0, 0, 0] if full else list(box.offset_kji), "method": cam,
                        "explained_class": outcome["prediction"], "model": model_name,
                        "peak": round(float(box.array.max()), 4)}
    if facts["heatmap"]["peak"] == 0:
        facts["heatmap"]["note"] = (f"{cam} found no positive evidence for the {outcome['prediction']} class "
                                    "(the map is zero everywhere); --cam gradcam++ often still shows where the model looked")
    if not overlays:
        return
    crops = {p: planes.frames[p][0].image for p in maps}
    titles = {p: f"{PLANE_NAMES[p]} {outcome['per_plane'][PLANE_NAMES[p]]:.2f}" for p in maps}
    files = [save_plane_overlays(folder / f"planes_{lesion.lesion_id}.png", crops, maps, titles).name]
    if image.is_2d:
        heat_full = box.on_full_grid(image.shape_kji)[0]
        files.append(save_image_overlay(folder / f"overlay_{lesion.lesion_id}.png", image.array[0], heat_full, lesion.mask[0]).name)
    facts.setdefault("overlays", []).extend(files)
