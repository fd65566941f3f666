"""What a reader study is scored against: each lesion's pathology (from the reads file or a
dataset) and, optionally, the AI model's probability for it (an ``evaluate`` predictions.csv)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..errors import InputFileError
from .reads import Read

Lesion = tuple[str, str]  # (case_id, lesion_id); lesion_id "" when the case has one lesion


def _dataset_pathologies(data_dir: str | Path) -> dict[Lesion, str | None]:
    from ..dataset import load_dataset
    from ..dataset.loader import lesion_dicts

    dataset = load_dataset(data_dir)
    found: dict[Lesion, str | None] = {}
    per_case: dict[str, list[Lesion]] = {}
    for split in ("training", "test"):
        for item in lesion_dicts(dataset, split, labelled_only=False):
            lesion = (item["case_id"], item["lesion_id"] or "")
            found[lesion] = item["pathology"] if item["pathology"] in ("benign", "malignant") else None
            per_case.setdefault(item["case_id"], []).append(lesion)
    for case_id, lesions in per_case.items():  # a case with one lesion may be read without its lesion id
        if len(lesions) == 1:
            found.setdefault((case_id, ""), found[lesions[0]])
    return found


def lesion_labels(reads: list[Read], reads_path: str | Path, data_dir: str | Path | None = None) -> dict[Lesion, int]:
    """1 malignant / 0 benign for every lesion read. The reads' ``pathology`` column and the
    dataset (when given) must agree; a lesion with neither is an error naming its line."""
    known = _dataset_pathologies(data_dir) if data_dir is not None else None
    labels: dict[Lesion, int] = {}
    source_line: dict[Lesion, int] = {}
    for read in reads:
        name = "/".join(filter(None, read.lesion))
        from_dataset = None
        if known is not None:
            if read.lesion not in known:
                raise InputFileError(reads_path, f"line {read.line}: lesion {name} is not in the dataset {data_dir}")
            from_dataset = known[read.lesion]
        pathology = read.pathology or from_dataset
        if pathology is None:
            where = f"its pathology is unknown in {data_dir}" if known is not None else "no pathology column and no --data"
            raise InputFileError(reads_path, f"line {read.line}: lesion {name} has no benign / malignant truth ({where})")
        if read.pathology and from_dataset and read.pathology != from_dataset:
            raise InputFileError(reads_path, f"line {read.line}: lesion {name} is {read.pathology} here but "
                                             f"{from_dataset} in {data_dir}")
        label = int(pathology == "malignant")
        if labels.setdefault(read.lesion, label) != label:
            raise InputFileError(reads_path, f"line {read.line}: lesion {name} is {pathology} here but not on line "
                                             f"{source_line[read.lesion]}")
        source_line.setdefault(read.lesion, read.line)
    return labels


def ai_probabilities(path: str | Path, lesions: list[Lesion]) -> dict[Lesion, float]:
    """The malignant probability of every study lesion from an ``evaluate`` predictions.csv
    (columns case_id, lesion_id, probability)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such predictions file (give the predictions.csv that evaluate wrote)")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as error:
        raise InputFileError(path, f"not a readable CSV file ({error})") from None
    missing = {"case_id", "probability"} - set(rows[0] if rows else ())
    if missing:
        raise InputFileError(path, f"missing column(s) {', '.join(sorted(missing))} (or no rows)")
    probabilities: dict[Lesion, float] = {}
    for line, row in enumerate(rows, start=2):
        try:
            value = float(row["probability"])
        except (TypeError, ValueError):
            value = float("nan")
        if not math.isfinite(value) or not 0 <= value <= 1:
            raise InputFileError(path, f"line {line}: probability must be within [0, 1], got {row['probability']!r}")
        probabilities[(row["case_id"], row.get("lesion_id") or "")] = value
    per_case: dict[str, list[Lesion]] = {}
    for lesion in probabilities:
        per_case.setdefault(lesion[0], []).append(lesion)
    out = {}
    for lesion in lesions:
        candidates = per_case.get(lesion[0], [])
        if lesion in probabilities:
            out[lesion] = probabilities[lesion]
        elif not lesion[1] and len(candidates) == 1:
            out[lesion] = probabilities[candidates[0]]
        else:
            raise InputFileError(path, f"no AI probability for lesion {'/'.join(filter(None, lesion))} of the reader study")
    return out
