"""Adapter: the BUSI dataset (Al-Dhabyani et al., Data in Brief 2020) -> the contract.

Input: a folder with ``manifest.csv`` (case_id, image, masks, label, dup_group,
label_conflict, ...), ``images/*.png`` and ``masks/*_mask*.png``.

Output: ``images/<case>.nrrd`` (grey, spacing unknown -> 1 mm, flagged),
``segmentations/<case>.seg.nrrd`` with one segment per lesion mask (``lesion_1`` ...;
none for normal images), and ``dataset.json`` with one item per lesion (normal
images: one lesion-free item). ``dup_group`` becomes the grouping key so that
near-duplicate images never straddle folds, and images of groups whose members
disagree on the class (``label_conflict``) are train-only. BUSI has no patient ids,
BI-RADS or clinical data: those fields are null / empty.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..atomic import atomic_directory
from ..errors import InputFileError
from ..imagefiles import ImageData, Segment, SegmentationData, read_image_2d, write_nrrd, write_segmentation
from .contract import Dataset, LesionItem, save_dataset
from .folds import assign_folds
from .source_table import read_source_table

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("case_id", "image", "masks", "label", "dup_group", "label_conflict")
LESION_COLOURS = {"benign": (0.30, 0.69, 0.29), "malignant": (0.89, 0.10, 0.11)}
REFERENCE = (
    "Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Dataset of breast ultrasound images. "
    "Data in Brief 28 (2020) 104863. doi:10.1016/j.dib.2019.104863"
)


@dataclass
class BusiImportReport:
    """What the import produced."""

    out: Path
    images: int
    lesions: int
    per_label: dict[str, int]
    train_only: int


def read_manifest(source: Path) -> list[dict[str, str]]:
    """Rows of ``manifest.csv``, with every required column checked."""
    manifest = source / "manifest.csv"
    rows = read_source_table(manifest, REQUIRED_COLUMNS,
                             "BUSI manifest not found (expected manifest.csv in the source folder)", "manifest lists no images")
    for line, row in enumerate(rows, start=2):
        if row["label"] not in ("benign", "malignant", "normal"):
            raise InputFileError(manifest, f"line {line}: label must be benign, malignant or normal, got {row['label']!r}")
        if not row["dup_group"].strip().isdigit():
            raise InputFileError(manifest, f"line {line}: dup_group must be a whole number, got {row['dup_group']!r}")
        if row["label_conflict"] not in ("0", "1"):
            raise InputFileError(manifest, f"line {line}: label_conflict must be 0 or 1, got {row['label_conflict']!r}")
    return rows


def _convert_case(source: Path, staging: Path, row: dict[str, str]) -> list[LesionItem]:
    case_id = row["case_id"]
    label = row["label"]
    image = read_image_2d(source / row["image"], colour="grey")
    image = ImageData(image.array, image.geometry, image.source, {"spacing_known": "0", "modality": "us_bmode"})
    segments: list[Segment] = []
    for index, rel in enumerate([m for m in row["masks"].split(";") if m.strip()], start=1):
        mask_image = read_image_2d(source / rel.strip(), colour="grey")
        if mask_image.array.shape != image.array.shape:
            raise InputFileError(
                source / rel, f"mask is {mask_image.array.shape[1:]} pixels but its image is {image.array.shape[1:]}"
            )
        mask = mask_image.array > 0
        if label == "normal":
            if mask.any():
                log.warning("%s: normal image has a non-empty mask; mask ignored", source / rel)
            continue
        if not mask.any():
            log.warning("%s: empty lesion mask skipped", source / rel)
            continue
        segments.append(
            Segment(f"lesion_{len(segments) + 1}", mask, LESION_COLOURS[label], tags={"pathology": label, "source": "BUSI"})
        )
    if label != "normal" and not segments:
        raise InputFileError(source / row["image"], f"{label} image has no non-empty lesion mask")
    image_rel = f"images/{case_id}.nrrd"
    seg_rel = f"segmentations/{case_id}.seg.nrrd"
    write_nrrd(image, staging / image_rel)
    write_segmentation(staging / seg_rel, SegmentationData(segments, image.geometry, image.shape_kji, seg_rel))
    common = dict(
        case_id=case_id,
        images={"us_bmode": image_rel},
        segmentation={"us_bmode": seg_rel},
        dup_group=f"busi-{int(row['dup_group']):04d}",
        train_only=row["label_conflict"] == "1",
    )
    if label == "normal":
        return [LesionItem(pathology="normal", **common)]
    return [LesionItem(lesion_id=s.name, segment=s.name, pathology=label, **common) for s in segments]


def import_busi(
    source: str | Path,
    out: str | Path,
    n_folds: int = 5,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
) -> BusiImportReport:
    """Convert the BUSI folder ``source`` into a dataset folder ``out`` (written atomically)."""
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise InputFileError(source, "BUSI source folder not found")
    rows = read_manifest(source)
    manifest_sha = hashlib.sha256((source / "manifest.csv").read_bytes()).hexdigest()
    try:
        with atomic_directory(out, overwrite=overwrite) as staging:
            items: list[LesionItem] = []
            for row in tqdm(rows, desc="Importing BUSI", unit="image", disable=not progress):
                items.extend(_convert_case(source, staging, row))
            items = assign_folds(items, n_folds=n_folds, seed=seed)
            dataset = Dataset(
                staging,
                f"BUSI ({source.resolve().name}, manifest {manifest_sha[:8]})",
                items,
                description=(
                    "Breast Ultrasound Images (BUSI), B-mode, converted by BreastUSAI. "
                    "Pixel spacing unknown (1 mm placeholder). Folds group near-duplicate images "
                    f"(dup_group); label-conflict groups are train-only. {n_folds} folds, seed {seed}."
                ),
                reference=REFERENCE,
                extra={"source": {"name": "BUSI", "manifest_sha256": manifest_sha, "images": len(rows)}},
            )
            save_dataset(dataset)
    except FileExistsError as error:
        raise InputFileError(out, str(error)) from None
    per_label: dict[str, int] = {}
    for row in rows:
        per_label[row["label"]] = per_label.get(row["label"], 0) + 1
    lesions = sum(1 for item in items if item.segment)
    return BusiImportReport(out, len(rows), lesions, per_label, sum(1 for i in items if i.train_only))
