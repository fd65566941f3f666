"""Lesions as segments of a vtkMRMLSegmentationNode, each carrying the radiologist's
annotation: pathology, BI-RADS, modality, clinical fields and a free-text note.

The annotation is stored as segment tags (``BreastUSAI.Pathology``, ``BreastUSAI.BIRADS``,
``BreastUSAI.Clinical.<variable>`` ...), which Slicer writes into the ``.seg.nrrd`` header
(``SegmentN_Tags``) and reads back, so it survives saving and reloading the scene. Tag
values are percent-encoded where the file format needs it (``|``, ``:``, ``%``, line
breaks and non-ASCII characters), so any note round-trips.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

from BreastUSAITraining.dataset.schema import BIRADS_CATEGORIES, CLINICAL_VARIABLES, PATHOLOGIES

from .ImageKinds import checkKind

PREFIX = "BreastUSAI."
FIELD_TAGS = {"pathology": "BreastUSAI.Pathology", "birads": "BreastUSAI.BIRADS", "modality": "BreastUSAI.Modality",
              "note": "BreastUSAI.Note", "lesion_id": "BreastUSAI.LesionId"}
CLINICAL_TAG = "BreastUSAI.Clinical"


def encodeTagValue(value: str) -> str:
    """``value`` made safe for a ``.seg.nrrd`` tag (reversible with :func:`decodeTagValue`)."""
    return quote(value, safe=" !\"#$&'()*+,-./;<=>?@[]^_`{}~")


def decodeTagValue(text: str) -> str:
    return unquote(text)


def _tag(segment, key: str) -> str | None:
    import vtk

    value = vtk.reference("")
    return decodeTagValue(str(value)) if segment.GetTag(key, value) else None


def _segment(segmentation_node, segment_id: str):
    segment = segmentation_node.GetSegmentation().GetSegment(segment_id)
    if segment is None:
        ids = lesionSegmentIds(segmentation_node)
        raise KeyError(f"segmentation {segmentation_node.GetName()!r} has no segment {segment_id!r} "
                       f"(segments: {', '.join(ids) or 'none'})")
    return segment


def lesionSegmentIds(segmentation_node) -> list[str]:
    """Segment ids in display order."""
    segmentation = segmentation_node.GetSegmentation()
    return [segmentation.GetNthSegmentID(n) for n in range(segmentation.GetNumberOfSegments())]


def _checked_clinical(clinical: dict[str, Any]) -> dict[str, Any]:
    """``clinical`` with every value checked against the schema (None values dropped)."""
    checked = {}
    for name, value in clinical.items():
        if value is None:
            continue
        variable = CLINICAL_VARIABLES.get(name)
        if variable is None and not name.startswith("x_"):
            raise ValueError(f"unknown clinical field {name!r}; known: {', '.join(CLINICAL_VARIABLES)} (or x_<your own>)")
        if variable is not None:
            problem = variable.problem(value)
            if problem:
                raise ValueError(f"clinical field {name}: {problem}")
        elif not isinstance(value, (str, int, float, bool)):
            raise ValueError(f"clinical field {name}: must be text, a number or true/false, got {value!r}")
        checked[name] = value
    return checked


def setLesionAnnotation(segmentation_node, segment_id: str, pathology: str | None = None, birads: str | None = None,
                        modality: str | None = None, clinical: dict[str, Any] | None = None, note: str | None = None,
                        lesion_id: str | None = None) -> None:
    """Set the given fields on one segment (None leaves a field as it is; ``""`` clears it;
    ``clinical`` replaces the whole clinical record, ``{}`` clears it).

    Values are checked against the dataset schema before anything is written: pathology
    benign / malignant / normal, BI-RADS 0-6 with 4A/4B/4C, a known image kind, clinical
    values of the right type and range; a wrong value raises ValueError naming the field.
    """
    segment = _segment(segmentation_node, segment_id)
    values: dict[str, str] = {}
    if pathology is not None:
        if pathology and pathology not in PATHOLOGIES:
            raise ValueError(f"pathology must be one of {', '.join(PATHOLOGIES)} (or empty: unknown), got {pathology!r}")
        values["pathology"] = pathology
    if birads is not None:
        category = birads.strip().upper()
        if category and category not in BIRADS_CATEGORIES:
            raise ValueError(f"BI-RADS must be one of {', '.join(BIRADS_CATEGORIES)} (or empty), got {birads!r}")
        values["birads"] = category
    if modality is not None:
        values["modality"] = checkKind(modality) if modality else ""
    if note is not None:
        values["note"] = note
    if lesion_id is not None:
        values["lesion_id"] = lesion_id
    checked = _checked_clinical(clinical) if clinical is not None else None
    for key, value in values.items():
        if value:
            segment.SetTag(FIELD_TAGS[key], encodeTagValue(value))
        else:
            segment.RemoveTag(FIELD_TAGS[key])
    if checked is not None:
        if checked:
            segment.SetTag(CLINICAL_TAG, encodeTagValue(json.dumps(checked, sort_keys=True)))
        else:
            segment.RemoveTag(CLINICAL_TAG)


def lesionAnnotation(segmentation_node, segment_id: str) -> dict[str, Any]:
    """The segment's annotation: name, colour and every field (missing ones are None / {})."""
    segment = _segment(segmentation_node, segment_id)
    annotation: dict[str, Any] = {"segment_id": segment_id, "name": segment.GetName(),
                                  "colour": tuple(round(c, 4) for c in segment.GetColor())}
    for key, tag in FIELD_TAGS.items():
        annotation[key] = _tag(segment, tag)
    clinical = _tag(segment, CLINICAL_TAG)
    try:
        annotation["clinical"] = json.loads(clinical) if clinical else {}
    except json.JSONDecodeError as error:
        raise ValueError(f"segment {segment_id!r}: clinical tag is not valid JSON ({error})") from None
    return annotation
