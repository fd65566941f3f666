"""Dataset actions of the module: make sample data, validate and summarise a dataset.

Plain functions over folders (no MRML needed); errors from the engine come back as
:class:`BreastUSAITraining.errors.BreastUSAIError` whose message names the file.
"""

from __future__ import annotations

from pathlib import Path

from BreastUSAITraining.dataset import load_dataset
from BreastUSAITraining.dataset.summary import format_summary, summarise
from BreastUSAITraining.dataset.validate import validate_dataset_folder
from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset


def generatePhantomDataset(folder: str | Path, kind: str = "all", cases: int = 8, seed: int = 0) -> Path:
    """Write a phantom dataset of ``kind`` into ``folder`` (new or empty); returns the folder."""
    generate_phantom_dataset(folder, PhantomSettings(kind=kind, cases=cases, seed=seed), progress=False)
    return Path(folder)


def validateDataset(folder: str | Path, deep: bool = True) -> list[str]:
    """Every violation of the dataset contract in ``folder`` as text (empty: valid)."""
    return [str(v) for v in validate_dataset_folder(folder, deep=deep)]


def datasetSummaryText(folder: str | Path) -> str:
    """Human-readable counts of a valid dataset (classes, groups, folds)."""
    return format_summary(summarise(load_dataset(folder)))
