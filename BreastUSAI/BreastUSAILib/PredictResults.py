"""``predict``'s output folder -> scene nodes: lesion segments on the input volume, one
heatmap volume per lesion, and rows of the results table.

``predict`` writes, per input, ``result.json``, ``lesions.seg.nrrd`` and
``heatmap_<lesion>.nrrd`` (on the input grid, or on the lesion box for very large
volumes); the geometry in those files is the input's, so the nodes line up with the
volume the user sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from BreastUSAITraining.imagefiles import read_image

from .HeatmapOverlay import addHeatmapVolume
from .LesionClassification import addResultRows
from .LesionMasks import loadSegmentationFile


def readResult(folder: str | Path) -> dict[str, Any]:
    """``result.json`` of one input's output folder (ValueError naming the file when unreadable)."""
    path = Path(folder) / "result.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no result (did predict finish for this input?)") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None


#: what a results row keeps of a model's result.json entry (per-plane probabilities, MUP-Net's matches)
DETAIL_KEYS = ("per_plane", "prototypes", "contribution_scores", "contribution_order", "kind")


def resultKeys() -> list[tuple[str, str]]:
    """(result.json key, task) of every classifier family the engine knows."""
    from BreastUSAITraining.families import CLASSIFIER, families

    return [(family.result_key, family.task) for family in families(CLASSIFIER)]


def decisionKeys() -> list[str]:
    """result.json keys of the decisions families draw from several models (e.g. the 4A re-stratification)."""
    from BreastUSAITraining.families import families

    return [key for family in families() for key in family.decisions]


def resultRows(document: dict[str, Any], image_name: str) -> list[dict[str, Any]]:
    """One results-table row per lesion and model of a ``result.json``."""
    rows = []
    for lesion in document.get("lesions", []):
        # a lesion outlined below the segmentation threshold (predict --expect-lesion) says so on its rows
        detection = lesion.get("tags", {}).get("BreastUSAI.Detection", "")
        for key, task in resultKeys():
            for model, outcome in lesion.get(key, {}).items():
                probability = outcome.get("malignant_probability", outcome.get("probability"))
                details = {k: outcome[k] for k in DETAIL_KEYS if k in outcome}
                rows.append({"image": image_name, "lesion": lesion["id"], "model": model, "task": task,
                             "probability": probability, "prediction": outcome.get("prediction", ""),
                             "birads_suggestion": "", "decision": "", "reason": detection, "details": details})
        ensemble = lesion.get("ensemble")
        if ensemble:
            rows.append({"image": image_name, "lesion": lesion["id"], "model": "ensemble of " + " + ".join(ensemble["models"]),
                         "task": "ensemble", "probability": ensemble["malignant_probability"],
                         "prediction": ensemble["prediction"], "birads_suggestion": "", "decision": "", "reason": detection})
        for key in decisionKeys():
            step = lesion.get(key)
            if step:
                rows.append({"image": image_name, "lesion": lesion["id"], "model": step.get("title", key),
                             "task": step.get("task", "decision"), "probability": step.get("probability", ""),
                             "prediction": "biopsy" if step.get("biopsy") else "follow-up",
                             "birads_suggestion": step.get("suggested_birads", ""), "decision": step.get("decision", ""),
                             "reason": step.get("reason", "")})
    return rows


def loadPredictResult(scene, folder: str | Path, input_volume) -> dict[str, Any]:
    """Add one input's results to the scene; returns {"result", "segmentation", "heatmaps"}.

    The lesions become a segmentation node referencing ``input_volume``; each heatmap a
    volume shown with the heatmap colours; the rows go to the results table.
    """
    folder = Path(folder)
    document = readResult(folder)
    loaded: dict[str, Any] = {"result": document, "segmentation": None, "heatmaps": {}}
    seg_file = folder / "lesions.seg.nrrd"
    if document.get("lesions") and seg_file.is_file():
        loaded["segmentation"] = loadSegmentationFile(scene, seg_file, input_volume, f"{input_volume.GetName()} AI lesions")
    for lesion in document.get("lesions", []):
        heatmap = lesion.get("heatmap")
        if heatmap:
            image = read_image(folder / heatmap["file"])
            node = addHeatmapVolume(scene, image, f"{input_volume.GetName()} heatmap {lesion['id']}", input_volume)
            loaded["heatmaps"][lesion["id"]] = node
    rows = resultRows(document, input_volume.GetName())
    if rows:
        addResultRows(scene, rows)
    return loaded
