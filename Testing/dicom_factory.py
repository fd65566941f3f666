"""Write real DICOM files for tests (pydicom), identifiers included on purpose so that
privacy can be checked: every file carries a patient name, id, birth date, accession
number and institution that must never reach an output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

IDENTIFIERS = {
    "PatientName": "DOE^JANE",
    "PatientID": "PID-7741-XQ",
    "PatientBirthDate": "19610315",
    "AccessionNumber": "ACC99812",
    "InstitutionName": "St Elsewhere Breast Centre",
}

US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
ENHANCED_US_VOLUME = "1.2.840.10008.5.1.4.1.1.6.2"
MG_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.2"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def base_dataset(sop_class: str, modality: str, series_uid: str | None = None) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.Modality = modality
    ds.BurnedInAnnotation = "YES"
    for key, value in IDENTIFIERS.items():
        setattr(ds, key, value)
    return ds


def _pixels(ds: Dataset, array: np.ndarray, photometric: str, bits_stored: int | None = None) -> None:
    samples = 3 if array.ndim >= 3 and array.shape[-1] == 3 and photometric == "RGB" else 1
    frames = array.shape[0] if (array.ndim == 3 and samples == 1) or array.ndim == 4 else 1
    rows, cols = (array.shape[-3], array.shape[-2]) if samples == 3 else (array.shape[-2], array.shape[-1])
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = samples
    if samples == 3:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PhotometricInterpretation = photometric
    bits = array.dtype.itemsize * 8
    ds.BitsAllocated = bits
    ds.BitsStored = bits_stored or bits
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if np.issubdtype(array.dtype, np.signedinteger) else 0
    ds.PixelData = np.ascontiguousarray(array).tobytes()


def write_us_rgb(path: Path, rgb: np.ndarray, region_spacing_cm: tuple[float, float] | None = None) -> Path:
    """Single-frame RGB ultrasound (J, I, 3) uint8, optional calibrated ultrasound region."""
    ds = base_dataset(US_IMAGE, "US")
    _pixels(ds, rgb, "RGB")
    if region_spacing_cm:
        region = Dataset()
        region.RegionSpatialFormat = 1
        region.RegionDataType = 1
        region.PhysicalUnitsXDirection = 3
        region.PhysicalUnitsYDirection = 3
        region.PhysicalDeltaX = region_spacing_cm[0]
        region.PhysicalDeltaY = region_spacing_cm[1]
        region.RegionLocationMinX0, region.RegionLocationMinY0 = 0, 0
        region.RegionLocationMaxX1, region.RegionLocationMaxY1 = rgb.shape[1] - 1, rgb.shape[0] - 1
        ds.SequenceOfUltrasoundRegions = Sequence([region])
    ds.save_as(path, enforce_file_format=True)
    return path


def _ultrasound_region(ds: Dataset, spacing_cm: tuple[float, float], rows: int, columns: int) -> None:
    region = Dataset()
    region.RegionSpatialFormat = 1
    region.RegionDataType = 1
    region.PhysicalUnitsXDirection = 3
    region.PhysicalUnitsYDirection = 3
    region.PhysicalDeltaX, region.PhysicalDeltaY = spacing_cm
    region.RegionLocationMinX0, region.RegionLocationMinY0 = 0, 0
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = columns - 1, rows - 1
    ds.SequenceOfUltrasoundRegions = Sequence([region])


def write_capture(path: Path, pixels: np.ndarray, instance_number: int | None, acquisition_time: str = "",
                  region_spacing_cm: tuple[float, float] | None = None, sop_class: str = SECONDARY_CAPTURE,
                  series_uid: str | None = None) -> Path:
    """One frame as a video grabber / scanner export writes it: grey (J, I) or RGB (J, I, 3) uint8,
    no ImagePositionPatient / ImageOrientationPatient, no PixelSpacing (an ultrasound region may
    carry the calibration)."""
    ds = base_dataset(sop_class, "US" if sop_class == US_IMAGE else "OT", series_uid)
    _pixels(ds, pixels, "RGB" if pixels.ndim == 3 else "MONOCHROME2")
    if instance_number is not None:
        ds.InstanceNumber = instance_number
    if acquisition_time:
        ds.AcquisitionTime = acquisition_time
    if region_spacing_cm:
        _ultrasound_region(ds, region_spacing_cm, int(ds.Rows), int(ds.Columns))
    ds.save_as(path, enforce_file_format=True)
    return path


def write_ybr_422(path: Path, grey: np.ndarray, instance_number: int = 1, series_uid: str | None = None) -> Path:
    """A single-frame ultrasound capture stored as YBR_FULL_422 (uncompressed: Y1 Y2 Cb Cr per pixel
    pair), as many scanners and grabbers do; chroma neutral so the picture is the grey ``grey``."""
    ds = base_dataset(US_IMAGE, "US", series_uid)
    ds.Rows, ds.Columns = grey.shape
    ds.SamplesPerPixel, ds.PlanarConfiguration, ds.PhotometricInterpretation = 3, 0, "YBR_FULL_422"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.InstanceNumber = instance_number
    pairs = np.ascontiguousarray(grey, dtype=np.uint8).reshape(-1, 2)
    packed = np.empty((pairs.shape[0], 4), np.uint8)
    packed[:, :2], packed[:, 2:] = pairs, 128
    ds.PixelData = packed.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def write_us_cine(path: Path, rgb_frames: np.ndarray, region_spacing_cm: tuple[float, float] | None = None) -> Path:
    """US Multi-frame Image Storage (a cine loop): (N, J, I, 3) uint8 RGB, no position in space."""
    ds = base_dataset(US_MULTIFRAME, "US")
    _pixels(ds, rgb_frames, "RGB")
    ds.FrameTime = 33.3
    if region_spacing_cm:
        _ultrasound_region(ds, region_spacing_cm, int(ds.Rows), int(ds.Columns))
    ds.save_as(path, enforce_file_format=True)
    return path


def write_us_palette(path: Path, indices: np.ndarray, lut: np.ndarray) -> Path:
    """PALETTE COLOR ultrasound: (J, I) uint8 indices, ``lut`` (N, 3) 8-bit colours."""
    ds = base_dataset(US_IMAGE, "US")
    _pixels(ds, indices.astype(np.uint8), "PALETTE COLOR")
    for channel, name in enumerate(("Red", "Green", "Blue")):
        setattr(ds, f"{name}PaletteColorLookupTableDescriptor", [len(lut), 0, 16])
        setattr(ds, f"{name}PaletteColorLookupTableData", (lut[:, channel].astype(np.uint16) * 257).tobytes())
    ds.save_as(path, enforce_file_format=True)
    return path


def write_mg(path: Path, values: np.ndarray, monochrome1: bool = True, view: str = "CC") -> Path:
    """16-bit mammogram (12 bits stored), MONOCHROME1 by default (low value = white)."""
    ds = base_dataset(MG_FOR_PRESENTATION, "MG")
    _pixels(ds, values.astype(np.uint16), "MONOCHROME1" if monochrome1 else "MONOCHROME2", bits_stored=12)
    ds.PixelSpacing = [0.085, 0.07]
    ds.ImagerPixelSpacing = [0.085, 0.07]
    ds.ViewPosition = view
    ds.ImageLaterality = "L"
    ds.save_as(path, enforce_file_format=True)
    return path


def write_enhanced_us_volume(
    path: Path, volume: np.ndarray, spacing_ijk: tuple[float, float, float], origin: tuple[float, float, float],
    direction: np.ndarray, per_frame_positions: bool = True, uneven: bool = False,
) -> Path:
    """Enhanced US Volume (multi-frame) with functional-group geometry; volume (K, J, I) uint8."""
    ds = base_dataset(ENHANCED_US_VOLUME, "US")
    _pixels(ds, volume.astype(np.uint8), "MONOCHROME2")
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = [spacing_ijk[1], spacing_ijk[0]]
    measures.SpacingBetweenSlices = spacing_ijk[2]
    measures.SliceThickness = spacing_ijk[2]
    shared.PixelMeasuresSequence = Sequence([measures])
    orientation = Dataset()
    orientation.ImageOrientationPatient = [float(v) for v in list(direction[:, 0]) + list(direction[:, 1])]
    shared.PlaneOrientationSequence = Sequence([orientation])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for k in range(volume.shape[0]):
        step = spacing_ijk[2] * (k + (0.3 if uneven and k == volume.shape[0] - 1 else 0.0))
        position = np.asarray(origin) + step * direction[:, 2]
        group = Dataset()
        if per_frame_positions:
            plane = Dataset()
            plane.ImagePositionPatient = [float(v) for v in position]
            group.PlanePositionSequence = Sequence([plane])
        frames.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_series(
    folder: Path, volume: np.ndarray, spacing_ijk: tuple[float, float, float], origin: tuple[float, float, float],
    direction: np.ndarray, skip_slice: int | None = None,
) -> Path:
    """One file per slice with ImagePositionPatient / ImageOrientationPatient (int16 CT-like)."""
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = generate_uid()
    study_uid = generate_uid()
    for k in range(volume.shape[0]):
        if k == skip_slice:
            continue
        ds = base_dataset(CT_IMAGE, "OT", series_uid)
        ds.StudyInstanceUID = study_uid
        _pixels(ds, volume[k].astype(np.int16), "MONOCHROME2")
        ds.PixelSpacing = [spacing_ijk[1], spacing_ijk[0]]
        ds.SliceThickness = spacing_ijk[2]
        ds.ImageOrientationPatient = [float(v) for v in list(direction[:, 0]) + list(direction[:, 1])]
        ds.ImagePositionPatient = [float(v) for v in np.asarray(origin) + k * spacing_ijk[2] * direction[:, 2]]
        ds.InstanceNumber = k + 1
        ds.save_as(folder / f"slice_{k:03d}.dcm", enforce_file_format=True)
    return folder
