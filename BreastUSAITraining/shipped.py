"""The models that ship with BreastUSAI (``Resources/Models/``) and which ones fit an image.

``Resources/Models/catalogue.json`` lists every shipped bundle::

    {"models": [{"folder": "lesion-segmentation", "image_kinds": ["us_bmode"],
                 "role": "segmentation" | "classifier" | "prototypes",
                 "synthetic_only": false, "summary": "..."}, ...]}

``predict`` without ``--model`` runs, for each input, the shipped bundles whose
``image_kinds`` hold the input's kind (a volume is an ABVS scan; a 2D image is B-mode
unless its file says otherwise). The Slicer module lists the shipped models before the
user's models folder. ``BREASTUSAI_MODELS`` points elsewhere (e.g. a newer release).
Listing reads JSON only; weights are verified (sha256) when a bundle is loaded.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputFileError, UsageError

CATALOGUE = "catalogue.json"
ENVIRONMENT_VARIABLE = "BREASTUSAI_MODELS"
ROLES = ("segmentation", "classifier", "prototypes")


@dataclass(frozen=True)
class ShippedModel:
    """One entry of the catalogue."""

    path: Path
    image_kinds: tuple[str, ...]
    role: str
    synthetic_only: bool
    summary: str

    @property
    def name(self) -> str:
        return self.path.name


def shipped_models_folder() -> Path:
    """``$BREASTUSAI_MODELS`` or the repository's ``Resources/Models``."""
    override = os.environ.get(ENVIRONMENT_VARIABLE)
    return Path(override) if override else Path(__file__).resolve().parents[1] / "Resources" / "Models"


def _entry(folder: Path, raw: Any, catalogue: Path) -> ShippedModel:
    if not isinstance(raw, dict) or not isinstance(raw.get("folder"), str):
        raise InputFileError(catalogue, f"each model needs a 'folder' name, got {str(raw)[:80]!r}")
    name = raw["folder"]
    if Path(name).name != name or name in ("", ".", ".."):
        raise InputFileError(catalogue, f"model folder {name!r} must be a plain folder name inside {folder}")
    kinds = raw.get("image_kinds")
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise InputFileError(catalogue, f"{name}: 'image_kinds' must be a non-empty list of image kinds")
    if raw.get("role") not in ROLES:
        raise InputFileError(catalogue, f"{name}: 'role' must be one of {', '.join(ROLES)}, got {raw.get('role')!r}")
    return ShippedModel(folder / name, tuple(kinds), raw["role"], bool(raw.get("synthetic_only", False)),
                        str(raw.get("summary", "")))


def shipped_models(folder: str | Path | None = None) -> list[ShippedModel]:
    """Every catalogued model, in catalogue order (empty when there is no catalogue)."""
    folder = Path(folder) if folder is not None else shipped_models_folder()
    catalogue = folder / CATALOGUE
    if not catalogue.is_file():
        return []
    try:
        document = json.loads(catalogue.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputFileError(catalogue, f"not valid JSON ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("models"), list):
        raise InputFileError(catalogue, "expected {\"models\": [...]}")
    return [_entry(folder, raw, catalogue) for raw in document["models"]]


def models_for_kind(kind: str, folder: str | Path | None = None) -> list[ShippedModel]:
    """The shipped models that read ``kind`` images (segmentation first); UsageError when none does."""
    chosen = [m for m in shipped_models(folder) if kind in m.image_kinds]
    if not chosen:
        where = folder or shipped_models_folder()
        raise UsageError(f"no shipped model reads {kind} images (looked in {where}); give one with --model BUNDLE")
    return sorted(chosen, key=lambda m: ROLES.index(m.role))


def image_kind(is_2d: bool, meta: dict[str, str]) -> str:
    """What an input image is, for choosing models: ``abvs`` for a volume, otherwise the
    modality its file records (our NRRDs do), B-mode when nothing says."""
    if not is_2d:
        return "abvs"
    recorded = meta.get("modality", "")
    return recorded if recorded in ("us_bmode", "us_doppler", "us_elastography", "mg_cc", "mg_mlo") else "us_bmode"


def sample_data_folder() -> Path:
    """``Resources/SampleData`` beside the shipped models (the demo's images)."""
    return shipped_models_folder().parent / "SampleData"
