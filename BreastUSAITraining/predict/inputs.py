"""What ``predict`` was given: files, folders of files, or DICOM series folders."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputFileError
from ..imagefiles import SUPPORTED_SUFFIXES
from ..imagefiles.dicom import is_dicom_file


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def expand_inputs(paths: list[str | Path]) -> list[Path]:
    """Files as given; a folder of DICOM files is one series; any other folder gives its
    supported image files (sorted, not recursive; .seg.nrrd files are masks, not images)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputFileError(path, "input not found")
        if path.is_file():
            found.append(path)
            continue
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if files and all(is_dicom_file(p) for p in files):
            found.append(path)
            continue
        images = [p for p in files if _suffix(p) in SUPPORTED_SUFFIXES and not p.name.endswith(".seg.nrrd")]
        if not images:
            raise InputFileError(path, f"folder holds no image file ({', '.join(SUPPORTED_SUFFIXES)})")
        found.extend(images)
    return found


def output_name(path: Path, taken: set[str]) -> str:
    """A folder name for ``path``'s results, unique among ``taken``."""
    name = path.name
    for suffix in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "input"
    unique, n = name, 2
    while unique in taken:
        unique, n = f"{name}_{n}", n + 1
    taken.add(unique)
    return unique
