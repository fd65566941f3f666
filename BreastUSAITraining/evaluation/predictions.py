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
from ..classification.inference import PlaneClassifier
from ..dataset.contract import Dataset
from ..dataset.loader import case_dicts, lesion_dicts
from ..errors import UsageError
from ..imagefiles import read_image, read_segmentation
from ..segmentation.inference import LesionSegmenter
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


def classifier_rows(bundle: Bundle, device, dataset: Dataset, split: str, folds: list[int] | None,
                    progress: bool = True) -> list[dict[str, Any]]:
    """Malignant probability of every labelled lesion of the split the model can read."""
    classifier = PlaneClassifier(bundle, device)
    items = [i for i in lesion_dicts(dataset, split, folds=folds) if i["modality"] == classifier.modality]
    if not items:
        raise UsageError(f"{dataset.root}: no labelled {classifier.modality} lesion in split {split}"
                         + (f" fold {folds[0]}" if folds else ""))
    rows = []
    for item in tqdm(items, desc="classifying lesions", disable=not progress, unit="lesion"):
        image = read_image(item["image"])
        mask = read_segmentation(item["segmentation"]).on_grid(image.geometry, image.shape_kji).segment(item["segment"]).mask
        outcome = classifier.classify(classifier.lesion_planes(image, mask))
        rows.append({"case_id": item["case_id"], "lesion_id": item["lesion_id"] or "", "label": item["label"],
                     "pathology": item["pathology"], "birads": item["birads"] or "",
                     "probability": outcome["malignant_probability"],
                     **{f"probability_{plane}": value for plane, value in outcome["per_plane"].items()}})
    return rows


def crop_model_rows(bundle: Bundle, device, dataset: Dataset, split: str, folds: list[int] | None,
                    progress: bool = True) -> list[dict[str, Any]]:
    """MUP-Net / DL-UM / deep radiomics: every labelled lesion of the split that has all the model's
    images (DLR_LH: labelled low / high risk by BI-RADS; DLR_BM: the BI-RADS 4A lesions)."""
    from ..dlum.explain import FusionExplainer
    from ..mupnet.explain import PrototypeExplainer
    from ..planes.lesion_crops import build_lesion_crop_samples
    from ..radiomics.labels import select
    from ..radiomics.predictor import RadiomicsPredictor

    if bundle.task == "dlr":
        model = RadiomicsPredictor(bundle, device)
        items = select(lesion_dicts(dataset, split, folds=folds, modalities=model.modalities, labelled_only=model.kind != "lh"),
                       model.kind)
    else:
        model = PrototypeExplainer(bundle, device) if bundle.task == "mupnet" else FusionExplainer(bundle, device)
        items = lesion_dicts(dataset, split, folds=folds, modalities=model.modalities)
    if not items:
        raise UsageError(f"{dataset.root}: no labelled lesion with {', '.join(model.modalities)} in split {split}")
    samples = build_lesion_crop_samples(items, model.modalities, model.size, model.margin, progress)
    rows = []
    for item, sample in zip(items, samples):
        crop = sample["x"].astype(np.float32) / 255.0
        probability = (model.probability(crop, item["clinical"]) if bundle.task == "dlr"
                       else model.explain(crop)[0]["malignant_probability"])
        rows.append({"case_id": item["case_id"], "lesion_id": item["lesion_id"] or "", "label": item["label"],
                     "pathology": item["pathology"], "birads": item["birads"] or "",
                     "probability": round(float(probability), 4)})
    return rows


def segmentation_rows(bundle: Bundle, device, dataset: Dataset, split: str, folds: list[int] | None,
                      progress: bool = True) -> list[dict[str, Any]]:
    """Dice and IoU of every case with a lesion, at the image's own resolution."""
    segmenter = LesionSegmenter(bundle, device)
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
