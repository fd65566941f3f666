"""Classify one annotated lesion with any installed model family, in this process.

Used when the reader has drawn or corrected a lesion and wants the models' opinion on
that exact mask. A lesion is given as its images: image kind -> (volume node,
segmentation node, segment id); the mask is read on each image's own grid, so
co-registered images can share one segment.

Every family of the engine's registry runs through its own predictor: the probability, the
call at the bundle's threshold and the family's details (per-plane probabilities, matched
prototypes with contribution scores ...); a family's combined decision (e.g. DLR_LH + DLR_BM:
the BI-RADS 4A re-stratification) becomes one more row.

Rows go to a vtkMRMLTableNode (image, lesion, model, probability, prediction, BI-RADS
suggestion, decision, reason) that Slicer shows as a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from BreastUSAITraining.bundle import Bundle, load_bundle
from BreastUSAITraining.imagefiles.colour import colour_mode_for, to_grey

from .LesionAnnotations import lesionAnnotation
from .LesionMasks import lesionMask
from .SceneVolumes import imageFromVolumeNode

RESULT_COLUMNS = ("image", "lesion", "model", "task", "probability", "prediction", "birads_suggestion", "decision", "reason")
RESULTS_TABLE_NAME = "BreastUSAI results"


@dataclass
class LoadedModels:
    """Bundles loaded once (weights checked) and their predictors, by bundle folder."""

    device: Any
    predictors: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def onDevice(cls, choice: str = "auto") -> "LoadedModels":
        """Models on ``auto`` (CUDA when present), ``cpu`` or ``cuda``."""
        from BreastUSAITraining.training.device import resolve_device

        return cls(resolve_device(choice))

    def get(self, path: str | Path):
        key = str(Path(path).resolve())
        if key not in self.predictors:
            self.predictors[key] = _predictor(load_bundle(path), self.device)
        return self.predictors[key]


def _predictor(bundle: Bundle, device):
    from BreastUSAITraining.families import CLASSIFIER, family_for_task

    family = family_for_task(bundle.task, bundle.root)
    if family.role != CLASSIFIER:
        raise ValueError(f"{bundle.root}: a {bundle.task!r} model does not classify lesions")
    return family.load_predictor(bundle, device)


def requiredKinds(predictor) -> list[str]:
    """Image kinds a predictor needs for each lesion."""
    return list(predictor.kinds)


def _lesionInput(lesion: dict[str, tuple[Any, Any, str]], name: str, annotation: dict[str, Any]):
    """The scene's views of one lesion -> the engine's LesionInput (each image as its kind wants it:
    colour kept for Doppler / elastography, grey otherwise; the segment on each image's own grid)."""
    from BreastUSAITraining.families import LesionInput, LesionView
    from BreastUSAITraining.lesions import Lesion

    views = {}
    for kind, (volume, segmentation, segment_id) in lesion.items():
        image = imageFromVolumeNode(volume)
        if image.is_colour and colour_mode_for(kind) != "keep":
            image.array = to_grey(image.array)
        mask = lesionMask(segmentation, segment_id, volume)
        if not mask.any():
            raise ValueError(f"segment {segment_id!r} does not cover any pixel of {volume.GetName()!r}")
        views[kind] = LesionView(image, Lesion(str(name), mask))
    return LesionInput(str(name), views, next(iter(lesion)), dict(annotation.get("clinical") or {}),
                       annotation.get("birads") or None)


def _combinedRow(image_name: str, name: str, task: str, combined: dict[str, Any]) -> dict[str, Any]:
    """A decision drawn from several models of one family (the BI-RADS 4A re-stratification) as a row."""
    return {"image": image_name, "lesion": name, "model": str(combined.get("title") or combined.get("key", task)),
            "task": str(combined.get("task", "decision")),
            "probability": combined.get("probability", ""), "prediction": "biopsy" if combined.get("biopsy") else "follow-up",
            "birads_suggestion": combined.get("suggested_birads", ""), "decision": combined.get("decision", ""),
            "reason": combined.get("reason", ""), "details": {}}


def classifyLesion(models: LoadedModels, bundle_paths: list[str | Path], lesion: dict[str, tuple[Any, Any, str]],
                   lesion_name: str | None = None) -> list[dict[str, Any]]:
    """One row per model (plus one per combined decision, e.g. the BI-RADS 4A re-stratification)
    for the lesion given as image kind -> (volume node, segmentation node, segment id).

    A model whose image kinds the lesion lacks raises ValueError naming what is missing. The
    call is the engine's: the bundle's threshold, the one rule ``predict`` and ``evaluate`` use.
    """
    from BreastUSAITraining.families import family_for_task

    if not lesion:
        raise ValueError("no image given for the lesion")
    first_view = next(iter(lesion.values()))
    annotation = lesionAnnotation(first_view[1], first_view[2])
    name = lesion_name or annotation["lesion_id"] or annotation["name"]
    image_name = first_view[0].GetName()
    lesion_input = _lesionInput(lesion, name, annotation)
    rows: list[dict[str, Any]] = []
    outcomes: dict[str, list[Any]] = {}
    for path in bundle_paths:
        predictor = models.get(path)
        bundle = predictor.bundle
        kinds = requiredKinds(predictor)
        missing = [k for k in kinds if k not in lesion]
        if missing:
            raise ValueError(f"model {bundle.name} needs {', '.join(missing)} image(s) of lesion {name}; "
                             f"the lesion has {', '.join(lesion) or 'none'}")
        outcome = predictor.predict(lesion_input)
        outcomes.setdefault(bundle.task, []).append(outcome)
        details = {k: outcome.document[k] for k in ("per_plane", "prototypes", "contribution_scores",
                                                    "contribution_order", "kind") if k in outcome.document}
        rows.append({"image": image_name, "lesion": name, "model": bundle.name, "task": bundle.task,
                     "probability": round(float(outcome.probability), 4), "prediction": outcome.call,
                     "birads_suggestion": "", "decision": "", "reason": "", "details": details})
    for task, found in outcomes.items():
        combined = family_for_task(task).combine(found, lesion_input)
        if combined is not None:
            rows.append(_combinedRow(image_name, name, task, combined))
    return rows


def resultsTable(scene):
    """The scene's results table node (created with its columns on first use)."""
    import vtk

    table = scene.GetFirstNodeByName(RESULTS_TABLE_NAME)
    if table is None:
        table = scene.AddNewNodeByClass("vtkMRMLTableNode", RESULTS_TABLE_NAME)
        for column in RESULT_COLUMNS:
            array = vtk.vtkDoubleArray() if column == "probability" else vtk.vtkStringArray()
            array.SetName(column)
            table.AddColumn(array)
    return table


def addResultRows(scene, rows: list[dict[str, Any]]):
    """Append ``rows`` to the results table (the same image + lesion + model already there is replaced)."""
    table = resultsTable(scene)
    existing = tableRows(table)
    keys = {(r["image"], r["lesion"], r["model"]) for r in rows}
    kept = [r for r in existing if (r["image"], r["lesion"], r["model"]) not in keys]
    vtk_table = table.GetTable()
    vtk_table.SetNumberOfRows(0)
    for row in kept + rows:
        index = vtk_table.InsertNextBlankRow()
        for c, column in enumerate(RESULT_COLUMNS):
            value = row.get(column, "")
            _set_cell(vtk_table.GetColumn(c), index, column, value)
    vtk_table.Modified()
    table.Modified()
    return table


def _set_cell(array, index: int, column: str, value: Any) -> None:
    if column == "probability":
        array.SetValue(index, float(value) if value != "" else float("nan"))
    else:
        array.SetValue(index, str(value))


def tableRows(table) -> list[dict[str, Any]]:
    """The results table as dicts (what a test or an export reads)."""
    vtk_table = table.GetTable()
    rows = []
    for index in range(vtk_table.GetNumberOfRows()):
        row = {}
        for c in range(vtk_table.GetNumberOfColumns()):
            column = vtk_table.GetColumn(c)
            value = column.GetValue(index)
            row[column.GetName()] = float(value) if column.GetName() == "probability" else str(value)
        rows.append(row)
    return rows
