"""The optimistic split most published BUSI results use: folds drawn image by image at random.

BreastUSAI's own folds keep near-duplicate images (BUSI's ``dup_group``) in one fold and
label-conflict images out of evaluation, so no copy of a test image is ever trained on. Most
papers split BUSI's images at random instead, so near-duplicates of a test image can sit in
training. ``write_random_split`` makes a copy of an imported dataset with such folds, so the same
recipe can be scored both ways and the cost of honesty measured (``busi_segmentation.py
--split random``). Images and segmentations are hard-linked (copied across file systems); only
``dataset.json`` is new.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
from fold_files import save_json


def random_folds(cases: list[dict], n_folds: int = 5, seed: int = 0) -> dict[str, int]:
    """Fold per ``case_id`` (an image; all its lesions go together), drawn at random and dealt
    round-robin within each pathology so every fold keeps the class mix. Duplicate groups, patients
    and train-only flags are ignored on purpose: that is the split being imitated."""
    rng = np.random.default_rng(seed)
    pathology = {c["case_id"]: c.get("pathology") for c in cases}
    folds: dict[str, int] = {}
    for label in sorted({str(p) for p in pathology.values()}):
        images = sorted(case for case, p in pathology.items() if str(p) == label)
        for position, case in enumerate(rng.permutation(images)):
            folds[str(case)] = position % n_folds
    return folds


def write_random_split(dataset_dir: Path, out_dir: Path, n_folds: int = 5, seed: int = 0) -> Path:
    """``out_dir``: ``dataset_dir``'s training cases with random image-level folds (see
    ``random_folds``), no duplicate groups nor patient ids (the contract would refuse one spread
    over folds; how many were spread is kept in ``random_split``), no train-only cases,
    the test split emptied, files hard-linked; returns ``out_dir``. Made once: an existing copy
    with the same source (path and ``dataset.json`` content), folds and seed is reused, and any
    file that is no longer the source's own (a source imported anew) is linked again."""
    source_text = (dataset_dir / "dataset.json").read_bytes()
    source = json.loads(source_text)
    stamp = {"source_dataset": str(dataset_dir.resolve()), "source_sha256": hashlib.sha256(source_text).hexdigest(),
             "n_folds": n_folds, "seed": seed}
    _link_files(dataset_dir, out_dir)
    existing = out_dir / "dataset.json"
    if existing.is_file() and {k: v for k, v in json.loads(existing.read_text()).get("random_split", {}).items()
                               if k in stamp} == stamp:
        return out_dir
    folds = random_folds(source["training"], n_folds, seed)
    spread: dict[str, int] = {}
    for link, counted in (("dup_group", "duplicate_groups_split"), ("patient_id", "patients_split")):
        groups: dict[str, set[int]] = {}
        for case in source["training"]:
            if case.get(link):
                groups.setdefault(case[link], set()).add(folds[case["case_id"]])
        spread[counted] = sum(len(in_folds) > 1 for in_folds in groups.values())
    # the contract keeps a duplicate group (and a patient) in one fold, so those links go: ignoring
    # them is the point of this split
    training = [{**case, "fold": folds[case["case_id"]], "train_only": False, "dup_group": None, "patient_id": None}
                for case in source["training"]]
    save_json(existing, {**source, "name": f"{source['name']} - random image-level folds",
                         "description": f"{source.get('description', '')} Folds redrawn at random image by image "
                                        f"(near-duplicates may straddle folds), {n_folds} folds, seed {seed}.",
                         "training": training, "test": [], "random_split": {**stamp, **spread}})
    return out_dir


def _link_files(dataset_dir: Path, out_dir: Path) -> None:
    """Hard-link (or copy, across file systems) every image and segmentation of ``dataset_dir``
    into ``out_dir``, replacing atomically any target that is not the source's current file: a
    link to another inode, or a copy whose size or modification time differ."""
    for folder in ("images", "segmentations"):  # hard links: the dataset contract refuses symbolic ones
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
        for file in (dataset_dir / folder).iterdir():
            target = out_dir / folder / file.name
            if _is_current(file, target):
                continue
            # not atomic.atomic_path: it chmods its temporary file, here the source's own inode
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            try:
                try:
                    os.link(file, partial)
                except OSError:  # another file system: copy (keeps the modification time)
                    shutil.copy2(file, partial)
                os.replace(partial, target)  # a stale link or copy is swapped whole, never half-written
            finally:
                partial.unlink(missing_ok=True)


def _is_current(file: Path, target: Path) -> bool:
    """``target`` is ``file`` itself (a hard link) or a copy of it with the same size and modification time."""
    if not target.exists():
        return False
    a, b = file.stat(), target.stat()
    return os.path.samestat(a, b) or (a.st_size, a.st_mtime_ns) == (b.st_size, b.st_mtime_ns)
