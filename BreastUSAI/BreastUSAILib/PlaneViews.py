"""Move the Red / Yellow / Green slice views to a lesion's transverse / sagittal / coronal
planes (SPEC 3.2), and hand out the plane crops the classifier sees.

The planes come from the engine (:func:`BreastUSAITraining.planes.extract.extract_planes`):
through the lesion's centroid, along the volume's own index axes (for ABVS: k the sweep,
i lateral, j depth). Each view gets the plane's normal and in-plane column axis in RAS and
the plane centre as position, and a field of view of the crop window, so what the reader
sees is what the classifier read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from BreastUSAITraining.planes.extract import PLANES, LesionPlanes, extract_planes

from .HeadlessSlicer import sliceCompositeNodes, sliceNodes
from .LesionMasks import lesionMask
from .SceneVolumes import imageFromVolumeNode

#: plane code -> slice view that shows it
PLANE_VIEWS = {"T": "Red", "S": "Yellow", "C": "Green"}


def lesionPlanes(volume_node, segmentation_node, segment_id: str, frames: int = 1, size: int = 224,
                 margin: float = 0.3) -> tuple[LesionPlanes, Any]:
    """The lesion's plane frames (T, S, C for a volume; T for a 2D image) and the image read."""
    image = imageFromVolumeNode(volume_node)
    grey = image.array if not image.is_colour else image.array.mean(axis=3)
    mask = lesionMask(segmentation_node, segment_id, volume_node)
    if not mask.any():
        raise ValueError(f"segment {segment_id!r} is empty on {volume_node.GetName()!r}: draw or segment the lesion first")
    planes = "T" if image.is_2d else "TSC"
    return extract_planes(grey, image.geometry, mask, planes, frames, size, margin), image


def showLesionPlanes(scene, volume_node, segmentation_node, segment_id: str) -> dict[str, dict[str, Any]]:
    """Point each slice view at its plane through the lesion; returns, per view, the plane
    name, normal / column axis / centre in RAS and the window in mm (what was set)."""
    planes, image = lesionPlanes(volume_node, segmentation_node, segment_id)
    views, composites = sliceNodes(scene), sliceCompositeNodes(scene)
    ijk_to_ras = image.geometry.ijk_to_ras()
    axes_ras = ijk_to_ras[:3, :3] / np.linalg.norm(ijk_to_ras[:3, :3], axis=0)
    placed: dict[str, dict[str, Any]] = {}
    for code, frames in planes.frames.items():
        view = PLANE_VIEWS[code]
        if view not in views:
            raise RuntimeError(f"the scene has no {view} slice view")
        name, fixed, _, column = PLANES[code]
        frame = frames[0]
        centre = image.geometry.index_to_ras(np.array(frame.centre_ijk))
        normal, transverse = axes_ras[:, fixed], axes_ras[:, column]
        node = views[view]
        node.SetSliceToRASByNTP(*normal, *transverse, *centre, 0)
        node.SetFieldOfView(frame.window.side_mm, frame.window.side_mm, node.GetFieldOfView()[2])
        node.UpdateMatrices()
        if view in composites:
            composites[view].SetBackgroundVolumeID(volume_node.GetID())
        placed[view] = {"plane": name, "normal_ras": normal.tolist(), "column_ras": transverse.tolist(),
                        "centre_ras": centre.tolist(), "centre_ijk": list(frame.centre_ijk),
                        "window_mm": frame.window.side_mm}
    return placed


def planeCrops(volume_node, segmentation_node, segment_id: str, frames: int = 1, size: int = 224) -> dict[str, np.ndarray]:
    """Plane name -> (size, size) float32 crop in [0, 1] (first frame), for the panel."""
    planes, _ = lesionPlanes(volume_node, segmentation_node, segment_id, frames, size)
    return {PLANES[code][0]: frames_[0].image for code, frames_ in planes.frames.items()}
