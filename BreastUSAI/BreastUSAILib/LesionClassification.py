"""Classify one annotated lesion with any installed model family, in this process.

Used when the reader has drawn or corrected a lesion and wants the models' opinion on
that exact mask. A lesion is given as its images: image kind -> (volume node,
segmentation node, segment id); the mask is read on each image's own grid, so
co-registered images can share one segment.

* ``abvs-planes``: three-plane (ABVS) or single-plane (2D) ResNet -> fused probability
  and one per plane;
* ``mupnet``: probability, matched prototypes and the six contribution scores;
* ``dlum``: US + MG fusion probability;
* ``dlr``: CLDLR / DLR_LH / DLR_BM with the lesion's clinical fields; with DLR_LH and
  DLR_BM both given, a BI-RADS 4A lesion gets the two-stage re-stratification.

Rows go to a vtkMRMLTableNode (image, lesion, model, probability, prediction, BI-RADS
suggestion, decision, reason) that Slicer shows as a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from BreastUSAITraining.bundle import Bundle, load_bundle
from BreastUSAITraining.imagefiles.colour import colour_mode_for, to_grey
from BreastUSAITraining.planes.lesion_crops import crop_to_uint8, modality_crop

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
    if bundle.task == "abvs-planes":
        from BreastUSAITraining.classification.inference import PlaneClassifier

        return PlaneClassifier(bundle, device)
    if bundle.task == "mupnet":
        from BreastUSAITraining.mupnet.explain import PrototypeExplainer

        return PrototypeExplainer(bundle, device)
    if bundle.task == "dlum":
        from BreastUSAITraining.dlum.explain import FusionExplainer

        return FusionExplainer(bundle, device)
    if bundle.task == "dlr":
        from BreastUSAITraining.radiomics.predictor import RadiomicsPredictor

        return RadiomicsPredictor(bundle, device)
    raise ValueError(f"{bundle.root}: a {bundle.task!r} model does not classify lesions")


def requiredKinds(predictor) -> list[str]:
    """Image kinds a predictor needs for each lesion."""
    return [predictor.modality] if predictor.bundle.task == "abvs-planes" else list(predictor.modalities)


def _crop(view: tuple[Any, Any, str], kind: str, size: int, margin: float) -> np.ndarray:
    volume, segmentation, segment_id = view
    image = imageFromVolumeNode(volume)
    if not image.is_2d:
        raise ValueError(f"{kind} image {volume.GetName()!r} must be 2D, it has {image.shape_kji[0]} slices")
    plane = image.plane
    if image.is_colour and colour_mode_for(kind) != "keep":
        plane = to_grey(plane)
    mask = lesionMask(segmentation, segment_id, volume)[0]
    if not mask.any():
        raise ValueError(f"segment {segment_id!r} does not cover any pixel of {volume.GetName()!r}")
    return modality_crop(plane, image.geometry, mask, kind, size, margin)


def classifyLesion(models: LoadedModels, bundle_paths: list[str | Path], lesion: dict[str, tuple[Any, Any, str]],
                   lesion_name: str | None = None) -> list[dict[str, Any]]:
    """One row per model (plus a re-stratification row when it applies) for the lesion
    given as image kind -> (volume node, segmentation node, segment id).

    A model whose image kinds the lesion lacks raises ValueError naming what is missing.
    """
    if not lesion:
        raise ValueError("no image given for the lesion")
    first_view = next(iter(lesion.values()))
    annotation = lesionAnnotation(first_view[1], first_view[2])
    name = lesion_name or annotation["lesion_id"] or annotation["name"]
    image_name = first_view[0].GetName()
    rows: list[dict[str, Any]] = []
    risk: dict[str, float] = {}
    for path in bundle_paths:
        predictor = models.get(path)
        bundle = predictor.bundle
        missing = [k for k in requiredKinds(predictor) if k not in lesion]
        if missing:
            raise ValueError(f"model {bundle.name} needs {', '.join(missing)} image(s) of lesion {name}; "
                             f"the lesion has {', '.join(lesion) or 'none'}")
        row: dict[str, Any] = {"image": image_name, "lesion": name, "model": bundle.name, "task": bundle.task, "birads_suggestion": "",
                               "decision": "", "reason": "", "details": {}}
        if bundle.task == "abvs-planes":
            volume, segmentation, segment_id = lesion[predictor.modality]
            image = imageFromVolumeNode(volume)
            if image.is_colour:
                image.array = to_grey(image.array)
            predictor.check_image(image)
            outcome = predictor.classify(predictor.lesion_planes(image, lesionMask(segmentation, segment_id, volume)))
            probability, row["details"] = outcome["malignant_probability"], {"per_plane": outcome["per_plane"]}
        else:
            x = np.concatenate([_crop(lesion[k], k, predictor.size, predictor.margin) for k in requiredKinds(predictor)])
            x = crop_to_uint8(x).astype(np.float32) / 255.0  # as in training (uint8 crops)
            if bundle.task == "dlr":
                probability = predictor.probability(x, annotation["clinical"])
                risk[predictor.kind] = probability
                row["details"] = {"kind": predictor.kind}
            else:
                document, _ = predictor.explain(x)
                probability = document["malignant_probability"]
                if bundle.task == "mupnet":
                    row["details"] = {"prototypes": document["prototypes"], "contribution_scores": document["contribution_scores"],
                                      "contribution_order": document["contribution_order"]}
        threshold = float(bundle.inference.get("threshold", 0.5))
        label = ("high risk" if probability >= threshold else "low risk") if row["details"].get("kind") == "lh" else \
            ("malignant" if probability >= threshold else "benign")
        row.update(probability=round(float(probability), 4), prediction=label)
        rows.append(row)
    if "lh" in risk and "bm" in risk:
        from BreastUSAITraining.radiomics.restratify import restratify_4a

        result = restratify_4a(annotation["birads"], risk["lh"], risk["bm"])
        rows.append({"image": image_name, "lesion": name, "model": "BI-RADS 4A re-stratification (DLR_LH + DLR_BM)", "task": "restratify",
                     "probability": round(risk["bm"], 4), "prediction": "biopsy" if result.biopsy else "follow-up",
                     "birads_suggestion": result.suggested_birads, "decision": result.decision, "reason": result.reason,
                     "details": {}})
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
