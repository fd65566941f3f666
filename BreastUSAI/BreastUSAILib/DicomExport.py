"""*Export as DICOM*: a reader's lesions on a DICOM image back to the PACS it came from.

The lesions of a segmentation on a volume node read from a DICOM file (the file is remembered on the
node, in the scene only) become a DICOM SEG and a TID 1500 SR - each lesion's area (when the image is
calibrated) and the latest AI probability and call of the results table - referencing the source
instance. Patient / study are copied from the source (same PACS: the one documented exception to
anonymous outputs); every UID is new.
"""

from __future__ import annotations

from pathlib import Path

from .LesionAnnotations import lesionSegmentIds
from .LesionClassification import resultsTable, tableRows
from .LesionMasks import lesionMask
from .SceneVolumes import REGION_ATTRIBUTE, SOURCE_DICOM_ATTRIBUTE, SOURCE_FRAME_ATTRIBUTE, imageFromVolumeNode


def exportLesionsAsDicom(scene, volume_node, segmentation_node, folder) -> list[Path]:
    """Write ``lesions.seg.dcm`` and ``lesions.sr.dcm`` into ``folder``; returns their paths. ValueError
    when the image did not come from a DICOM file or the segmentation has no lesion on it."""
    from BreastUSAITraining.dicom_results.report import write_lesion_report
    from BreastUSAITraining.dicom_results.segmentation import write_lesion_seg
    from BreastUSAITraining.imagefiles import read_image

    source = volume_node.GetAttribute(SOURCE_DICOM_ATTRIBUTE) if volume_node is not None else None
    if not source or not Path(source).is_file():
        raise ValueError("This image was not read from a DICOM file (or the file has moved): DICOM SEG and SR "
                         "reference the source instance, so they can only be written for DICOM images.")
    image = imageFromVolumeNode(volume_node)
    rows = [r for r in tableRows(resultsTable(scene)) if r["image"] == volume_node.GetName()
            and r["prediction"] in ("malignant", "benign")]
    lesions, entries = [], []
    for segment_id in lesionSegmentIds(segmentation_node):
        name = segmentation_node.GetSegmentation().GetSegment(segment_id).GetName()
        mask = lesionMask(segmentation_node, segment_id, volume_node)
        if not mask.any():
            continue
        lesions.append((name, mask))
        spacing = image.geometry.spacing
        entry = {"id": name, "area_mm2": round(float(mask.sum() * spacing[0] * spacing[1]), 3)}
        row = next((r for r in rows if r["lesion"] == name), None)
        if row is not None:
            entry.update(malignant_probability=round(float(row["probability"]), 4), prediction=row["prediction"])
        entries.append(entry)
    if not lesions:
        raise ValueError("No lesion to export: the segmentation has no segment on this image.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = int(volume_node.GetAttribute(SOURCE_FRAME_ATTRIBUTE) or 0) or None  # a frame of a cine loop
    seg = write_lesion_seg(source, lesions, folder / "lesions.seg.dcm", None, volume_node.GetAttribute(REGION_ATTRIBUTE),
                           frame)
    spacing_known = read_image(source).meta.get("spacing_known") != "0"
    model = next(((r["model"], "") for r in rows), None)
    report = write_lesion_report(source, seg, entries, folder / "lesions.sr.dcm", spacing_known, model, frame)
    return [seg, report]
