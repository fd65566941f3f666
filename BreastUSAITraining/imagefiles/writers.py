"""Writing images with their geometry."""

from __future__ import annotations

from pathlib import Path

import SimpleITK as sitk

from ..atomic import atomic_path
from .image import ImageData
from .sitk_bridge import sitk_from_array


def write_nrrd(image: ImageData, path: str | Path, compress: bool = True) -> Path:
    """Write ``image`` to an NRRD file atomically, keeping spacing, origin and direction.

    Colour images are written as 3-component vectors (Slicer shows them as RGB);
    the safe meta tags go into the header as ``key:=value`` lines.
    Returns the path written.
    """
    path = Path(path)
    if not path.name.endswith((".nrrd", ".seg.nrrd")):
        raise ValueError(f"{path}: write_nrrd needs a .nrrd file name")
    itk_image = sitk_from_array(image.array, image.geometry)
    for key, value in image.meta.items():
        itk_image.SetMetaData(key, value)
    with atomic_path(path) as tmp:
        sitk.WriteImage(itk_image, str(tmp), useCompression=compress)
    return path
