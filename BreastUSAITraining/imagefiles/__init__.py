"""Reading and writing medical image files with their geometry.

Public entry points:

* :func:`read_image`, :func:`read_volume`, :func:`read_image_2d` -> :class:`ImageData`
* :func:`write_nrrd` (any :class:`ImageData`, geometry kept)
* :func:`read_segmentation`, :func:`write_segmentation` for Slicer ``.seg.nrrd`` files

Every input problem raises :class:`BreastUSAITraining.errors.InputFileError`.
"""

from .image import ImageData, max_image_bytes
from .readers import SUPPORTED_SUFFIXES, read_image, read_image_2d, read_volume
from .segmentation import Segment, SegmentationData, read_segmentation, write_segmentation
from .writers import write_nrrd

__all__ = [
    "ImageData",
    "max_image_bytes",
    "read_image",
    "read_image_2d",
    "read_volume",
    "SUPPORTED_SUFFIXES",
    "write_nrrd",
    "Segment",
    "SegmentationData",
    "read_segmentation",
    "write_segmentation",
]
