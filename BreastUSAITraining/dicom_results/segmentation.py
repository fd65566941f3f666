"""The lesions ``predict`` found on a DICOM image, as a DICOM Segmentation (SEG) object.

One segment per lesion: category *morphologically abnormal structure*, type *mass* (SNOMED CT),
algorithm AUTOMATIC with the segmentation model's name and version (MANUAL when the lesions were
a drawn mask), referencing the source instance (and, for a cine loop, the frame). The mask is placed on the
source's full frame
(an image cropped to its ultrasound region is padded back), so a viewer overlays it pixel for pixel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import InputFileError

#: multi-frame SOP class -> its single-frame sibling (what highdicom derives a SEG of one frame from)
SINGLE_FRAME_CLASS = {"1.2.840.10008.5.1.4.1.1.3.1": "1.2.840.10008.5.1.4.1.1.6.1",  # US Multi-frame -> US Image
                      "1.2.840.10008.5.1.4.1.1.7.2": "1.2.840.10008.5.1.4.1.1.7",  # Multi-frame Grayscale Byte SC -> SC
                      "1.2.840.10008.5.1.4.1.1.7.4": "1.2.840.10008.5.1.4.1.1.7"}  # Multi-frame True Colour SC -> SC

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


def one_frame_view(dataset, frame: int):
    """The header of a multi-frame source (a cine loop without a Frame of Reference) as if it held only
    ``frame`` (1-based): what highdicom needs to derive a SEG of one frame, which it writes only for
    single-frame sources without a Frame of Reference (highdicom issue #284). The SEG made from it is
    then pointed at that frame of the real instance (:func:`refer_to_frame`)."""
    import copy

    view = copy.deepcopy(dataset)
    for keyword in ("PixelData", "FrameIncrementPointer", "FrameTime", "FrameTimeVector", "CineRate",
                    "RecommendedDisplayFrameRate"):
        if keyword in view:
            delattr(view, keyword)
    view.NumberOfFrames = 1
    view.SOPClassUID = SINGLE_FRAME_CLASS.get(str(dataset.SOPClassUID), str(dataset.SOPClassUID))
    return view


def refer_to_frame(segmentation, source, frame: int) -> None:
    """Every reference the SEG makes to its source image is to the real instance (its multi-frame SOP class)
    and, in the image references (Source Image Sequence), to ``frame`` (ReferencedFrameNumber, Type 1C of
    the Image SOP Instance Reference Macro for a multi-frame instance)."""
    import copy

    def walk(dataset) -> None:
        for element in dataset:
            if element.VR != "SQ":
                continue
            for index, item in enumerate(element.value):
                if item.get("ReferencedSOPInstanceUID") == source.SOPInstanceUID:
                    if element.keyword == "SourceImageSequence":  # its own item: highdicom may share one between sequences
                        item = element.value[index] = copy.deepcopy(item)
                        item.ReferencedFrameNumber = frame
                    item.ReferencedSOPClassUID = source.SOPClassUID
                walk(item)

    walk(segmentation)


def write_lesion_seg(source: str | Path, lesions: list[tuple[str, np.ndarray]], out: str | Path,
                     model: tuple[str, str] | None, region: str | None = None, frame: int | None = None) -> Path:
    """Write ``out`` (a DICOM SEG) for ``lesions`` - (lesion id, (1, J, I) bool mask on the image ``predict``
    read from ``source``, or from its frame ``frame`` (1-based) for a cine loop); ``model``: (name, version)
    of the segmentation model, None for a drawn mask. InputFileError when ``source`` is not a DICOM image,
    or is multi-frame and no frame is named."""
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    source = Path(source)
    try:
        dataset = pydicom.dcmread(source)
    except (pydicom.errors.InvalidDicomError, OSError) as error:
        raise InputFileError(source, f"a DICOM SEG needs a DICOM source image ({error})") from None
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    if frames != 1:
        if frame is None or not 1 <= frame <= frames:
            raise InputFileError(source, f"a multi-frame source ({frames} frames): name the frame the lesions are on")
        original, dataset = dataset, one_frame_view(dataset, frame)
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
    if frames != 1:
        refer_to_frame(segmentation, original, frame)
    if "PatientOrientation" not in segmentation and "ImageOrientationPatient" not in dataset:
        # General Image module, Type 2C: required (may be empty) when the frames are not placed in space
        segmentation.PatientOrientation = dataset.get("PatientOrientation", "")
    out = Path(out)
    segmentation.save_as(out)
    return out
