"""One line per lesion of a prediction, in the radiologist's words, and the prototype patches
that explain it: what a results table shows (the web app's and any other front end's).

Input: ``predict``'s ``result.json`` document of one image and the bundle folders the run used.
Sizes are the lesion's bounding-box extent in millimetres along each image axis of more than one
voxel: voxels from first to last, inclusive, times the spacing (``bbox_ijk`` and the image's
``spacing`` in ``result.json``; BUSI and BUS-BRA record no spacing, so there 1 mm means 1 pixel).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def lesionSize(lesion: dict[str, Any], spacing: list[float], shape_kji: list[int]) -> str:
    """'12.0 x 8.5 mm' (2D) or '12.0 x 8.5 x 6.0 mm' (volume) from the lesion's box; '' when absent.
    ``spacing`` (x, y, z) in mm; ``shape_kji`` the image's voxels per axis (an axis of one voxel,
    the slice of a 2D image, has no extent)."""
    box = lesion.get("bbox_ras") or {}
    ijk = lesion.get("bbox_ijk") or {}
    if not box or not ijk:
        return ""
    extents = []
    for axis in range(3):
        if shape_kji[2 - axis] == 1:
            continue
        extent_ijk = (ijk["max"][axis] - ijk["min"][axis] + 1) * float(spacing[axis])
        extents.append(extent_ijk)
    return " x ".join(f"{value:.1f}" for value in extents) + " mm"


def lesionSummaries(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Per lesion: id, size, malignant probability (the combined one predict reports), call
    (benign / malignant, or '' without a classifier) and the models that spoke about it."""
    image = document.get("image", {})
    spacing, shape = image.get("spacing", [1.0, 1.0, 1.0]), image.get("shape_kji", [2, 2, 2])
    rows = []
    for lesion in document.get("lesions", []):
        models = [name for key in ("classification", "prototype_explanations") for name in lesion.get(key, {})]
        probability = lesion.get("malignant_probability")
        rows.append({"lesion": lesion["id"], "size": lesionSize(lesion, spacing, shape),
                     "probability": None if probability is None else round(float(probability), 4),
                     "call": lesion.get("prediction", ""),
                     "detection": lesion.get("tags", {}).get("BreastUSAI.Detection", ""),
                     "models": ", ".join(models)})
    return rows


def bundleRoots(bundle_paths: list[str | Path]) -> dict[str, Path]:
    """Model name (its metadata's ``name``, else the folder's) -> bundle folder."""
    roots = {}
    for path in bundle_paths:
        path = Path(path)
        try:
            name = json.loads((path / "configs" / "metadata.json").read_text(encoding="utf-8")).get("name") or path.name
        except (OSError, ValueError):
            name = path.name
        roots[name] = path
    return roots


def prototypeMatches(document: dict[str, Any], lesion_id: str, roots: dict[str, Path]) -> list[dict[str, Any]]:
    """The prototype patches MUP-Net matched for one lesion, most contributing first: model,
    modality, class, prototype number, contribution (normalised, 0-1), source case and BI-RADS,
    and the patch / source image files inside the bundle (None when the bundle has none)."""
    lesion = next((item for item in document.get("lesions", []) if item["id"] == lesion_id), None)
    if lesion is None:
        raise ValueError(f"No lesion {lesion_id!r} in these results.")
    patches = []
    for model, outcome in lesion.get("prototype_explanations", {}).items():
        root = roots.get(model)
        for modality, matches in outcome.get("prototypes", {}).items():
            for name, match in matches.items():
                patches.append({"model": model, "modality": modality, "class": name, "prototype": match["prototype"],
                                "contribution": match["contribution_normalised"], "source_case": match["source_case"],
                                "source_birads": match.get("source_birads", ""),
                                "image": _inside(root, match.get("patch_image")),
                                "source_image": _inside(root, match.get("source_image"))})
    return sorted(patches, key=lambda patch: -patch["contribution"])


def _inside(root: Path | None, relative: str | None) -> str | None:
    """A bundle file named by result.json, only when it lies inside the bundle."""
    if root is None or not relative:
        return None
    path = (root / relative).resolve()
    return str(path) if path.is_relative_to(root.resolve()) and path.is_file() else None
