"""Headers that point at their pixel data elsewhere may only point inside their own folder.

NRRD (``data file:`` / ``datafile:``, a single name, ``LIST`` followed by names, or a printf
pattern ``name%03d.raw min max step``) and MetaImage (``ElementDataFile = name``, ``LIST`` or a
pattern) can keep the voxels in other files. A reader that follows such a header blindly reads
whatever the header names: an absolute path, ``../`` out of the folder, or a symlink that leads
elsewhere. Every reference is checked here **before** a reader opens the file: it must be a
plain relative name that resolves (symlinks followed) inside the header's folder; otherwise an
:class:`InputFileError` names the header and the reference.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import InputFileError

MAX_HEADER_BYTES = 65536
MAX_PATTERN_FILES = 100_000
_PATTERN = re.compile(r"%[-+ 0#]*\d*[dioux]")


def _text_lines(path: Path, stop_at_blank: bool) -> list[str]:
    with open(path, "rb") as handle:
        head = handle.read(MAX_HEADER_BYTES)
    if stop_at_blank:  # NRRD: the header ends at the first empty line
        head = head.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    return [raw.decode("latin-1").rstrip("\r") for raw in head.split(b"\n")]


def _inside(header: Path, reference: str) -> None:
    """``reference`` (as written in ``header``) must name a file inside the header's folder."""
    name = reference.strip()
    if not name:
        raise InputFileError(header, "detached data file reference is empty")
    if (PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() or PureWindowsPath(name).drive
            or name.startswith(("\\", "/", "~"))):
        raise InputFileError(header, f"header points at pixel data by an absolute path ({name!r}); the data must lie "
                                     "in the header's own folder")
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        raise InputFileError(header, f"header points at pixel data outside its folder ({name!r})")
    folder = header.resolve().parent
    target = (header.parent / name).resolve()
    if folder != target and folder not in target.parents:
        raise InputFileError(header, f"header's pixel data {name!r} leads outside its folder (a link to {target})")


def _pattern_names(header: Path, fields: list[str]) -> list[str]:
    """``name%03d.raw min max step [subdim]`` -> every file name it stands for."""
    try:
        pattern, low, high, step = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    except (IndexError, ValueError):
        raise InputFileError(header, f"detached data pattern {' '.join(fields)!r} must be 'name%d min max step'") from None
    if step == 0 or (high - low) / step < 0 or abs((high - low) // step) + 1 > MAX_PATTERN_FILES:
        raise InputFileError(header, f"detached data pattern {' '.join(fields)!r} has an impossible range")
    try:
        return [pattern % index for index in range(low, high + (1 if step > 0 else -1), step)]
    except (TypeError, ValueError):
        raise InputFileError(header, f"detached data pattern {pattern!r} is not a valid file pattern") from None


def _check_references(header: Path, value: str, following: list[str]) -> None:
    fields = value.split()
    if not fields:
        raise InputFileError(header, "detached data file reference is empty")
    if fields[0].upper() == "LIST":
        names = [line.strip() for line in following if line.strip()]
        if not names:
            raise InputFileError(header, "detached data LIST names no file")
    elif _PATTERN.search(fields[0]) and len(fields) >= 4:
        names = _pattern_names(header, fields)
    else:
        names = [value.strip()]
    for name in names:
        _inside(header, name)


def check_nrrd_data_files(path: str | Path) -> None:
    """Refuse an NRRD header whose ``data file`` leaves its folder (attached data: nothing to check)."""
    path = Path(path)
    lines = _text_lines(path, stop_at_blank=True)
    for number, line in enumerate(lines):
        match = re.match(r"\s*data ?file\s*:\s*(.*)$", line, re.I)
        if match:
            _check_references(path, match.group(1), lines[number + 1:])
            return


def check_metaimage_data_file(path: str | Path) -> None:
    """Refuse a MetaImage header whose ``ElementDataFile`` leaves its folder (``LOCAL``: data follows)."""
    path = Path(path)
    lines = _text_lines(path, stop_at_blank=False)
    for number, line in enumerate(lines):
        key, _, value = line.partition("=")
        if key.strip() == "ElementDataFile":
            if value.strip().upper() != "LOCAL":
                _check_references(path, value, lines[number + 1:])
            return
