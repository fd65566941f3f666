"""The lesions ``predict`` found on a DICOM image, as a DICOM Segmentation (SEG) object.

One segment per lesion: category *morphologically abnormal structure*, type *mass* (SNOMED CT),
algorithm AUTOMATIC with the segmentation model's name and version (MANUAL when the lesions were
a drawn mask), referencing the source instance. The mask is placed on the source's full frame
(an image cropped to its ultrasound region is padded back), so a viewer overlays it pixel for pixel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import InputFileError

#: Type 2 attributes highdicom copies from the source; a capture may lack them (they may be empty)
_TYPE2_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                        "ReferringPhysicianName", "StudyID", "AccessionNumber")


def complete_type2(dataset) -> None:
    """Give a source that lacks them the Type 2 patient / study attributes highdicom copies (empty)."""
    for key in _TYPE2_PATIENT_STUDY:
        if key not in dataset:
            setattr(dataset, key, "")


def _full_frame(mask_kji: np.ndarray, rows: int, columns: int, region: str | None) -> np.ndarray:
    """(1, rows, columns) bool: ``mask_kji`` (1, J, I) on the source frame (offset by the ultrasound region)."""
    frame = np.zeros((1, rows, columns), dtype=bool)
    x0, y0 = (int(v) for v in region.split(",")[:2]) if region else (0, 0)
    height, width = mask_kji.shape[1:3]
    if y0 + height > rows or x0 + width > columns:
        raise ValueError(f"lesion mask {mask_kji.shape} does not fit the source frame {rows} x {columns}")
    frame[0, y0 : y0 + height, x0 : x0 + width] = mask_kji[0]
    return frame


def write_lesion_seg(source: str | Path, lesions: list[tuple[str, np.ndarray]], out: str | Path,
                     model: tuple[str, str] | None, region: str | None = None) -> Path:
    """Write ``out`` (a DICOM SEG) for ``lesions`` - (lesion id, (1, J, I) bool mask on the image ``predict``
    read from ``source``); ``model``: (name, version) of the segmentation model, None for a drawn mask.
    InputFileError when ``source`` is not a single-frame DICOM image."""
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    source = Path(source)
    try:
        dataset = pydicom.dcmread(source)
    except (pydicom.errors.InvalidDicomError, OSError) as error:
        raise InputFileError(source, f"a DICOM SEG needs a DICOM source image ({error})") from None
    if int(dataset.get("NumberOfFrames", 1) or 1) != 1:
        raise InputFileError(source, "a DICOM SEG of a multi-frame (cine) source is not written yet; "
                                     "the per-frame results are in result.json and lesions.seg.nrrd")
    complete_type2(dataset)
    if model is not None:
        algorithm = hd.AlgorithmIdentificationSequence(name=model[0], version=model[1] or "unknown",
                                                       family=codes.cid7162.ArtificialIntelligence)
        kind = hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC
    else:
        algorithm, kind = None, hd.seg.SegmentAlgorithmTypeValues.MANUAL
    descriptions, masks = [], []
    for number, (lesion_id, mask) in enumerate(lesions, start=1):
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=number, segment_label=lesion_id,
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Mass, algorithm_type=kind, algorithm_identification=algorithm,
            tracking_uid=hd.UID(), tracking_id=lesion_id))
        masks.append(_full_frame(mask, int(dataset.Rows), int(dataset.Columns), region))
    pixels = np.stack(masks, axis=-1)  # (frames, rows, columns, segments)
    segmentation = hd.seg.Segmentation(
        source_images=[dataset], pixel_array=pixels, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions, series_instance_uid=hd.UID(), series_number=900,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="BreastUSAI", manufacturer_model_name="BreastUSAI",
        software_versions=__version__, device_serial_number="0", series_description="BreastUSAI lesions")
    if "PatientOrientation" not in segmentation and "ImageOrientationPatient" not in dataset:
        # General Image module, Type 2C: required (may be empty) when the frames are not placed in space
        segmentation.PatientOrientation = dataset.get("PatientOrientation", "")
    out = Path(out)
    segmentation.save_as(out)
    return out
