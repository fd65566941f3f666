"""The data half of every lesion-crop family's training (MUP-Net, DL-UM, deep radiomics), once:
check the options, read the dataset, choose the validation fold, split whole lesions, refuse a
training set without both classes, and crop every lesion in every image kind the model reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..dataset import load_dataset
from ..dataset.contract import Dataset
from ..dataset.loader import fold_split
from ..errors import UsageError
from ..planes.lesion_crops import build_lesion_crop_samples
from .bundle_facts import resolve_val_fold


@dataclass
class CropTrainingData:
    """What a crop family trains on: the dataset, the fold kept for validation, the lesion items and
    their crops (``{"x": uint8 (C, S, S), "label", ...}``), in the same order."""

    dataset: Dataset
    val_fold: int | None
    modalities: list[str]
    training: list[dict[str, Any]]
    validation: list[dict[str, Any]]
    train_samples: list[dict[str, Any]]
    val_samples: list[dict[str, Any]]


def crop_training_data(data_dir: str | Path, options: Any, modalities_of: Callable[[Dataset], list[str]],
                       needs: str, progress: bool, labelled_only: bool = True,
                       select: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None) -> CropTrainingData:
    """``options`` has ``problems()``, ``val_fold`` (set to the fold used), ``size`` and ``margin``;
    ``modalities_of(dataset)`` the image kinds to crop; ``needs`` ends the message when training
    lacks one class (``{modalities}`` in it becomes the kinds); ``select`` keeps the lesions a model learns from (with their own labels)."""
    problems = options.problems()
    if problems:
        raise UsageError("; ".join(problems))
    dataset = load_dataset(data_dir)
    options.val_fold = resolve_val_fold(dataset, options.val_fold)
    modalities = modalities_of(dataset)
    training, validation = fold_split(dataset, options.val_fold, modalities=modalities, labelled_only=labelled_only)
    if select is not None:
        training, validation = select(training), select(validation)
    if {item["label"] for item in training} != {0, 1}:
        raise UsageError(f"{data_dir}: {needs.replace('{modalities}', ', '.join(modalities))}")
    train_samples = build_lesion_crop_samples(training, modalities, options.size, options.margin, progress)
    val_samples = build_lesion_crop_samples(validation, modalities, options.size, options.margin, progress)
    for sample, item in zip(train_samples + val_samples, training + validation):
        sample["label"] = item["label"]
    return CropTrainingData(dataset, options.val_fold, modalities, training, validation, train_samples, val_samples)
