"""The in-memory image: a numpy array plus its geometry."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..geometry import Geometry

#: Default ceiling on the decoded size of one image (bytes). A header that claims more
#: is refused before any pixel memory is allocated. Override with the environment
#: variable ``BREASTUSAI_MAX_IMAGE_BYTES``. 4 GiB holds a full ABVS volume (147 MB)
#: many times over.
DEFAULT_MAX_IMAGE_BYTES = 4 * 1024**3

#: Descriptive, non-identifying tags an image may carry (from DICOM or our own NRRD
#: headers). Nothing outside this list is ever copied, so patient identifiers cannot
#: travel with an image.
SAFE_META_KEYS = (
    "Modality",
    "SOPClassUID",
    "PhotometricInterpretation",
    "ViewPosition",
    "ImageLaterality",
    "Laterality",
    "BodyPartExamined",
    "ImageType",
    "BurnedInAnnotation",
    "Manufacturer",
    "ManufacturerModelName",
    "BitsStored",
    "NumberOfFrames",
    "spacing_known",
    "ultrasound_region",
    "colour",
    "modality",
)


def max_image_bytes() -> int:
    """The decoded-size ceiling in force (bytes)."""
    value = os.environ.get("BREASTUSAI_MAX_IMAGE_BYTES")
    return int(value) if value else DEFAULT_MAX_IMAGE_BYTES


@dataclass
class ImageData:
    """An image and where it lies in patient space.

    ``array`` has shape ``(K, J, I)`` for grey data or ``(K, J, I, 3)`` for RGB, with
    ``K == 1`` for 2D images. ``geometry`` maps index ``(i, j, k)`` to LPS mm.
    ``source`` is the file it came from (for messages); ``meta`` holds only
    :data:`SAFE_META_KEYS`.
    """

    array: np.ndarray
    geometry: Geometry
    source: str = "<memory>"
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.array.ndim not in (3, 4) or (self.array.ndim == 4 and self.array.shape[-1] != 3):
            raise ValueError(
                f"{self.source}: image array must be (K, J, I) or (K, J, I, 3), got shape {self.array.shape}"
            )
        self.meta = {k: str(v) for k, v in self.meta.items() if k in SAFE_META_KEYS}

    @property
    def is_colour(self) -> bool:
        """True for RGB images (last axis of 3 channels)."""
        return self.array.ndim == 4

    @property
    def is_2d(self) -> bool:
        """True for single-slice images."""
        return self.array.shape[0] == 1

    @property
    def shape_kji(self) -> tuple[int, int, int]:
        """Spatial shape (K, J, I)."""
        return tuple(int(v) for v in self.array.shape[:3])  # type: ignore[return-value]

    @property
    def plane(self) -> np.ndarray:
        """The single slice of a 2D image: (J, I) or (J, I, 3)."""
        if not self.is_2d:
            raise ValueError(f"{self.source}: has {self.array.shape[0]} slices, not a 2D image")
        return self.array[0]
