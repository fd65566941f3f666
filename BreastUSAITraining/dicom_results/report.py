"""The lesions' measurements and the AI's opinion as a DICOM Structured Report: a TID 1500
measurement report (highdicom ``Comprehensive3DSR``), one planar ROI group per lesion referencing its
segment of the DICOM SEG, with

* the lesion's area (mm2) when the image's spacing is known - nothing when it is not (no size in
  invented millimetres);
* the malignancy probability and the call, coded in a local scheme ``99BREASTUSAI`` (there is no
  standard code for an AI model's malignancy probability; the meanings are in the code meanings);
* the algorithm (model name and version) that made the call.

Observer: the device BreastUSAI; patient and study copied from the source (same PACS), new UIDs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import __version__
from .segmentation import complete_type2

LOCAL_SCHEME = "99BREASTUSAI"


def write_lesion_report(source: str | Path, seg_path: str | Path, lesions: list[dict[str, Any]], out: str | Path,
                        spacing_known: bool, model: tuple[str, str] | None, frame: int | None = None) -> Path:
    """``lesions``: result.json lesion entries in the SEG's segment order (``id``, ``area_mm2``,
    ``malignant_probability`` / ``prediction`` when a classifier ran); ``frame``: the source frame (1-based)
    of a cine loop the lesions are on. Returns ``out``."""
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    dataset = pydicom.dcmread(source)
    complete_type2(dataset)
    seg = pydicom.dcmread(seg_path)
    probability_code = hd.sr.CodedConcept("P-0001", LOCAL_SCHEME, "Probability of malignancy (AI model)")
    call_code = hd.sr.CodedConcept("P-0002", LOCAL_SCHEME, "AI call")
    calls = {"malignant": hd.sr.CodedConcept("C-0001", LOCAL_SCHEME, "Malignant (AI call)"),
             "benign": hd.sr.CodedConcept("C-0002", LOCAL_SCHEME, "Benign (AI call)")}
    algorithm = hd.sr.AlgorithmIdentification(name=model[0], version=model[1] or "unknown") if model else None
    groups = []
    for number, lesion in enumerate(lesions, start=1):
        measurements = []
        if spacing_known and lesion.get("area_mm2") is not None:
            measurements.append(hd.sr.Measurement(name=codes.SCT.AreaOfDefinedRegion, value=float(lesion["area_mm2"]),
                                                  unit=codes.UCUM.SquareMillimeter))
        if lesion.get("malignant_probability") is not None:
            measurements.append(hd.sr.Measurement(name=probability_code, value=float(lesion["malignant_probability"]),
                                                  unit=codes.UCUM.NoUnits, algorithm_id=algorithm))
        evaluations = []
        if lesion.get("prediction") in calls:
            evaluations.append(hd.sr.QualitativeEvaluation(name=call_code, value=calls[lesion["prediction"]]))
        groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=str(lesion["id"])),
            # a 2D source: the SEG holds one frame per segment, in segment order
            referenced_segment=hd.sr.ReferencedSegmentationFrame(
                sop_class_uid=seg.SOPClassUID, sop_instance_uid=seg.SOPInstanceUID, frame_number=number,
                segment_number=number,
                source_image=hd.sr.SourceImageForSegmentation(dataset.SOPClassUID, dataset.SOPInstanceUID,
                                                              referenced_frame_numbers=[frame] if frame else None)),
            finding_type=codes.SCT.Mass, measurements=measurements or None, qualitative_evaluations=evaluations or None))
    observer = hd.sr.ObserverContext(observer_type=codes.DCM.Device,
                                     observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                                         uid=hd.UID(), name="BreastUSAI", manufacturer_name="BreastUSAI",
                                         model_name="BreastUSAI", serial_number=__version__))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=hd.sr.CodedConcept("P-0003", LOCAL_SCHEME, "Breast ultrasound AI lesion analysis"),
        imaging_measurements=groups)
    sr = hd.sr.Comprehensive3DSR(evidence=[dataset, seg], content=report[0], series_instance_uid=hd.UID(),
                                 series_number=901, sop_instance_uid=hd.UID(), instance_number=1,
                                 manufacturer="BreastUSAI", series_description="BreastUSAI lesion report")
    _frame_references_only(sr)
    out = Path(out)
    sr.save_as(out)
    return out


def _frame_references_only(dataset) -> None:
    """A reference to a segmentation *frame* carries ReferencedFrameNumber only: the standard forbids
    ReferencedSegmentNumber beside it (dciodvfy: "shall not be present"), which highdicom adds.
    Here frame N is segment N, so nothing is lost."""
    for item in dataset.get("ReferencedSOPSequence", []) or []:
        if "ReferencedFrameNumber" in item and "ReferencedSegmentNumber" in item:
            del item.ReferencedSegmentNumber
    for item in dataset.get("ContentSequence", []) or []:
        _frame_references_only(item)
