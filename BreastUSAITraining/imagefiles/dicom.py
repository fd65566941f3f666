"""DICOM images: single frames, multi-frame files and series folders.

Pixels are decoded by SimpleITK (GDCM: handles JPEG, JPEG-LS, JPEG 2000 and RLE
transfer syntaxes, applies the palette of PALETTE COLOR images and shows MONOCHROME1
with white = high values). Tags are read with pydicom and only the descriptive,
non-identifying ones in :data:`~.image.SAFE_META_KEYS` are kept.

Geometry:

* single frames and series: SimpleITK's (ImagePositionPatient / ImageOrientationPatient
  / PixelSpacing). A series with unevenly spaced slices is refused.
* multi-frame files: the functional groups (Pixel Measures, Plane Orientation [Volume],
  Plane Position [Volume]) are read here, because GDCM ignores them for ultrasound
  volumes. Frames must be evenly spaced and stacked perpendicular to the image plane.
* ultrasound without PixelSpacing: the calibrated Sequence of Ultrasound Regions
  (PhysicalDeltaX/Y, in cm) gives the spacing. With no calibration at all the spacing
  is 1 mm and ``meta["spacing_known"] = "0"``.
* ultrasound with a tissue region smaller than the frame: the image is that region (a sub-grid:
  same spacing and direction, its place in patient space kept), so the scanner's overlays
  around it (text, scales, logos) never reach a model; ``meta["ultrasound_region"]`` says so.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import pydicom
import pydicom.config
import SimpleITK as sitk
from pydicom.errors import InvalidDicomError

from ..errors import InputFileError
from ..geometry import Geometry
from .image import SAFE_META_KEYS, ImageData, max_image_bytes
from .sitk_bridge import array_from_sitk, geometry_from_sitk

#: Physical units code of the Sequence of Ultrasound Regions meaning centimetres.
_US_UNITS_CM = 3


def is_dicom_file(path: Path) -> bool:
    """True when the file carries the DICOM preamble ("DICM" at byte 128) or a .dcm suffix."""
    if path.suffix.lower() in (".dcm", ".dicom"):
        return True
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def _decode_elements(ds: pydicom.Dataset) -> None:
    """Decode every header element now (pixel data excepted): a damaged one fails here, as a
    refused file, instead of later in whatever code touches it."""
    for tag in list(ds.keys()):
        if tag == 0x7FE00010:
            continue
        element = ds[tag]
        if element.VR == "SQ":
            for item in element.value:
                _decode_elements(item)


@contextlib.contextmanager
def quiet_pydicom() -> Iterator[None]:
    """pydicom without its value-validation warnings: on a damaged file they print raw element
    values (names, ids) to the log and to stderr. Problems are reported by our own errors."""
    logger = logging.getLogger("pydicom")
    level, mode = logger.level, pydicom.config.settings.reading_validation_mode
    logger.setLevel(logging.ERROR)
    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
        pydicom.config.settings.reading_validation_mode = mode


def _read_header(path: Path) -> pydicom.Dataset:
    try:
        with quiet_pydicom():
            ds = pydicom.dcmread(path, defer_size="1 KB")
            _decode_elements(ds)
        return ds
    except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as error:
        raise InputFileError(path, f"not a readable DICOM file ({error})") from None
    except Exception as error:  # pydicom raises assorted types on corrupt headers
        raise InputFileError(path, f"corrupt DICOM header ({type(error).__name__}: {error})") from None


def safe_tags(ds: pydicom.Dataset) -> dict[str, str]:
    """Descriptive tags only (see SAFE_META_KEYS); never names, ids, dates or institutions."""
    tags = {}
    for key in SAFE_META_KEYS:
        if key[0].isupper() and key in ds:
            value = ds.get(key)
            if value is None or value == "":
                continue
            tags[key] = "\\".join(str(v) for v in value) if isinstance(value, pydicom.multival.MultiValue) else str(value)
    return tags


def _check_pixel_budget(path: Path, ds: pydicom.Dataset) -> None:
    if "PixelData" not in ds:
        raise InputFileError(path, "DICOM file holds no pixel data (not an image)")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        samples = int(ds.get("SamplesPerPixel", 1))
        bits = int(ds.BitsAllocated)
    except (AttributeError, TypeError, ValueError) as error:
        raise InputFileError(path, f"DICOM image attributes missing or invalid ({error})") from None
    if min(rows, cols, frames, samples, bits) <= 0:
        raise InputFileError(path, f"DICOM image has an empty dimension (rows {rows}, columns {cols}, frames {frames})")
    needed = rows * cols * frames * samples * max(bits // 8, 1) * 4  # decoded, worst case float32
    if needed > max_image_bytes():
        raise InputFileError(
            path,
            f"DICOM image claims {rows} x {cols} x {frames} x {samples} samples ({needed / 1e9:.1f} GB decoded), "
            f"more than the limit of {max_image_bytes() / 1e9:.1f} GB (set BREASTUSAI_MAX_IMAGE_BYTES to raise it)",
        )


def _functional_item(ds: pydicom.Dataset, frame: int, sequence: str) -> pydicom.Dataset | None:
    """The first item of ``sequence`` for ``frame``: per-frame groups first, then shared."""
    for groups_name, index in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        groups = ds.get(groups_name)
        if groups and len(groups) > index:
            items = groups[index].get(sequence)
            if items:
                return items[0]
    return None


def multiframe_geometry(path: Path, ds: pydicom.Dataset, frames: int) -> Geometry | None:
    """Geometry from the multi-frame functional groups, or None when they are absent."""
    measures = _functional_item(ds, 0, "PixelMeasuresSequence")
    orientation_item = _functional_item(ds, 0, "PlaneOrientationSequence") or _functional_item(
        ds, 0, "PlaneOrientationVolumeSequence"
    )
    if measures is None or orientation_item is None or "PixelSpacing" not in measures:
        return None
    row_spacing, column_spacing = (float(v) for v in measures.PixelSpacing)
    orientation = orientation_item.get("ImageOrientationPatient") or orientation_item.get("ImageOrientationVolume")
    if orientation is None or len(orientation) != 6:
        return None
    axis_i = np.asarray(orientation[:3], dtype=float)
    axis_j = np.asarray(orientation[3:], dtype=float)
    normal = np.cross(axis_i, axis_j)

    positions = []
    for frame in range(frames):
        item = _functional_item(ds, frame, "PlanePositionSequence") or _functional_item(
            ds, frame, "PlanePositionVolumeSequence"
        )
        position = None if item is None else (item.get("ImagePositionPatient") or item.get("ImagePositionVolume"))
        if position is None:
            positions = []
            break
        positions.append([float(v) for v in position])

    if len(positions) == frames and frames > 1:
        points = np.asarray(positions)
        steps = np.diff(points, axis=0)
        lengths = np.linalg.norm(steps, axis=1)
        if np.any(lengths <= 1e-6):
            raise InputFileError(path, "two frames share the same position (duplicate or unsorted frames)")
        slice_spacing = float(np.median(lengths))
        if np.max(np.abs(lengths - slice_spacing)) > 0.01 * slice_spacing + 1e-4:
            raise InputFileError(
                path,
                f"frames are unevenly spaced ({lengths.min():.4g} to {lengths.max():.4g} mm); "
                "resample the volume before use",
            )
        axis_k = steps.mean(axis=0) / np.linalg.norm(steps.mean(axis=0))
        if abs(abs(float(axis_k @ normal)) - 1.0) > 1e-3:
            raise InputFileError(path, "frames are not stacked perpendicular to the image plane (sheared volume)")
        origin = points[0]
    else:
        spacing_between = measures.get("SpacingBetweenSlices") or ds.get("SpacingBetweenSlices")
        slice_spacing = float(spacing_between) if spacing_between else float(measures.get("SliceThickness") or 1.0)
        axis_k = normal
        origin = np.asarray(positions[0] if positions else [0.0, 0.0, 0.0])
    direction = np.column_stack([axis_i, axis_j, axis_k])
    return Geometry((column_spacing, row_spacing, slice_spacing), tuple(origin), direction.ravel())


def ultrasound_region_spacing(ds: pydicom.Dataset) -> tuple[float, float] | None:
    """(column, row) spacing in mm from the Sequence of Ultrasound Regions, if calibrated in cm."""
    for region in ds.get("SequenceOfUltrasoundRegions", []) or []:
        if (
            int(region.get("PhysicalUnitsXDirection", 0) or 0) == _US_UNITS_CM
            and int(region.get("PhysicalUnitsYDirection", 0) or 0) == _US_UNITS_CM
        ):
            dx, dy = abs(float(region.PhysicalDeltaX)), abs(float(region.PhysicalDeltaY))
            if dx > 0 and dy > 0:
                return dx * 10.0, dy * 10.0
    return None


def ultrasound_region_box(ds: pydicom.Dataset) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), inclusive pixel bounds of the image's tissue region - the first region of the
    Sequence of Ultrasound Regions that is 2D (RegionSpatialFormat 1) tissue (RegionDataType 1) -
    when it lies inside the frame and leaves part of it out (scanner overlays: text, scales, logos)."""
    rows, columns = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
    for region in ds.get("SequenceOfUltrasoundRegions", []) or []:
        if int(region.get("RegionSpatialFormat", 0) or 0) != 1 or int(region.get("RegionDataType", 0) or 0) != 1:
            continue
        try:
            box = tuple(int(region.get(name)) for name in ("RegionLocationMinX0", "RegionLocationMinY0",
                                                            "RegionLocationMaxX1", "RegionLocationMaxY1"))
        except (TypeError, ValueError):
            return None
        x0, y0, x1, y1 = box
        inside = 0 <= x0 < x1 < columns and 0 <= y0 < y1 < rows
        return box if inside and (x1 - x0 + 1, y1 - y0 + 1) != (columns, rows) else None
    return None


def _crop_to_region(image: ImageData, box: tuple[int, int, int, int]) -> ImageData:
    """The region's pixels on a sub-grid of the image: same spacing and direction, origin on the
    region's first pixel (so it lies where it was in patient space)."""
    x0, y0, x1, y1 = box
    origin = image.geometry.index_to_lps(np.array([x0, y0, 0], dtype=float))
    geometry = Geometry(image.geometry.spacing, tuple(float(v) for v in origin), image.geometry.direction)
    meta = dict(image.meta, ultrasound_region=f"{x0},{y0},{x1},{y1}")
    return ImageData(np.ascontiguousarray(image.array[:, y0 : y1 + 1, x0 : x1 + 1]), geometry, image.source, meta)


def _decode(path: Path, reader) -> sitk.Image:
    try:
        return reader.Execute()
    except RuntimeError as error:
        first = str(error).strip().splitlines()[-1][:200]
        raise InputFileError(path, f"DICOM pixel data could not be decoded (truncated or unsupported encoding: {first})") from None


def read_dicom_file(path: Path) -> ImageData:
    """One DICOM file (single- or multi-frame) -> ImageData with geometry and safe tags."""
    ds = _read_header(path)
    _check_pixel_budget(path, ds)
    reader = sitk.ImageFileReader()
    reader.SetImageIO("GDCMImageIO")  # a damaged file would otherwise be offered to every reader in turn (seconds)
    reader.SetFileName(str(path))
    image = _decode(path, reader)
    array = array_from_sitk(image)
    geometry = geometry_from_sitk(image)
    meta = safe_tags(ds)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        from_groups = multiframe_geometry(path, ds, frames)
        if from_groups is not None:
            geometry = from_groups
    has_spacing = "PixelSpacing" in ds or "ImagerPixelSpacing" in ds or _functional_item(ds, 0, "PixelMeasuresSequence")
    if not has_spacing:
        region = ultrasound_region_spacing(ds)
        if region is not None:
            geometry = Geometry((region[0], region[1], geometry.spacing[2]), geometry.origin, geometry.direction)
        else:
            meta["spacing_known"] = "0"
    expected = (frames, int(ds.Rows), int(ds.Columns))
    if array.shape[:3] != expected:
        raise InputFileError(path, f"decoded pixel array has shape {array.shape[:3]}, header says {expected}")
    image = ImageData(array, geometry, str(path), meta)
    box = ultrasound_region_box(ds)
    return _crop_to_region(image, box) if box is not None else image


def read_dicom_series(folder: Path, series_uid: str | None = None) -> ImageData:
    """A folder holding one DICOM series (one file per slice) -> a 3D ImageData.

    A folder holding several series needs ``series_uid``; a folder holding a single
    multi-frame file is read as that file.
    """
    try:
        series_ids = list(sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder)))
    except RuntimeError as error:
        raise InputFileError(folder, f"could not scan the folder for DICOM series ({error})") from None
    if not series_ids:
        raise InputFileError(folder, "no DICOM series found in this folder")
    if series_uid is None and len(series_ids) > 1:
        listed = ", ".join(series_ids[:5])
        raise InputFileError(folder, f"folder holds {len(series_ids)} DICOM series ({listed}); choose one by its series UID")
    uid = series_uid or series_ids[0]
    if uid not in series_ids:
        raise InputFileError(folder, f"series {uid} is not in this folder")
    files = list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), uid))
    if len(files) == 1:
        return read_dicom_file(Path(files[0]))
    first = _read_header(Path(files[0]))
    _check_pixel_budget(Path(files[0]), first)
    if int(first.Rows) * int(first.Columns) * len(files) * 4 > max_image_bytes():
        raise InputFileError(folder, f"series of {len(files)} slices exceeds the image size limit")
    positions = []
    for name in files:
        ds = _read_header(Path(name))
        if "ImagePositionPatient" not in ds:
            raise InputFileError(name, "slice has no ImagePositionPatient; cannot place it in the volume")
        positions.append([float(v) for v in ds.ImagePositionPatient])
    lengths = np.linalg.norm(np.diff(np.asarray(positions), axis=0), axis=1)
    if np.any(lengths <= 1e-6):
        raise InputFileError(folder, "two slices of the series share the same position")
    if np.max(np.abs(lengths - np.median(lengths))) > 0.01 * np.median(lengths) + 1e-4:
        raise InputFileError(
            folder, f"series slices are unevenly spaced ({lengths.min():.4g} to {lengths.max():.4g} mm)"
        )
    reader = sitk.ImageSeriesReader()
    reader.SetImageIO("GDCMImageIO")
    reader.SetFileNames(files)
    image = _decode(folder, reader)
    return ImageData(array_from_sitk(image), geometry_from_sitk(image), str(folder), safe_tags(first))
