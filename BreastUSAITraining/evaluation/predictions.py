"""Predictions of a bundle on a dataset split, one row per lesion (classifiers) or per
case (segmentation), with the lesion located by its ground-truth mask."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..atomic import write_text_atomic
from ..bundle import Bundle
from ..dataset.contract import Dataset
from ..dataset.loader import case_dicts
from ..errors import UsageError
from ..families import family_for_task
from ..families.dataset_lesions import lesion_from_item
from ..segmentation.samples import read_case
from ..segmentation.task import dice_and_iou


def parse_split(text: str) -> tuple[str, list[int] | None]:
    """``test`` -> ("test", None); ``fold:K`` -> ("training", [K]); ``all`` -> ("training", None)."""
    if text == "test":
        return "test", None
    if text == "all":
        return "training", None
    if text.startswith("fold:"):
        try:
            return "training", [int(text.split(":", 1)[1])]
        except ValueError:
            pass
    raise UsageError(f"--split must be test, all or fold:K, got {text!r}")


def lesion_rows(bundle: Bundle, device, dataset: Dataset, split: str, folds: list[int] | None,
                progress: bool = True) -> list[dict[str, Any]]:
    """A classifier family's probability and call of every lesion of the split it is scored on (its
    family chooses them), through the same predictor ``predict`` and the Slicer module use."""
    family = family_for_task(bundle.task, bundle.root)
    predictor = family.load_predictor(bundle, device)
    items = family.evaluation_items(predictor, dataset, split, folds)
    if not items:
        raise UsageError(f"{dataset.root}: no labelled lesion with {', '.join(predictor.kinds)} in split {split}"
                         + (f" fold {folds[0]}" if folds else ""))
    rows = []
    for item in tqdm(items, desc="classifying lesions", disable=not progress, unit="lesion"):
        outcome = predictor.predict(lesion_from_item(item, predictor.kinds))
        rows.append({"case_id": item["case_id"], "lesion_id": item["lesion_id"] or "", "label": item["label"],
                     "pathology": item["pathology"], "birads": item["birads"] or "",
                     "probability": round(float(outcome.probability), 4), "threshold": outcome.threshold,
                     "call": outcome.call, **outcome.columns})
    return rows


def segmentation_rows(bundle: Bundle, device, dataset: Dataset, split: str, folds: list[int] | None,
                      progress: bool = True) -> list[dict[str, Any]]:
    """Dice and IoU of every case with a lesion, at the image's own resolution."""
    segmenter = family_for_task(bundle.task, bundle.root).load_predictor(bundle, device)
    rows = []
    for case in tqdm(case_dicts(dataset, split, folds=folds), desc="segmenting cases", disable=not progress, unit="case"):
        if not case["segments"]:
            continue
        image, truth = read_case(case)
        probability = segmenter.probability(image)
        predicted = np.zeros_like(truth)
        for lesion in segmenter.lesions(image, probability):
            predicted[lesion.box_slices] |= lesion.box_mask
        dice, iou = dice_and_iou(predicted, truth)
        rows.append({"case_id": case["case_id"], "pathology": case["pathology"], "dice": dice, "iou": iou})
    if not rows:
        raise UsageError(f"{dataset.root}: no case with a lesion in split {split}")
    return rows


def write_rows_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def read_rows_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
