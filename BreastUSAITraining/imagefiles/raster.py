"""2D raster images (PNG, JPEG, TIFF, BMP) through Pillow.

These formats carry no patient geometry: the image gets ``spacing_mm`` if the
caller knows it (else 1 mm with ``meta["spacing_known"] = "0"``), origin 0 and the
identity direction - the same placement 3D Slicer gives a PNG.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import InputFileError
from ..geometry import Geometry
from .image import ImageData, max_image_bytes

RASTER_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

# Pillow mode -> (bytes per pixel, how to turn it into a numpy array)
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 3, "LA": 2, "PA": 4, "RGB": 3, "RGBA": 4, "CMYK": 4, "YCbCr": 3,
                    "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2, "I": 4, "F": 4}


def _to_array(image: Image.Image) -> np.ndarray:
    """Pillow image -> (J, I) or (J, I, 3) array, dtype kept (palette expanded to RGB)."""
    mode = image.mode
    if mode == "1":
        return np.asarray(image, dtype=np.uint8)  # 0 / 1
    if mode in ("P", "PA", "CMYK", "YCbCr"):
        return np.asarray(image.convert("RGB"))
    if mode == "LA":
        return np.asarray(image)[..., 0]
    if mode == "RGBA":
        return np.asarray(image)[..., :3]
    if mode.startswith("I;16"):
        return np.asarray(image).astype(np.uint16)
    return np.asarray(image)


def read_raster(path: Path, spacing_mm: tuple[float, float] | None = None) -> ImageData:
    """Read a PNG / JPEG / TIFF / BMP file as a single-slice ImageData.

    Returns shape (1, J, I) for grey or (1, J, I, 3) for colour (alpha dropped,
    palette expanded); 16-bit images stay uint16; the colour rule is applied later.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                frames = getattr(image, "n_frames", 1)
                if frames > 1:
                    raise InputFileError(path, f"holds {frames} pages/frames; expected one 2D image")
                if width <= 0 or height <= 0:
                    raise InputFileError(path, f"image has an empty dimension ({width} x {height})")
                needed = width * height * _BYTES_PER_PIXEL.get(image.mode, 8)
                if needed > max_image_bytes():
                    raise InputFileError(path, f"image claims {width} x {height} pixels, over the size limit")
                if image.mode not in _BYTES_PER_PIXEL:
                    raise InputFileError(path, f"unsupported pixel mode {image.mode!r}")
                image.load()
                array = _to_array(image)
    except InputFileError:
        raise
    except UnidentifiedImageError:
        raise InputFileError(path, f"not a readable {path.suffix.lstrip('.').upper() or 'image'} file (unknown or corrupt format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InputFileError(path, f"image is implausibly large ({error})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise InputFileError(path, f"truncated or corrupt image data ({error})") from None
    meta = {}
    if spacing_mm is None:
        spacing = (1.0, 1.0, 1.0)
        meta["spacing_known"] = "0"
    else:
        spacing = (float(spacing_mm[0]), float(spacing_mm[1]), 1.0)
    return ImageData(array[np.newaxis], Geometry(spacing), str(path), meta)
