"""Export the scene's annotated lesions to the dataset contract (DESIGN.md section 2), which
``python -m BreastUSAITraining train ...`` reads directly.

One case per segmentation node: its reference volume (and any images linked to it with
:func:`linkLesionImage`) go to ``images/<case>_<kind>.nrrd``, its annotated segments to
``segmentations/<case>.seg.nrrd`` on the reference grid, one ``dataset.json`` item per
lesion. Segments without pathology and BI-RADS are left out (listed in the report).

Privacy: nothing of the scene's names, DICOM tags or file names is written. Case ids are
``case_0001``..., patient ids ``patient_0001``... in order of appearance; which patient
key maps to which pseudonym is returned to the caller (``ExportReport.patient_map``) and
never written into the export. Free-text notes stay out unless asked for
(``include_notes``), since a note may name a person.

The folder is built aside and swapped in whole (atomic); exporting the same scene again
gives the same files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from BreastUSAITraining.atomic import atomic_directory
from BreastUSAITraining.dataset.contract import Dataset, LesionItem, save_dataset
from BreastUSAITraining.dataset.folds import assign_folds, link_groups
from BreastUSAITraining.dataset.schema import ID_PATTERN, MODALITIES
from BreastUSAITraining.imagefiles import ImageData, write_nrrd
from BreastUSAITraining.imagefiles.segmentation import Segment, SegmentationData, write_segmentation

from .HeadlessSlicer import nodesOfClass
from .ImageKinds import KIND_ATTRIBUTE
from .LesionAnnotations import lesionAnnotation, lesionSegmentIds
from .LesionMasks import lesionMask, referenceVolumeOf
from .SceneVolumes import BURNED_IN_ATTRIBUTE, imageFromVolumeNode

LINKED_IMAGE_REFERENCE = "BreastUSAI.LinkedImage"
PATIENT_KEY_ATTRIBUTE = "BreastUSAI.PatientKey"


@dataclass
class ExportReport:
    folder: Path
    cases: int = 0
    lesions: int = 0
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    patient_map: dict[str, str] = field(default_factory=dict)  # kept in memory only, never written


def linkLesionImage(segmentation_node, volume_node) -> None:
    """Mark ``volume_node`` (co-registered, e.g. the Doppler frame) as another image of the
    lesions drawn in ``segmentation_node``; its kind must be known."""
    if not volume_node.GetAttribute(KIND_ATTRIBUTE):
        raise ValueError(f"set the image kind of {volume_node.GetName()!r} before linking it")
    segmentation_node.AddNodeReferenceID(LINKED_IMAGE_REFERENCE, volume_node.GetID())


def lesionImages(segmentation_node) -> dict[str, object]:
    """Image kind -> volume node for a segmentation (reference volume first, then links)."""
    images: dict[str, object] = {}
    reference = referenceVolumeOf(segmentation_node)
    nodes = ([reference] if reference is not None else []) + [
        segmentation_node.GetNthNodeReference(LINKED_IMAGE_REFERENCE, n)
        for n in range(segmentation_node.GetNumberOfNodeReferences(LINKED_IMAGE_REFERENCE))]
    for node in nodes:
        kind = node.GetAttribute(KIND_ATTRIBUTE)
        if not kind:
            raise ValueError(f"image {node.GetName()!r} has no image kind: choose ABVS / B-mode / Doppler / "
                             "elastography / MG CC / MG MLO before exporting")
        if kind in images and images[kind] is not node:
            raise ValueError(f"segmentation {segmentation_node.GetName()!r} has two {kind} images")
        images[kind] = node
    return images


def setPatientKey(volume_node, key: str) -> None:
    """Group images of one patient (any key, e.g. the hospital number: it is never exported)."""
    volume_node.SetAttribute(PATIENT_KEY_ATTRIBUTE, key)


def patientKey(volume_node) -> str:
    """The image's patient key ("" when none is set)."""
    return volume_node.GetAttribute(PATIENT_KEY_ATTRIBUTE) or ""


def _safe_lesion_id(text: str | None, index: int) -> str:
    return text if text and re.match(ID_PATTERN, text) and not text.startswith("case_") else f"lesion_{index}"


def exportAnnotations(scene, out: str | Path, segmentation_nodes: list | None = None, name: str = "BreastUSAI annotations",
                      folds: int = 5, seed: int = 0, include_notes: bool = False) -> ExportReport:
    """Write the annotated lesions of ``segmentation_nodes`` (default: all in the scene) to
    the dataset folder ``out`` (replaced whole); returns what was written."""
    out = Path(out)
    report = ExportReport(out)
    nodes = segmentation_nodes if segmentation_nodes is not None else nodesOfClass(scene, "vtkMRMLSegmentationNode")
    items: list[LesionItem] = []
    files: list[tuple[str, object]] = []
    for node in nodes:
        annotated = []
        for segment_id in lesionSegmentIds(node):
            annotation = lesionAnnotation(node, segment_id)
            if annotation["pathology"] or annotation["birads"]:
                annotated.append((segment_id, annotation))
            else:
                report.skipped.append(f"{node.GetName()} / {annotation['name']}: no pathology or BI-RADS")
        if not annotated:
            continue
        if referenceVolumeOf(node) is None:
            raise ValueError(f"segmentation {node.GetName()!r} has no reference image: load it from an image or set one")
        images = lesionImages(node)
        primary = next(kind for kind in MODALITIES if kind in images)
        reference = images[primary]
        report.cases += 1
        case_id = f"case_{report.cases:04d}"
        key = reference.GetAttribute(PATIENT_KEY_ATTRIBUTE) or f"(no key) {reference.GetID()}"
        patient = report.patient_map.setdefault(key, f"patient_{len(report.patient_map) + 1:04d}")
        paths = {kind: f"images/{case_id}_{kind}.nrrd" for kind in images}
        seg_path = f"segmentations/{case_id}.seg.nrrd"
        reference_image = imageFromVolumeNode(reference)
        segments, taken = [], set()
        for index, (segment_id, annotation) in enumerate(annotated, start=1):
            lesion_id = _safe_lesion_id(annotation["lesion_id"], index)
            if lesion_id in taken:
                lesion_id = f"lesion_{index}"
            taken.add(lesion_id)
            mask = lesionMask(node, segment_id, reference)
            if not mask.any():
                raise ValueError(f"segment {annotation['name']!r} of {node.GetName()!r} is empty on its image")
            segments.append(Segment(lesion_id, mask, annotation["colour"]))
            clinical = dict(annotation["clinical"])
            if include_notes and annotation["note"]:
                clinical["x_note"] = annotation["note"]
            items.append(LesionItem(case_id, dict(paths), patient_id=patient, lesion_id=lesion_id,
                                    segmentation={primary: seg_path}, segment=lesion_id,
                                    pathology=annotation["pathology"], birads=annotation["birads"], clinical=clinical))
        files.append((seg_path, SegmentationData(segments, reference_image.geometry, reference_image.shape_kji)))
        for kind, volume in images.items():
            if volume.GetAttribute(BURNED_IN_ATTRIBUTE) == "YES":
                report.warnings.append(f"{case_id} {kind}: the source DICOM says the pixels carry burned-in annotation "
                                       "(text that may identify the patient); check or mask it before sharing the export")
            image = reference_image if volume is reference else imageFromVolumeNode(volume)
            files.append((paths[kind], ImageData(image.array, image.geometry)))  # no tags at all
        report.lesions += len(annotated)
    if not items:
        raise ValueError("nothing to export: no segment carries a pathology or BI-RADS annotation")
    groups = len(link_groups(items))
    if groups >= 2:
        items = assign_folds(items, n_folds=min(folds, groups), seed=seed)
    with atomic_directory(out, overwrite=True) as staging:
        for relative, data in files:
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, SegmentationData):
                write_segmentation(target, data)
            else:
                write_nrrd(data, target)
        save_dataset(Dataset(staging, name, items, description="Lesion annotations exported by BreastUSAI (3D Slicer module or web app)"))
    return report
