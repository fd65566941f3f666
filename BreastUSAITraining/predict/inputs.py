"""What ``predict`` was given: files, folders of files, or DICOM series folders."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from ..errors import InputFileError
from ..imagefiles import SUPPORTED_SUFFIXES
from ..imagefiles.dicom import is_dicom_file


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


log = logging.getLogger(__name__)


def dicom_series_of(files: list[Path]) -> dict[str, list[Path]]:
    """SeriesInstanceUID -> its files (headers only), in file-name order."""
    from ..imagefiles.dicom import _read_header, quiet_pydicom

    series: dict[str, list[Path]] = {}
    with quiet_pydicom():
        for path in files:
            series.setdefault(str(_read_header(path).get("SeriesInstanceUID", "") or "unknown"), []).append(path)
    return series


def _split_series(folder: Path, series: dict[str, list[Path]], staging: Path) -> list[Path]:
    """A mixed DICOM folder as one folder per series under ``staging`` (links to the files, or
    copies where links are not allowed), each analysed as its own input."""
    from ..imagefiles.dicom import _read_header, quiet_pydicom

    found = []
    for number, (uid, files) in enumerate(sorted(series.items()), start=1):
        with quiet_pydicom():
            header = _read_header(files[0])
        label = str(header.get("SeriesNumber") or number)
        target = staging / f"{folder.name}_series{label}"
        while target.exists():
            target = target.with_name(target.name + "_")
        target.mkdir(parents=True)
        for path in files:
            try:
                os.symlink(path.resolve(), target / path.name)
            except OSError:
                shutil.copyfile(path, target / path.name)
        log.info("%s: series %s (%s, %d file(s)) -> input %s", folder, uid, header.get("SeriesDescription") or "no description",
                 len(files), target.name)
        found.append(target)
    return found


def expand_inputs(paths: list[str | Path], staging: Path | None = None) -> list[Path]:
    """Files as given; a folder of DICOM files is one series - or, holding several series, one input
    per series (split under ``staging``; without it such a folder is refused, naming its series);
    any other folder gives its supported image files (sorted, not recursive; .seg.nrrd files are
    masks, not images)."""
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
            series = dicom_series_of(files)
            if len(series) > 1 and staging is not None:
                found.extend(_split_series(path, series, staging))
            else:
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
