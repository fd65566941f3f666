"""The models folder: which bundles the user has, what each needs and how it scored.

The folder is chosen by the user and remembered in the application settings (QSettings
inside Slicer; any object with ``value(key, default)`` and ``setValue(key, value)`` works,
e.g. :class:`JsonSettings` outside Slicer). Listing reads only each bundle's metadata;
weights are checked (sha256) when a model is loaded to run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from BreastUSAITraining.bundle.metadata import read_metadata
from BreastUSAITraining.dataset.schema import MODALITIES
from BreastUSAITraining.errors import BreastUSAIError

MODELS_FOLDER_KEY = "BreastUSAI/ModelsFolder"
DEVICE_KEY = "BreastUSAI/Device"


def taskWords(task: str) -> str:
    """A bundle's task in words, from the engine's model-family registry."""
    from BreastUSAITraining.families import task_words

    return task_words(task)


def modelTasks() -> list[tuple[str, str]]:
    """(task, words) of every model family the engine knows, segmentation first."""
    from BreastUSAITraining.families import families

    return [(family.task, family.words) for family in families()]


@dataclass
class ModelEntry:
    """One bundle of the models folder, or the reason it cannot be used."""

    path: Path
    name: str = ""
    task: str = ""
    version: str = ""
    inputs: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    shipped: bool = False
    synthetic_only: bool = False

    @property
    def usable(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        """One line for the model list."""
        if self.problem:
            return f"{self.path.name}: cannot be used - {self.problem}"
        score = ", ".join(f"{k} {v:.3f}" for k, v in self.metrics.items() if isinstance(v, float) and not k.endswith("_s"))
        data = self.training.get("dataset") or {}
        trained = f"; trained on {data.get('name')}" if isinstance(data, dict) and data.get("name") else ""
        origin = "[shipped, SYNTHETIC ONLY] " if self.synthetic_only else "[shipped] " if self.shipped else ""
        return (f"{origin}{self.name} v{self.version} - {taskWords(self.task)}; needs {', '.join(self.inputs)}"
                + (f"; {score}" if score else "") + trained)


def _inputs(metadata: dict[str, Any]) -> list[str]:
    inputs = metadata.get("inputs", {})
    modalities = inputs.get("modalities") or ([inputs["modality"]] if inputs.get("modality") else [])
    return [m for m in modalities if m in MODALITIES] or ["us_bmode"]


def describeModel(path: str | Path) -> ModelEntry:
    """A bundle's entry from its metadata (problem set when it is not a readable bundle)."""
    path = Path(path)
    try:
        metadata = read_metadata(path)
    except BreastUSAIError as error:
        return ModelEntry(path, problem=str(error))
    return ModelEntry(path, str(metadata.get("name", path.name)), str(metadata["task"]), str(metadata.get("version", "")),
                      _inputs(metadata), dict(metadata.get("metrics", {})), dict(metadata.get("training", {})))


def listShippedModels() -> list[ModelEntry]:
    """The models that ship with BreastUSAI (``Resources/Models``), in catalogue order."""
    from BreastUSAITraining.shipped import shipped_models

    entries = []
    for model in shipped_models():
        entry = describeModel(model.path)
        entry.shipped, entry.synthetic_only = True, model.synthetic_only
        entries.append(entry)
    return entries


def shippedModelsFor(is_2d: bool, recorded_kind: str = "") -> list[Path]:
    """The shipped bundles for an image (a volume: ABVS; 2D: its recorded kind, B-mode by default),
    segmentation first; a clear error when none fits."""
    from BreastUSAITraining.errors import UsageError
    from BreastUSAITraining.shipped import image_kind, models_for_kind

    try:
        return [model.path for model in models_for_kind(image_kind(is_2d, {"modality": recorded_kind}))]
    except UsageError as error:
        raise ValueError(str(error)) from None


def listModels(folder: str | Path) -> list[ModelEntry]:
    """Every sub-folder of ``folder`` that looks like a bundle (has ``configs/``), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: models folder not found")
    return [describeModel(p) for p in sorted(folder.iterdir()) if p.is_dir() and (p / "configs").is_dir()]


def missingInputMessage(entry: ModelEntry, available_kinds: list[str]) -> str | None:
    """Why ``entry`` cannot run on the images at hand (None when it can)."""
    if not entry.usable:
        return f"{entry.path.name} cannot be used: {entry.problem}"
    missing = [k for k in entry.inputs if k not in available_kinds]
    if missing:
        words = ", ".join(MODALITIES[k] for k in missing)
        return f"{entry.name} needs {words}; load it (or set the image kind) first"
    return None


def modelsForTask(entries: list[ModelEntry], task: str) -> list[ModelEntry]:
    return [e for e in entries if e.usable and e.task == task]


def missingModelMessage(entries: list[ModelEntry], task: str) -> str | None:
    """A clear message when no usable model of ``task`` is in the folder."""
    if modelsForTask(entries, task):
        return None
    from BreastUSAITraining.families import family_for_task

    try:
        command = family_for_task(task).name
    except BreastUSAIError:
        command = task
    return (f"No {taskWords(task)} model in the models folder. Train one with "
            f"'breastusai train {command} ...' or copy a bundle folder there.")


class JsonSettings:
    """QSettings-like ``value`` / ``setValue`` stored in a JSON file (outside Slicer)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def value(self, key: str, default: Any = None) -> Any:
        return self._read().get(key, default)

    def setValue(self, key: str, value: Any) -> None:
        data = self._read()
        data[key] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)


def rememberModelsFolder(settings, folder: str | Path) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: models folder not found")
    settings.setValue(MODELS_FOLDER_KEY, str(folder.resolve()))
    return folder


def rememberedModelsFolder(settings) -> Path | None:
    value = settings.value(MODELS_FOLDER_KEY, "")
    return Path(value) if value else None
