"""One entry point per need: any image, a 3D volume, or a 2D image.

Format is chosen from the path: a folder is a DICOM series; a file with the DICOM
preamble or ``.dcm`` is DICOM; ``.png/.jpg/.jpeg/.tif/.tiff/.bmp`` go through Pillow;
``.nrrd/.nhdr/.nii/.nii.gz/.mha/.mhd`` through SimpleITK. Every problem raises
:class:`~BreastUSAITraining.errors.InputFileError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from ..errors import InputFileError
from .colour import COLOUR_MODES, apply_colour_mode
from .detached_data import check_metaimage_data_file, check_nrrd_data_files
from .dicom import is_dicom_file, read_dicom_file, read_dicom_series
from .image import SAFE_META_KEYS, ImageData, max_image_bytes
from .metaimage_check import check_metaimage_header
from .nifti_check import check_nifti_complete
from .raster import RASTER_SUFFIXES, read_raster
from .sitk_bridge import array_from_sitk, geometry_from_sitk

VOLUME_SUFFIXES = (".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd")
SUPPORTED_SUFFIXES = VOLUME_SUFFIXES + RASTER_SUFFIXES + (".dcm",)

#: Pixel types accepted from volume files (SimpleITK component type -> bytes).
_COMPONENT_BYTES = {
    sitk.sitkUInt8: 1, sitk.sitkInt8: 1, sitk.sitkUInt16: 2, sitk.sitkInt16: 2,
    sitk.sitkUInt32: 4, sitk.sitkInt32: 4, sitk.sitkFloat32: 4, sitk.sitkFloat64: 8,
}
_VECTOR_TO_COMPONENT = {
    sitk.sitkVectorUInt8: sitk.sitkUInt8, sitk.sitkVectorInt8: sitk.sitkInt8,
    sitk.sitkVectorUInt16: sitk.sitkUInt16, sitk.sitkVectorInt16: sitk.sitkInt16,
    sitk.sitkVectorUInt32: sitk.sitkUInt32, sitk.sitkVectorInt32: sitk.sitkInt32,
    sitk.sitkVectorFloat32: sitk.sitkFloat32, sitk.sitkVectorFloat64: sitk.sitkFloat64,
}


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def _read_with_sitk(path: Path) -> ImageData:
    if _suffix(path) in (".mha", ".mhd"):
        check_metaimage_header(path)  # ITK crashes (not raises) on some hostile MetaImage headers
        check_metaimage_data_file(path)  # and follows ElementDataFile anywhere on disk
    if _suffix(path) in (".nrrd", ".nhdr"):
        check_nrrd_data_files(path)
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as error:
        detail = str(error).strip().splitlines()[-1][:200]
        raise InputFileError(path, f"unreadable or corrupt header ({detail})") from None
    dimension = reader.GetDimension()
    size = reader.GetSize()
    if dimension not in (2, 3):
        raise InputFileError(path, f"image has {dimension} dimensions {tuple(size)}; only 2D and 3D images are supported")
    if min(size) <= 0:
        raise InputFileError(path, f"image has an empty dimension, size {tuple(size)}")
    pixel_id = reader.GetPixelID()
    components = reader.GetNumberOfComponents()
    component_id = _VECTOR_TO_COMPONENT.get(pixel_id, pixel_id)
    if component_id not in _COMPONENT_BYTES or components not in (1, 3, 4):
        raise InputFileError(
            path, f"unsupported pixel type {sitk.GetPixelIDValueAsString(pixel_id)} with {components} component(s)"
        )
    needed = int(np.prod(size, dtype=np.float64)) * components * 8
    if needed > max_image_bytes():
        raise InputFileError(
            path, f"header claims {tuple(size)} voxels ({needed / 1e9:.1f} GB), over the limit of "
            f"{max_image_bytes() / 1e9:.1f} GB (set BREASTUSAI_MAX_IMAGE_BYTES to raise it)"
        )
    if _suffix(path) in (".nii", ".nii.gz"):
        check_nifti_complete(path, int(np.prod(size)) * components * _COMPONENT_BYTES[component_id])
    try:
        image = reader.Execute()
    except RuntimeError as error:
        detail = str(error).strip().splitlines()[-1][:200]
        raise InputFileError(path, f"truncated or corrupt pixel data ({detail})") from None
    meta = {key: reader.GetMetaData(key) for key in reader.GetMetaDataKeys() if key in SAFE_META_KEYS}
    return ImageData(array_from_sitk(image), geometry_from_sitk(image), str(path), meta)


def read_image(
    path: str | Path,
    colour: str = "grey",
    spacing_mm: tuple[float, float] | None = None,
    series_uid: str | None = None,
) -> ImageData:
    """Read any supported image file or DICOM series folder.

    Args:
        path: file, or folder holding a DICOM series.
        colour: ``"grey"`` converts RGB to grey (B-mode, MG); ``"keep"`` keeps RGB
            (Doppler, elastography). See :mod:`.colour`.
        spacing_mm: (column, row) pixel spacing for raster formats that carry none.
        series_uid: which series to read from a folder holding several.

    Returns:
        ImageData with array (K, J, I) or (K, J, I, 3) and its geometry.
    """
    path = Path(path)
    if colour not in COLOUR_MODES:
        raise ValueError(f"colour must be one of {COLOUR_MODES}, got {colour!r}")
    if not path.exists():
        raise InputFileError(path, "file not found")
    if path.is_dir():
        image = read_dicom_series(path, series_uid)
    else:
        if path.stat().st_size == 0:
            raise InputFileError(path, "file is empty (0 bytes)")
        suffix = _suffix(path)
        if suffix in RASTER_SUFFIXES and not is_dicom_file(path):
            image = read_raster(path, spacing_mm)
        elif is_dicom_file(path):
            image = read_dicom_file(path)
        elif suffix in VOLUME_SUFFIXES:
            image = _read_with_sitk(path)
        else:
            raise InputFileError(
                path, f"unsupported file type {suffix or '(no extension)'}; supported: {', '.join(SUPPORTED_SUFFIXES)} or a DICOM folder"
            )
    _check_values(path, image.array)
    image.array = apply_colour_mode(image.array, colour)
    if image.geometry.problems():
        raise InputFileError(path, "invalid geometry: " + "; ".join(image.geometry.problems()))
    return image


def _check_values(path: Path, array: np.ndarray) -> None:
    if array.size == 0:
        raise InputFileError(path, f"image has no voxels (shape {array.shape})")
    if np.issubdtype(array.dtype, np.floating):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        if bad:
            raise InputFileError(path, f"image holds {bad} NaN or infinite value(s)")
    elif not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        raise InputFileError(path, f"unsupported pixel data type {array.dtype}")


def read_volume(path: str | Path, series_uid: str | None = None) -> ImageData:
    """Read a grey 3D volume (ABVS): NRRD, NIfTI, MetaImage, DICOM series or multi-frame.

    Refuses 2D images and colour volumes with a clear message.
    """
    image = read_image(path, colour="keep", series_uid=series_uid)
    if image.is_colour:
        raise InputFileError(path, "expected a grey 3D volume, found a colour image")
    if image.is_2d:
        raise InputFileError(path, f"expected a 3D volume, found a 2D image of {image.array.shape[1]} x {image.array.shape[2]} pixels")
    return image


def read_image_2d(
    path: str | Path, colour: str = "grey", spacing_mm: tuple[float, float] | None = None
) -> ImageData:
    """Read a 2D image (US B-mode / Doppler / elastography, MG) with the colour rule.

    Returns shape (1, J, I) or, with ``colour="keep"`` and a colour file, (1, J, I, 3).
    """
    image = read_image(path, colour=colour, spacing_mm=spacing_mm)
    if not image.is_2d:
        raise InputFileError(path, f"expected a 2D image, found a volume of {image.array.shape[0]} slices")
    return image
