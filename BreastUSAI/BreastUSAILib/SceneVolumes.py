"""Volume nodes <-> the engine's images (array + geometry), geometry kept exactly.

* An engine :class:`~BreastUSAITraining.imagefiles.ImageData` becomes a
  vtkMRMLScalarVolumeNode (grey) or vtkMRMLVectorVolumeNode (RGB Doppler /
  elastography); 2D images become single-slice volumes. IJK-to-RAS comes from the
  geometry (LPS -> RAS: first two axes negated).
* A volume node becomes an ImageData with the same array (K, J, I[, 3]) and geometry;
  a linear parent transform is applied to the geometry, a non-linear one is refused
  (it would silently move the lesion).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from BreastUSAITraining.geometry import Geometry
from BreastUSAITraining.imagefiles import ImageData, read_image
from BreastUSAITraining.imagefiles.colour import colour_mode_for

from .ImageKinds import KIND_ATTRIBUTE, KindGuess, checkKind, recogniseImageKind

RAS_FLIP = np.diag([-1.0, -1.0, 1.0, 1.0])
BURNED_IN_ATTRIBUTE = "BreastUSAI.BurnedInAnnotation"


def _vtk_matrix(array: np.ndarray):
    import vtk

    matrix = vtk.vtkMatrix4x4()
    for r in range(4):
        for c in range(4):
            matrix.SetElement(r, c, float(array[r, c]))
    return matrix


def _numpy_matrix(matrix) -> np.ndarray:
    return np.array([[matrix.GetElement(r, c) for c in range(4)] for r in range(4)])


def _image_data(array: np.ndarray):
    """vtkImageData holding a copy of ``array`` (K, J, I) or (K, J, I, C)."""
    import vtk
    from vtk.util import numpy_support

    k, j, i = array.shape[:3]
    components = array.shape[3] if array.ndim == 4 else 1
    data = vtk.vtkImageData()
    data.SetDimensions(i, j, k)
    scalars = numpy_support.numpy_to_vtk(np.ascontiguousarray(array).reshape(-1, components), deep=True)
    scalars.SetName("ImageScalars")
    data.GetPointData().SetScalars(scalars)
    return data


def volumeNodeFromImage(scene, image: ImageData, name: str, kind: str | None = None):
    """Add ``image`` to ``scene`` as a volume node called ``name``; returns the node."""
    colour = image.is_colour
    node = scene.AddNewNodeByClass("vtkMRMLVectorVolumeNode" if colour else "vtkMRMLScalarVolumeNode", name)
    node.SetAndObserveImageData(_image_data(image.array))
    node.SetIJKToRASMatrix(_vtk_matrix(image.geometry.ijk_to_ras()))
    node.CreateDefaultDisplayNodes()
    if kind is not None:
        node.SetAttribute(KIND_ATTRIBUTE, checkKind(kind))
    return node


def _world_ijk_to_ras(node) -> np.ndarray:
    import vtk

    ijk_to_ras = vtk.vtkMatrix4x4()
    node.GetIJKToRASMatrix(ijk_to_ras)
    result = _numpy_matrix(ijk_to_ras)
    parent = node.GetParentTransformNode()
    if parent is not None:
        if not parent.IsTransformToWorldLinear():
            raise ValueError(f"volume {node.GetName()!r} is under a non-linear transform; harden it first")
        to_world = vtk.vtkMatrix4x4()
        parent.GetMatrixTransformToWorld(to_world)
        result = _numpy_matrix(to_world) @ result
    return result


def geometryOfNode(node) -> Geometry:
    """Spacing, origin (LPS) and direction of a volume node in world space."""
    ijk_to_lps = RAS_FLIP @ _world_ijk_to_ras(node)
    axes = ijk_to_lps[:3, :3]
    spacing = np.linalg.norm(axes, axis=0)
    if np.any(spacing <= 0):
        raise ValueError(f"volume {node.GetName()!r} has a zero spacing")
    return Geometry(tuple(spacing), tuple(ijk_to_lps[:3, 3]), tuple((axes / spacing).ravel()))


def arrayOfNode(node) -> np.ndarray:
    """A copy of the voxels of a volume node, (K, J, I) or (K, J, I, C)."""
    from vtk.util import numpy_support

    data = node.GetImageData()
    if data is None or data.GetPointData().GetScalars() is None:
        raise ValueError(f"volume {node.GetName()!r} holds no image data")
    i, j, k = data.GetDimensions()
    values = numpy_support.vtk_to_numpy(data.GetPointData().GetScalars())
    components = data.GetNumberOfScalarComponents()
    shape = (k, j, i, components) if components > 1 else (k, j, i)
    return values.reshape(shape).copy()


def imageFromVolumeNode(node) -> ImageData:
    """The engine's view of a volume node: array, geometry and kind (in ``meta['modality']``)."""
    array = arrayOfNode(node)
    if array.ndim == 4 and array.shape[3] != 3:
        raise ValueError(f"volume {node.GetName()!r} has {array.shape[3]} components; only grey or RGB images are read")
    kind = node.GetAttribute(KIND_ATTRIBUTE)
    return ImageData(array, geometryOfNode(node), source=node.GetName(), meta={"modality": kind} if kind else {})


def imageKindOfNode(node) -> str | None:
    """The kind recorded on the node (None when not yet known)."""
    return node.GetAttribute(KIND_ATTRIBUTE) or None


def setImageKind(node, kind: str) -> None:
    """Record the user's (or the recogniser's) image kind on the node."""
    node.SetAttribute(KIND_ATTRIBUTE, checkKind(kind))


def loadImageFile(scene, path: str | Path, kind: str | None = None, name: str | None = None) -> tuple[object, KindGuess]:
    """Read an image file or DICOM series folder into a volume node.

    The kind is ``kind`` when given, else recognised from the file; colour is kept for
    Doppler / elastography and dropped (to grey) otherwise. Returns (node, guess); when
    ``guess.kind`` is None the node has no kind yet and the caller asks the user.
    """
    path = Path(path)
    from BreastUSAITraining.imagefiles.frame_stack import is_frame_stack

    if is_frame_stack(path):
        return loadFrameStack(scene, path, kind, name)
    probe = read_image(path, colour="keep")
    guess = KindGuess(checkKind(kind), "chosen by the user") if kind else recogniseImageKind(probe.meta, probe.shape_kji, probe.is_colour)
    image = probe
    if guess.kind is not None and colour_mode_for(guess.kind) != "keep" and probe.is_colour:
        image = read_image(path, colour=colour_mode_for(guess.kind))
    node_name = name or path.name.split(".")[0]
    node = volumeNodeFromImage(scene, image, node_name, guess.kind)
    rememberDicomSource(node, path, probe.meta)
    if probe.meta.get("BurnedInAnnotation", "").strip().upper() == "YES":
        node.SetAttribute(BURNED_IN_ATTRIBUTE, "YES")  # text in the pixels may name the patient: export warns
    return node, guess


FRAME_STACK_ATTRIBUTE = "BreastUSAI.FrameStack"  # the frames' labels, "|"-separated: the node is a 2D stack
FRAME_ATTRIBUTE = "BreastUSAI.FrameOf"            # a frame taken out of a stack: "<stack node name>|<label>"
SOURCE_FOLDER_ATTRIBUTE = "BreastUSAI.SourceFolder"  # the folder a frame stack was read from
SOURCE_DICOM_ATTRIBUTE = "BreastUSAI.SourceDicom"    # the DICOM file a 2D image was read from (scene only)
SOURCE_FRAME_ATTRIBUTE = "BreastUSAI.SourceFrame"    # and its frame (1-based) when that file is a cine loop
REGION_ATTRIBUTE = "BreastUSAI.UltrasoundRegion"     # x0,y0,x1,y1 of the tissue region it was cropped to


def loadFrameStack(scene, path: str | Path, kind: str | None = None, name: str | None = None) -> tuple[object, KindGuess]:
    """An ultrasound frame stack (captures without positions, a cine loop) as one node the views can
    scroll frame by frame (slice k = frame k, 1 "mm" apart: the frames are not placed in space; the
    node says so). The AI reads single frames: :func:`frameOfStack` takes one out as a 2D image."""
    from BreastUSAITraining.imagefiles.frame_stack import read_frame_stack

    guess = KindGuess(checkKind(kind or "us_bmode"), "a 2D frame stack (ultrasound frames without positions)")
    stack = read_frame_stack(path, colour=colour_mode_for(guess.kind))
    first = stack.frames[0]
    shapes = {frame.array.shape for frame in stack.frames}
    if len(shapes) != 1:
        raise ValueError(f"{path}: the frames differ in size ({', '.join(map(str, sorted(shapes)))}); load them one by one")
    spacing = first.geometry.spacing
    geometry = Geometry((spacing[0], spacing[1], 1.0), first.geometry.origin, first.geometry.direction)
    image = ImageData(np.concatenate([frame.array for frame in stack.frames], axis=0), geometry, str(path), dict(first.meta))
    node = volumeNodeFromImage(scene, image, name or path.name.split(".")[0], guess.kind)
    node.SetAttribute(FRAME_STACK_ATTRIBUTE, "|".join(stack.labels))
    node.SetAttribute(SOURCE_FOLDER_ATTRIBUTE, str(path))
    if first.meta.get("BurnedInAnnotation", "").strip().upper() == "YES":
        node.SetAttribute(BURNED_IN_ATTRIBUTE, "YES")
    return node, guess


def frameOfStack(scene, stack_node, index: int):
    """Frame ``index`` (0-based) of a frame-stack node as its own 2D volume node (same pixels, spacing
    and kind), named after the frame."""
    labels = (stack_node.GetAttribute(FRAME_STACK_ATTRIBUTE) or "").split("|")
    if not stack_node.GetAttribute(FRAME_STACK_ATTRIBUTE):
        raise ValueError(f"{stack_node.GetName()!r} is not a frame stack")
    if not 0 <= index < len(labels):
        raise ValueError(f"frame {index + 1} does not exist: the stack has {len(labels)} frames")
    image = imageFromVolumeNode(stack_node)
    frame = ImageData(image.array[index : index + 1].copy(), image.geometry, image.source, dict(image.meta))
    node = volumeNodeFromImage(scene, frame, f"{stack_node.GetName()} {labels[index]}", imageKindOfNode(stack_node))
    node.SetAttribute(FRAME_ATTRIBUTE, f"{stack_node.GetName()}|{labels[index]}")
    folder = Path(stack_node.GetAttribute(SOURCE_FOLDER_ATTRIBUTE) or "")
    if folder.is_dir() and (folder / labels[index]).is_file():  # a capture file
        rememberDicomSource(node, folder / labels[index], image.meta)
    elif folder.is_file() and labels[index] == f"frame {index + 1}":  # a frame of a cine loop (one multi-frame file)
        rememberDicomSource(node, folder, image.meta)
        node.SetAttribute(SOURCE_FRAME_ATTRIBUTE, str(index + 1))
    return node


def rememberDicomSource(node, path: Path, meta: dict) -> None:
    """Keep, in the scene only, which DICOM file a node came from (and its ultrasound-region crop), so
    results can go back to the PACS as DICOM SEG / SR referencing it. Never exported."""
    from BreastUSAITraining.imagefiles.dicom import is_dicom_file

    if Path(path).is_file() and is_dicom_file(Path(path)):
        node.SetAttribute(SOURCE_DICOM_ATTRIBUTE, str(path))
        if meta.get("ultrasound_region"):
            node.SetAttribute(REGION_ATTRIBUTE, meta["ultrasound_region"])
