"""Every rule of the dataset contract, checked on the raw JSON.

Rules are checked one by one and every violation is collected (never the first only),
each naming the item and the field. Raw JSON is checked before it is parsed, so a
wrong type gives a violation, not a crash.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from ..errors import InputFileError, Violation
from .schema import (
    BIRADS_CATEGORIES,
    ID_PATTERN,
    MODALITIES,
    PATHOLOGIES,
    PATHOLOGY_LABELS,
    SCHEMA_VERSION,
    SPLITS,
    clinical_problem,
)

_ID = re.compile(ID_PATTERN)
_ITEM_FIELDS = {
    "case_id", "patient_id", "lesion_id", "images", "segmentation", "segment", "pathology",
    "birads", "clinical", "fold", "dup_group", "train_only",
}


def _where(split: str, index: int, raw: Any) -> str:
    if isinstance(raw, dict):
        case, lesion = raw.get("case_id"), raw.get("lesion_id")
        label = f"case {case}" + (f", lesion {lesion}" if lesion else "")
        return f"{split}[{index}] ({label})"
    return f"{split}[{index}]"


class _PathChecker:
    """Checks relative paths stay inside the dataset folder (symlinks resolved) and exist."""

    def __init__(self, root: Path, check_files: bool) -> None:
        self.root = root
        self.real_root = Path(os.path.realpath(root))
        self.check_files = check_files
        self._segment_names: dict[Path, set[str] | str] = {}

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, str) or not value:
            return f"must be a relative path (text), got {value!r}"
        if "\\" in value:
            return f"use '/' as the path separator, got {value!r}"
        if any(ord(c) < 32 for c in value):
            return f"may not hold control characters, got {value!r}"
        posix = PurePosixPath(value)
        if posix.is_absolute() or re.match(r"^[A-Za-z]:", value):
            return f"must be relative to the dataset folder, got absolute path {value!r}"
        if ".." in posix.parts:
            return f"may not leave the dataset folder ('..' in {value!r})"
        full = self.root / value
        real = Path(os.path.realpath(full))
        if self.real_root != real and self.real_root not in real.parents:
            return f"resolves outside the dataset folder (symbolic link?): {value!r}"
        if self.check_files and not full.is_file():
            return f"file not found: {value!r}" if not full.is_dir() else None
        return None

    def segment_names(self, value: str) -> set[str] | str:
        """Segment names and ids in a .seg.nrrd header, or the reason it cannot be read."""
        full = self.root / value
        if full not in self._segment_names:
            try:
                import nrrd  # pynrrd: imported where needed (a stock 3D Slicer lacks it)

                header = nrrd.read_header(str(full))
                names = {str(v) for k, v in header.items() if re.match(r"^Segment\d+_(Name|ID)$", k)}
                self._segment_names[full] = names
            except Exception as error:  # corrupt header
                self._segment_names[full] = f"unreadable segmentation header ({type(error).__name__}: {error})"
        return self._segment_names[full]


def _check_item(raw: Any, where: str, paths: _PathChecker, split: str) -> list[Violation]:
    out: list[Violation] = []

    def bad(field: str, problem: str) -> None:
        out.append(Violation(where, field, problem))

    if not isinstance(raw, dict):
        bad("(item)", f"must be a JSON object, got {type(raw).__name__}")
        return out
    for unknown in sorted(set(raw) - _ITEM_FIELDS):
        bad(unknown, "unknown field")
    case_id = raw.get("case_id")
    if not isinstance(case_id, str) or not _ID.match(case_id):
        bad("case_id", f"required; letters, digits, '.', '_' or '-' (max 128), got {case_id!r}")
    for id_field in ("patient_id", "lesion_id", "dup_group"):
        value = raw.get(id_field)
        if value is not None and (not isinstance(value, str) or not _ID.match(value)):
            bad(id_field, f"must be null or an id of letters, digits, '.', '_' or '-', got {value!r}")

    images = raw.get("images")
    if not isinstance(images, dict) or not images:
        bad("images", "required: a non-empty mapping of modality -> relative path")
        images = {}
    for modality, rel in images.items():
        if modality not in MODALITIES:
            bad(f"images.{modality}", f"unknown modality (known: {', '.join(MODALITIES)})")
        problem = paths.problem(rel)
        if problem:
            bad(f"images.{modality}", problem)

    pathology = raw.get("pathology")
    if pathology is not None and pathology not in PATHOLOGIES:
        bad("pathology", f"must be one of {', '.join(PATHOLOGIES)} or null (unknown), got {pathology!r}")

    segmentation = raw.get("segmentation")
    seg_files: dict[str, str] = {}
    if isinstance(segmentation, str):
        known = [m for m in MODALITIES if m in images]
        if known:
            seg_files = {known[0]: segmentation}
    elif isinstance(segmentation, dict):
        for modality, rel in segmentation.items():
            if modality not in images:
                bad(f"segmentation.{modality}", "names a modality the item has no image for")
            seg_files[modality] = rel
    elif segmentation is not None:
        bad("segmentation", f"must be a relative path, a modality -> path mapping, or null; got {segmentation!r}")
    for modality, rel in seg_files.items():
        problem = paths.problem(rel)
        if problem:
            bad(f"segmentation.{modality}" if isinstance(segmentation, dict) else "segmentation", problem)
        elif isinstance(rel, str) and not rel.endswith(".seg.nrrd"):
            bad("segmentation", f"must be a .seg.nrrd file, got {rel!r}")

    segment = raw.get("segment")
    if segment is not None and (not isinstance(segment, str) or not segment):
        bad("segment", f"must be a segment name or null, got {segment!r}")
    elif segment is not None and not seg_files:
        bad("segment", "names a segment but the item has no segmentation file")
    elif segment is not None and paths.check_files:
        for rel in dict.fromkeys(seg_files.values()):  # one file shared by several images is checked once
            if paths.problem(rel) is None and (paths.root / rel).is_file():
                names = paths.segment_names(rel)
                if isinstance(names, str):
                    bad("segmentation", names)
                elif segment not in names:
                    bad("segment", f"segment {segment!r} not found in {rel} (segments: {', '.join(sorted(names)) or 'none'})")

    if pathology == "normal":
        if segment is not None:
            bad("segment", "a normal (lesion-free) image has no lesion segment")
        if raw.get("lesion_id") is not None:
            bad("lesion_id", "a normal (lesion-free) image has no lesion id")
    elif raw.get("lesion_id") is None:
        bad("lesion_id", "required for a lesion (null only when pathology is 'normal')")

    birads = raw.get("birads")
    if birads is not None and birads not in BIRADS_CATEGORIES:
        bad("birads", f"must be one of {', '.join(BIRADS_CATEGORIES)} (as text) or null, got {birads!r}")

    clinical = raw.get("clinical", {})
    if clinical is None:
        clinical = {}
    if not isinstance(clinical, dict):
        bad("clinical", f"must be a mapping of variable -> value, got {type(clinical).__name__}")
    else:
        for name, value in clinical.items():
            problem = clinical_problem(name, value)
            if problem:
                bad(f"clinical.{name}", problem)

    fold = raw.get("fold")
    if fold is not None and (isinstance(fold, bool) or not isinstance(fold, int) or fold < 0):
        bad("fold", f"must be a non-negative whole number or null, got {fold!r}")
    if split == "test" and fold is not None:
        bad("fold", "test items belong to no cross-validation fold (must be null)")
    train_only = raw.get("train_only", False)
    if not isinstance(train_only, bool):
        bad("train_only", f"must be true or false, got {train_only!r}")
    elif train_only and split == "test":
        bad("train_only", "a train-only item (e.g. a label conflict) may not sit in the test split")
    elif train_only and fold is not None:
        bad("fold", "a train-only item is in every training set and belongs to no fold (must be null)")
    return out


def _hashable(value: Any) -> Any:
    """``value`` as a dictionary key: wrong-typed values (already reported per item) by their text."""
    return value if isinstance(value, (str, int, float, type(None))) else repr(value)


def _check_across_items(entries: list[tuple[str, str, dict]]) -> list[Violation]:
    """Rules that involve several items: unique keys, one patient per split, grouped folds."""
    out: list[Violation] = []
    seen: dict[tuple, str] = {}
    case_first: dict[str, tuple[str, dict]] = {}
    for split, where, raw in entries:
        key = (_hashable(raw.get("case_id")), _hashable(raw.get("lesion_id")))
        if key in seen:
            out.append(Violation(where, "lesion_id", f"duplicate case/lesion pair, first at {seen[key]}"))
        else:
            seen[key] = where
        case = _hashable(raw.get("case_id"))
        if case in case_first:
            first_where, first = case_first[case]
            for field in ("images", "patient_id"):
                if raw.get(field) != first.get(field):
                    out.append(Violation(where, field, f"differs from another lesion of the same case ({first_where})"))
            if raw.get("_split") != first.get("_split"):
                out.append(Violation(where, "case_id", f"lesions of one case sit in different splits ({first_where})"))
        else:
            case_first[case] = (where, raw)

    # one patient never straddles training and test; a patient / duplicate group sits in one fold
    for key_field, what in (("patient_id", "patient"), ("dup_group", "duplicate group")):
        splits: dict[str, set[str]] = defaultdict(set)
        folds: dict[str, set] = defaultdict(set)
        first_where: dict[str, str] = {}
        for split, where, raw in entries:
            value = raw.get(key_field)
            if not isinstance(value, str):
                continue
            splits[value].add(split)
            if split == "training" and not raw.get("train_only"):
                folds[value].add(_hashable(raw.get("fold")))
            first_where.setdefault(value, where)
        for value, found in splits.items():
            if len(found) > 1:
                out.append(Violation(first_where[value], key_field, f"{what} {value} has items in both training and test"))
        for value, found in folds.items():
            if len(found) > 1:
                shown = ", ".join("null" if f is None else str(f) for f in sorted(found, key=lambda f: (-1, 0) if f is None else (0, f) if isinstance(f, (int, float)) else (1, str(f))))
                out.append(Violation(first_where[value], "fold", f"{what} {value} is spread over folds {shown}"))
    return out


def validate_document(document: Any, root: str | Path, check_files: bool = True) -> list[Violation]:
    """All violations of the contract in a parsed ``dataset.json`` (empty list: valid).

    Args:
        document: the parsed JSON.
        root: the dataset folder (paths are relative to it).
        check_files: also check that referenced files exist and named segments are in
            their ``.seg.nrrd`` headers.
    """
    root = Path(root)
    out: list[Violation] = []
    if not isinstance(document, dict):
        return [Violation("dataset.json", "(top level)", "must be a JSON object")]
    if not isinstance(document.get("name"), str) or not document.get("name"):
        out.append(Violation("dataset.json", "name", "required: the dataset's name"))
    if document.get("schema_version") != SCHEMA_VERSION:
        out.append(Violation("dataset.json", "schema_version", f"must be {SCHEMA_VERSION!r}, got {document.get('schema_version')!r}"))
    labels = document.get("labels")
    if labels != PATHOLOGY_LABELS:
        out.append(Violation("dataset.json", "labels", f"must be {PATHOLOGY_LABELS}, got {labels!r}"))
    paths = _PathChecker(root, check_files)
    entries: list[tuple[str, str, dict]] = []
    for split in SPLITS:
        items = document.get(split, [])
        if not isinstance(items, list):
            out.append(Violation("dataset.json", split, f"must be a list of items, got {type(items).__name__}"))
            continue
        for index, raw in enumerate(items):
            where = _where(split, index, raw)
            found = _check_item(raw, where, paths, split)
            out.extend(found)
            if isinstance(raw, dict):
                entries.append((split, where, {**raw, "_split": split}))
    if not entries and not out:
        out.append(Violation("dataset.json", "training", "the dataset holds no items"))
    out.extend(_check_across_items(entries))
    return out


def _image_grid(path: Path) -> tuple[np.ndarray, tuple[int, ...]]:
    """ijk->LPS matrix and (I, J, K) size of an image file, from its header only."""
    import SimpleITK as sitk

    from ..imagefiles import read_image
    from ..imagefiles.readers import VOLUME_SUFFIXES

    name = path.name.lower()
    if name.endswith(VOLUME_SUFFIXES) and not name.endswith(".seg.nrrd"):
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        try:
            reader.ReadImageInformation()
        except RuntimeError as error:
            raise InputFileError(path, f"unreadable image header ({str(error).strip().splitlines()[-1][:200]})") from None
        from ..geometry import Geometry

        size = tuple(reader.GetSize()) + (1,) * (3 - reader.GetDimension())
        spacing = tuple(reader.GetSpacing()) + (1.0,) * (3 - reader.GetDimension())
        origin = tuple(reader.GetOrigin()) + (0.0,) * (3 - reader.GetDimension())
        direction = np.eye(3)
        d = np.asarray(reader.GetDirection()).reshape(reader.GetDimension(), reader.GetDimension())
        direction[: d.shape[0], : d.shape[1]] = d
        return Geometry(spacing, origin, direction.ravel()).ijk_to_lps(), size[:3]
    image = read_image(path, colour="keep")
    return image.geometry.ijk_to_lps(), tuple(reversed(image.shape_kji))


def validate_dataset_folder(root: str | Path, deep: bool = False) -> list[Violation]:
    """Validate a dataset folder. ``deep`` also reads every image and segmentation **whole**,
    through the same readers and limits as training (truncated or corrupt pixel data, NaN or
    infinite voxels, an implausible size, a detached data file outside the folder: each a
    violation naming the file), and checks each segmentation lies on its image's voxel grid
    (same spacing and direction, integer offset, inside the image) - the "wrong geometry" check."""
    from .contract import LesionItem, read_document

    folder, document = read_document(root)
    violations = validate_document(document, folder, check_files=True)
    if violations or not deep:
        return violations
    grids: dict[str, tuple | str] = {}

    def grid(rel: str) -> tuple | str:
        if rel not in grids:
            try:
                grids[rel] = _image_grid(folder / rel)
                problem = _whole_image_problem(folder / rel)
                if problem:
                    grids[rel] = f"{rel}: {problem}"
            except InputFileError as error:
                grids[rel] = f"{rel}: {error.problem}"
        return grids[rel]

    seg_grids: dict[str, tuple | str] = {}
    for split in SPLITS:
        for index, raw in enumerate(document.get(split, [])):
            item = LesionItem.from_json(raw, split)
            where = _where(split, index, raw)
            for modality, rel in item.images.items():
                found = grid(rel)
                if isinstance(found, str):
                    violations.append(Violation(where, f"images.{modality}", found))
            for modality, rel in item.segmentation.items():
                if rel not in seg_grids:
                    try:
                        import nrrd

                        header = nrrd.read_header(str(folder / rel))
                        directions = np.asarray(header["space directions"], dtype=float)[-3:]
                        matrix = np.eye(4)
                        matrix[:3, :3] = directions.T
                        matrix[:3, 3] = np.asarray(header["space origin"], dtype=float)
                        if str(header.get("space", "")).lower().startswith(("right-anterior", "ras")):
                            matrix = np.diag([-1.0, -1.0, 1.0, 1.0]) @ matrix
                        seg_grids[rel] = (matrix, tuple(int(v) for v in header["sizes"][-3:]))
                        from ..imagefiles import read_segmentation

                        read_segmentation(folder / rel)  # every segment's voxels, as training reads them
                    except InputFileError as error:
                        seg_grids[rel] = f"{rel}: {error.problem}"
                    except Exception as error:
                        seg_grids[rel] = f"unreadable segmentation header ({type(error).__name__}: {error})"
                seg = seg_grids[rel]
                image = grid(item.images[modality]) if modality in item.images else "no image"
                if isinstance(seg, str):
                    violations.append(Violation(where, "segmentation", seg))
                    continue
                if isinstance(image, str):
                    continue
                problem = _grid_mismatch(image, seg)
                if problem:
                    violations.append(Violation(where, f"segmentation.{modality}", f"{rel} does not lie on the image grid of {item.images[modality]}: {problem}"))
    # one report per file is enough
    unique: dict[str, Violation] = {}
    for v in violations:
        unique.setdefault(str(v), v)
    return list(unique.values())


def _whole_image_problem(path: Path) -> str | None:
    """Read the image whole with the training readers; the problem, or None when it reads clean."""
    from ..imagefiles import read_image

    try:
        image = read_image(path)
    except InputFileError as error:
        return error.problem
    if np.issubdtype(image.array.dtype, np.floating) and not np.all(np.isfinite(image.array)):
        return "image holds NaN or infinite voxels"
    return None


def _grid_mismatch(image: tuple, seg: tuple) -> str | None:
    image_matrix, image_size = image
    seg_matrix, seg_size = seg
    if not np.allclose(image_matrix[:3, :3], seg_matrix[:3, :3], atol=1e-4):
        return "different spacing or direction"
    offset = np.linalg.solve(image_matrix[:3, :3], seg_matrix[:3, 3] - image_matrix[:3, 3])
    if not np.allclose(offset, np.round(offset), atol=1e-3):
        return f"origin is off the voxel grid by {np.round(offset - np.round(offset), 3).tolist()} voxels"
    start = np.round(offset).astype(int)
    end = start + np.asarray(seg_size)
    if np.any(start < 0) or np.any(end > np.asarray(image_size)):
        return f"covers voxels {start.tolist()}..{(end - 1).tolist()} outside the image of size {list(image_size)}"
    return None
