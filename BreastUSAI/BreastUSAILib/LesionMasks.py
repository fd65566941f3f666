"""Lesion masks between segmentation nodes, arrays and ``.seg.nrrd`` files.

A mask is a (K, J, I) bool array on a reference volume's voxel grid. Segments are
written with that volume's IJK-to-RAS, and read back resampled onto the reference grid
by Slicer's own segmentation logic, so oblique and flipped geometries stay exact.
Files are written through a temporary file in the same folder and renamed (atomic).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .SceneVolumes import _image_data, _vtk_matrix, _world_ijk_to_ras, arrayOfNode

LESION_COLOURS = [(0.95, 0.75, 0.20), (0.30, 0.60, 0.95), (0.85, 0.35, 0.85), (0.35, 0.85, 0.75), (0.95, 0.50, 0.30)]


def createLesionSegmentation(scene, volume_node, name: str | None = None):
    """A new segmentation node whose reference geometry is ``volume_node``'s grid."""
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name or f"{volume_node.GetName()} lesions")
    node.CreateDefaultDisplayNodes()
    node.SetReferenceImageGeometryParameterFromVolumeNode(volume_node)
    node.SetNodeReferenceID("referenceImageGeometryRef", volume_node.GetID())
    return node


def referenceVolumeOf(segmentation_node):
    """The volume the segmentation was drawn on (None when unknown)."""
    return segmentation_node.GetNodeReference("referenceImageGeometryRef")


def addLesionSegment(segmentation_node, volume_node, mask: np.ndarray, name: str,
                     colour: tuple[float, float, float] | None = None) -> str:
    """Add ``mask`` ((K, J, I) bool on ``volume_node``'s grid) as a segment; returns its id."""
    import slicer

    mask = np.asarray(mask, dtype=bool)
    shape = arrayOfNode(volume_node).shape[:3]
    if mask.shape != shape:
        raise ValueError(f"mask shape {mask.shape} differs from volume {volume_node.GetName()!r} shape {shape}")
    if not mask.any():
        raise ValueError(f"segment {name!r}: the mask is empty")
    segmentation = segmentation_node.GetSegmentation()
    colour = colour or LESION_COLOURS[segmentation.GetNumberOfSegments() % len(LESION_COLOURS)]
    segment_id = segmentation.AddEmptySegment(name, name, list(colour))
    labelmap = slicer.vtkOrientedImageData()
    labelmap.ShallowCopy(_image_data(mask.astype(np.uint8)))
    labelmap.SetImageToWorldMatrix(_vtk_matrix(_world_ijk_to_ras(volume_node)))
    if not slicer.vtkSlicerSegmentationsModuleLogic.SetBinaryLabelmapToSegment(
            labelmap, segmentation_node, segment_id, slicer.vtkSlicerSegmentationsModuleLogic.MODE_REPLACE):
        segmentation.RemoveSegment(segment_id)
        raise RuntimeError(f"Slicer could not store the mask of segment {name!r}")
    return segment_id


def lesionMask(segmentation_node, segment_id: str, volume_node) -> np.ndarray:
    """The segment as a (K, J, I) bool array on ``volume_node``'s grid."""
    import slicer
    import vtk

    if segmentation_node.GetSegmentation().GetSegment(segment_id) is None:
        raise KeyError(f"segmentation {segmentation_node.GetName()!r} has no segment {segment_id!r}")
    scene = segmentation_node.GetScene()
    labelmap = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "BreastUSAI temporary labelmap")
    try:
        ids = vtk.vtkStringArray()
        ids.InsertNextValue(segment_id)
        if not slicer.vtkSlicerSegmentationsModuleLogic.ExportSegmentsToLabelmapNode(segmentation_node, ids, labelmap, volume_node):
            raise RuntimeError(f"Slicer could not export segment {segment_id!r} onto {volume_node.GetName()!r}")
        return arrayOfNode(labelmap) > 0
    finally:
        scene.RemoveNode(labelmap)


def saveSegmentationFile(segmentation_node, path: str | Path) -> Path:
    """Write the node to ``path`` (``.seg.nrrd``, segment tags included) atomically."""
    path = Path(path)
    if not path.name.endswith(".seg.nrrd"):
        raise ValueError(f"{path}: a segmentation file must end in .seg.nrrd")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial.seg.nrrd")
    scene = segmentation_node.GetScene()
    storage = scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
    try:
        storage.SetFileName(str(temporary))
        storage.SetUseCompression(True)
        if not storage.WriteData(segmentation_node):
            raise OSError(f"{path}: Slicer could not write the segmentation")
        os.replace(temporary, path)
    finally:
        scene.RemoveNode(storage)
        if temporary.exists():
            temporary.unlink()
    return path


def loadSegmentationFile(scene, path: str | Path, reference_volume=None, name: str | None = None):
    """Read a ``.seg.nrrd`` into a new segmentation node (tags kept); ValueError naming the file when unreadable."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    node = scene.AddNewNodeByClass("vtkMRMLSegmentationNode", name or path.name[: -len(".seg.nrrd")])
    storage = scene.AddNewNodeByClass("vtkMRMLSegmentationStorageNode")
    storage.SetFileName(str(path))
    if not storage.ReadData(node):
        scene.RemoveNode(storage)
        scene.RemoveNode(node)
        raise ValueError(f"{path}: not a readable segmentation file")
    node.SetAndObserveStorageNodeID(storage.GetID())
    node.CreateDefaultDisplayNodes()
    if reference_volume is not None:
        node.SetNodeReferenceID("referenceImageGeometryRef", reference_volume.GetID())
    return node
