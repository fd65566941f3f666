"""The dataset model: one :class:`LesionItem` per lesion (or per lesion-free image).

JSON layout (``dataset.json``, MONAI datalist style)::

    {"name": "...", "schema_version": "1.0", "labels": {"benign": 0, "malignant": 1},
     "description": "...", "reference": "...",
     "training": [item, ...], "test": [item, ...]}

    item = {"case_id": "PH-0001-L", "patient_id": "PH-0001" | null, "lesion_id": "lesion_1" | null,
            "images": {"us_bmode": "images/PH-0001-L_us_bmode.nrrd", ...},
            "segmentation": "segmentations/x.seg.nrrd"  |  {"us_bmode": "...", "mg_cc": "..."} | null,
            "segment": "lesion_1" | null,
            "pathology": "benign" | "malignant" | "normal" | null,
            "birads": "4A" | null, "clinical": {"age": 52, ...},
            "fold": 0..n-1 | null, "dup_group": "busi-0320" | null, "train_only": false}

A string ``segmentation`` belongs to the primary image (the first of
:data:`~.schema.MODALITIES` the item has); a mapping gives one file per modality.
Paths are relative to the dataset folder and may not leave it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import write_json_atomic
from ..errors import DatasetError, InputFileError
from .schema import DATASET_FILE, MODALITIES, PATHOLOGY_LABELS, SCHEMA_VERSION, SPLITS


@dataclass
class LesionItem:
    """One lesion of one case (or one lesion-free image when pathology is ``normal``)."""

    case_id: str
    images: dict[str, str]
    patient_id: str | None = None
    lesion_id: str | None = None
    segmentation: dict[str, str] = field(default_factory=dict)
    segment: str | None = None
    pathology: str | None = None
    birads: str | None = None
    clinical: dict[str, Any] = field(default_factory=dict)
    fold: int | None = None
    dup_group: str | None = None
    train_only: bool = False
    split: str = "training"

    @property
    def label(self) -> int | None:
        """1 malignant, 0 benign, None for normal or unknown."""
        return PATHOLOGY_LABELS.get(self.pathology or "")

    @property
    def primary_modality(self) -> str:
        return primary_modality(self.images)

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.case_id, self.lesion_id)

    def describe(self) -> str:
        lesion = f", lesion {self.lesion_id}" if self.lesion_id else ""
        return f"case {self.case_id}{lesion}"

    def to_json(self) -> dict[str, Any]:
        primary = self.primary_modality
        if not self.segmentation:
            segmentation: Any = None
        elif list(self.segmentation) == [primary]:
            segmentation = self.segmentation[primary]
        else:
            segmentation = dict(self.segmentation)
        return {
            "case_id": self.case_id,
            "patient_id": self.patient_id,
            "lesion_id": self.lesion_id,
            "images": dict(self.images),
            "segmentation": segmentation,
            "segment": self.segment,
            "pathology": self.pathology,
            "birads": self.birads,
            "clinical": dict(self.clinical),
            "fold": self.fold,
            "dup_group": self.dup_group,
            "train_only": self.train_only,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], split: str) -> "LesionItem":
        images = dict(data["images"])
        raw_seg = data.get("segmentation")
        if raw_seg is None:
            segmentation = {}
        elif isinstance(raw_seg, str):
            segmentation = {primary_modality(images): raw_seg}
        else:
            segmentation = dict(raw_seg)
        return cls(
            case_id=data["case_id"],
            images=images,
            patient_id=data.get("patient_id"),
            lesion_id=data.get("lesion_id"),
            segmentation=segmentation,
            segment=data.get("segment"),
            pathology=data.get("pathology"),
            birads=data.get("birads"),
            clinical=dict(data.get("clinical") or {}),
            fold=data.get("fold"),
            dup_group=data.get("dup_group"),
            train_only=bool(data.get("train_only", False)),
            split=split,
        )


def primary_modality(images: dict[str, str]) -> str:
    """The first modality of :data:`MODALITIES` present in ``images``."""
    for modality in MODALITIES:
        if modality in images:
            return modality
    raise ValueError(f"no known modality among {list(images)}")


@dataclass
class Dataset:
    """A dataset folder: its items and descriptive fields."""

    root: Path
    name: str
    items: list[LesionItem]
    description: str = ""
    reference: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def path(self, relative: str) -> Path:
        """Absolute path of a file named in ``dataset.json``."""
        return self.root / relative

    def split(self, name: str) -> list[LesionItem]:
        return [item for item in self.items if item.split == name]

    @property
    def n_folds(self) -> int:
        folds = [item.fold for item in self.items if item.fold is not None]
        return max(folds) + 1 if folds else 0

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "schema_version": SCHEMA_VERSION,
            "description": self.description,
            "reference": self.reference,
            "labels": dict(PATHOLOGY_LABELS),
        }
        document.update(self.extra)
        for split in SPLITS:
            document[split] = [item.to_json() for item in self.split(split)]
        return document


def read_document(root: str | Path) -> tuple[Path, dict[str, Any]]:
    """Parse ``root/dataset.json`` (or a path to the JSON file itself)."""
    root = Path(root)
    json_path = root if root.is_file() else root / DATASET_FILE
    if not json_path.is_file():
        raise InputFileError(json_path, "dataset.json not found (is this a dataset folder?)")
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise InputFileError(json_path, f"not UTF-8 text ({error})") from None
    except json.JSONDecodeError as error:
        raise InputFileError(json_path, f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    if not isinstance(document, dict):
        raise InputFileError(json_path, "the top level must be a JSON object")
    return json_path.parent, document


def load_dataset(root: str | Path, check_files: bool = True) -> Dataset:
    """Read and validate a dataset folder; raise DatasetError listing every violation."""
    from .validate import validate_document

    folder, document = read_document(root)
    violations = validate_document(document, folder, check_files=check_files)
    if violations:
        raise DatasetError(folder / DATASET_FILE, violations)
    items = [LesionItem.from_json(raw, split) for split in SPLITS for raw in document.get(split, [])]
    known = {"name", "schema_version", "description", "reference", "labels", *SPLITS}
    extra = {k: v for k, v in document.items() if k not in known}
    return Dataset(folder, document["name"], items, document.get("description", ""), document.get("reference", ""), extra)


def save_dataset(dataset: Dataset, check_files: bool = True) -> Path:
    """Validate and write ``dataset.json`` atomically into ``dataset.root``."""
    from .validate import validate_document

    document = dataset.to_json()
    violations = validate_document(document, dataset.root, check_files=check_files)
    if violations:
        raise DatasetError(dataset.root / DATASET_FILE, violations)
    target = dataset.root / DATASET_FILE
    write_json_atomic(target, document)
    return target
