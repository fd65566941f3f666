"""Adapter: the BUS-BRA dataset (Gómez-Flores et al., Medical Physics 2024) -> the contract.

Input: a folder with ``bus_data.csv`` (ID, Case, Histology, Pathology, BIRADS, Device,
Width, Height, Side, BBOX, fold), ``Images/<ID>.png`` and ``Masks/mask_<ID minus 'bus_'>.png``
(``bus_0001-l`` -> ``mask_0001-l.png``).

Output: one lesion item per image (``case_id`` = the image ID), ``images/<ID>.nrrd``
(grey, spacing unknown -> 1 mm, flagged) and ``segmentations/<ID>.seg.nrrd`` with one
segment ``lesion_1``. Every image of a patient shares ``patient_id`` (``busbra-XXXX``) and
``dup_group`` (``busbra-XXXX``): in BUS-BRA the ``-l`` / ``-r`` images are two views of
**one lesion**, so they are kept in one fold and counted as one lesion wherever a
per-lesion figure is meant. The authors' official patient-grouped folds (1-4 in the
development part) become folds 0-3. BI-RADS is kept as given (2, 3, 4, 5; BUS-BRA does
not subdivide 4). No clinical variables exist.

Rows whose Width / Height disagree with the PNG are not fatal (the dataset's README lists
four, and image and mask agree): the files are trusted and each such row is reported in
:attr:`BusBraImportReport.warnings` by file. A missing image or mask, a mask whose size
differs from its image, an empty mask or a value outside the columns' vocabularies stops
the import with an :class:`InputFileError` naming the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..atomic import atomic_directory
from ..errors import InputFileError
from ..imagefiles import ImageData, Segment, SegmentationData, read_image_2d, write_nrrd, write_segmentation
from .contract import Dataset, LesionItem, save_dataset
from .source_table import read_source_table

CSV_NAME = "bus_data.csv"
REQUIRED_COLUMNS = ("ID", "Case", "Pathology", "BIRADS", "Width", "Height", "fold")
BIRADS_VALUES = ("2", "3", "4", "5")
LESION_COLOURS = {"benign": (0.30, 0.69, 0.29), "malignant": (0.89, 0.10, 0.11)}
SOURCE_NAME = "BUS-BRA"
REFERENCE = (
    "Gomez-Flores W, Gregorio-Calas MJ, Coelho de Albuquerque Pereira W. BUS-BRA: A breast ultrasound "
    "dataset for assessing computer-aided diagnosis systems. Medical Physics 51(4):3110-3123 (2024). "
    "doi:10.1002/mp.16812"
)


@dataclass
class BusBraImportReport:
    """What the import produced."""

    out: Path
    images: int
    patients: int
    per_label: dict[str, int]
    folds: int
    warnings: list[str] = field(default_factory=list)


def mask_name(image_id: str) -> str:
    """``bus_0001-l`` -> ``mask_0001-l.png`` (the release's naming)."""
    return "mask_" + image_id.removeprefix("bus_") + ".png"


def read_table(source: Path) -> list[dict[str, str]]:
    """Rows of ``bus_data.csv`` with every required column and value checked."""
    table = source / CSV_NAME
    rows = read_source_table(table, REQUIRED_COLUMNS, f"BUS-BRA table not found (expected {CSV_NAME} in the source folder)",
                             "the table lists no images")
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        image_id = row["ID"].strip()
        if not image_id.startswith("bus_") or "/" in image_id or "\\" in image_id or ".." in image_id:
            raise InputFileError(table, f"line {line}: ID must look like bus_0001-l, got {image_id!r}")
        if image_id in seen:
            raise InputFileError(table, f"line {line}: ID {image_id} is listed twice")
        seen.add(image_id)
        if row["Pathology"] not in LESION_COLOURS:
            raise InputFileError(table, f"line {line}: Pathology must be benign or malignant, got {row['Pathology']!r}")
        if row["BIRADS"].strip() not in BIRADS_VALUES:
            raise InputFileError(table, f"line {line}: BIRADS must be one of 2, 3, 4, 5, got {row['BIRADS']!r}")
        for column in ("Case", "Width", "Height", "fold"):
            if not row[column].strip().isdigit():
                raise InputFileError(table, f"line {line}: {column} must be a whole number, got {row[column]!r}")
        if int(row["fold"]) < 1:
            raise InputFileError(table, f"line {line}: fold must be 1 or more, got {row['fold']!r}")
    return rows


def _convert_image(source: Path, staging: Path, row: dict[str, str], warnings: list[str]) -> LesionItem:
    image_id = row["ID"].strip()
    image_path = source / "Images" / f"{image_id}.png"
    mask_path = source / "Masks" / mask_name(image_id)
    for path, what in ((image_path, "image"), (mask_path, "mask")):
        if not path.is_file():
            raise InputFileError(path, f"{what} listed in {CSV_NAME} is missing")
    image = read_image_2d(image_path, colour="grey")
    mask_image = read_image_2d(mask_path, colour="grey")
    rows_px, columns_px = image.array.shape[1:]
    if mask_image.array.shape != image.array.shape:
        raise InputFileError(mask_path, f"mask is {mask_image.array.shape[1:]} pixels but its image is {(rows_px, columns_px)}")
    if (int(row["Width"]), int(row["Height"])) != (columns_px, rows_px):
        warnings.append(
            f"{image_path}: {CSV_NAME} gives {row['Width']} x {row['Height']} px, the file is {columns_px} x {rows_px} px "
            "(image and mask agree; the files are used)"
        )
    mask = mask_image.array > 0
    if not mask.any():
        raise InputFileError(mask_path, "lesion mask is empty")
    pathology = row["Pathology"]
    image = ImageData(image.array, image.geometry, image.source, {"spacing_known": "0", "modality": "us_bmode"})
    image_rel = f"images/{image_id}.nrrd"
    seg_rel = f"segmentations/{image_id}.seg.nrrd"
    write_nrrd(image, staging / image_rel)
    segment = Segment("lesion_1", mask, LESION_COLOURS[pathology], tags={"pathology": pathology, "source": SOURCE_NAME})
    write_segmentation(staging / seg_rel, SegmentationData([segment], image.geometry, image.shape_kji, seg_rel))
    patient = f"busbra-{int(row['Case']):04d}"
    return LesionItem(
        case_id=image_id,
        images={"us_bmode": image_rel},
        patient_id=patient,
        lesion_id="lesion_1",
        segmentation={"us_bmode": seg_rel},
        segment="lesion_1",
        pathology=pathology,
        birads=row["BIRADS"].strip(),
        fold=int(row["fold"]) - 1,
        dup_group=patient,
    )


def import_busbra(source: str | Path, out: str | Path, overwrite: bool = False, progress: bool = True) -> BusBraImportReport:
    """Convert the BUS-BRA folder ``source`` into a dataset folder ``out`` (written atomically).

    The official folds are kept (fold ``k`` of the table -> fold ``k - 1``); a patient whose
    images sit in different folds is refused, since the folds would then leak.
    """
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise InputFileError(source, "BUS-BRA source folder not found")
    rows = read_table(source)
    patient_fold: dict[str, str] = {}
    for row in rows:
        first = patient_fold.setdefault(row["Case"], row["fold"])
        if first != row["fold"]:
            raise InputFileError(source / CSV_NAME, f"patient {row['Case']} has images in folds {first} and {row['fold']}")
    table_sha = hashlib.sha256((source / CSV_NAME).read_bytes()).hexdigest()
    warnings: list[str] = []
    try:
        with atomic_directory(out, overwrite=overwrite) as staging:
            items = [_convert_image(source, staging, row, warnings)
                     for row in tqdm(rows, desc="Importing BUS-BRA", unit="image", disable=not progress)]
            n_folds = max(item.fold or 0 for item in items) + 1
            dataset = Dataset(
                staging,
                f"{SOURCE_NAME} ({source.resolve().name}, table {table_sha[:8]})",
                items,
                description=(
                    "BUS-BRA breast ultrasound (INCA, Rio de Janeiro; biopsy-proven; BI-RADS 2-5), B-mode, converted by "
                    "BreastUSAI. Pixel spacing unknown (1 mm placeholder). One item per image; the two views of a "
                    "patient's lesion share patient_id and dup_group. The authors' official patient folds are kept "
                    f"({n_folds} folds)."
                ),
                reference=REFERENCE,
                extra={"source": {"name": SOURCE_NAME, "table_sha256": table_sha, "images": len(rows)}},
            )
            save_dataset(dataset)
    except FileExistsError as error:
        raise InputFileError(out, str(error)) from None
    per_label: dict[str, int] = {}
    for row in rows:
        per_label[row["Pathology"]] = per_label.get(row["Pathology"], 0) + 1
    return BusBraImportReport(out, len(rows), len(patient_fold), per_label, n_folds, warnings)
