"""MetaImage (``.mha`` / ``.mhd``) headers checked before ITK reads them.

ITK's MetaIO trusts the header: a negative ``NDims`` crashes the whole process
(segmentation fault, found by the fuzzer). So the text header is parsed here first and
every field ITK uses for sizes and geometry must be well formed; otherwise the file is
refused with an :class:`InputFileError` naming the field.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import InputFileError

ELEMENT_TYPES = {"MET_CHAR", "MET_UCHAR", "MET_SHORT", "MET_USHORT", "MET_INT", "MET_UINT", "MET_LONG", "MET_ULONG",
                 "MET_LONG_LONG", "MET_ULONG_LONG", "MET_FLOAT", "MET_DOUBLE", "MET_CHAR_ARRAY", "MET_UCHAR_ARRAY",
                 "MET_SHORT_ARRAY", "MET_USHORT_ARRAY", "MET_INT_ARRAY", "MET_UINT_ARRAY", "MET_FLOAT_ARRAY",
                 "MET_DOUBLE_ARRAY"}
MAX_HEADER_BYTES = 65536


def _header_fields(path: Path) -> dict[str, str]:
    with open(path, "rb") as handle:
        head = handle.read(MAX_HEADER_BYTES)
    fields: dict[str, str] = {}
    for raw in head.split(b"\n"):
        line = raw.decode("latin-1").strip()
        if "=" not in line:
            if line:
                break  # binary data reached without ElementDataFile: ITK will refuse it
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        fields[key] = value
        if key == "ElementDataFile":
            break
    return fields


def _numbers(path: Path, key: str, text: str, count: int, positive: bool = False, integer: bool = False) -> list[float]:
    parts = text.split()
    if len(parts) != count:
        raise InputFileError(path, f"MetaImage header: {key} needs {count} values, got {text!r}")
    try:
        values = [int(p) if integer else float(p) for p in parts]
    except ValueError:
        raise InputFileError(path, f"MetaImage header: {key} must hold {'whole ' if integer else ''}numbers, got {text!r}") from None
    if not all(math.isfinite(v) for v in values) or (positive and min(values) <= 0):
        raise InputFileError(path, f"MetaImage header: {key} must hold finite{' positive' if positive else ''} numbers, got {text!r}")
    return values


def check_metaimage_header(path: Path) -> None:
    """Raise InputFileError unless the header of ``path`` is safe to give to ITK."""
    fields = _header_fields(path)
    if "NDims" not in fields or "ElementDataFile" not in fields:
        raise InputFileError(path, "not a MetaImage file: NDims or ElementDataFile missing")
    try:
        dims = int(fields["NDims"])
    except ValueError:
        raise InputFileError(path, f"MetaImage header: NDims must be a whole number, got {fields['NDims']!r}") from None
    if not 2 <= dims <= 4:
        raise InputFileError(path, f"MetaImage header: NDims {dims}; only 2D and 3D images are supported")
    if "DimSize" not in fields:
        raise InputFileError(path, "MetaImage header: DimSize missing")
    sizes = _numbers(path, "DimSize", fields["DimSize"], dims, positive=True, integer=True)
    if max(sizes) >= 2 ** 31:
        raise InputFileError(path, f"MetaImage header: DimSize {fields['DimSize']!r} is out of range")
    for key in ("ElementSpacing", "ElementSize"):
        if key in fields:
            _numbers(path, key, fields[key], dims, positive=True)
    for key in ("Offset", "Position", "Origin", "CenterOfRotation"):
        if key in fields:
            _numbers(path, key, fields[key], dims)
    for key in ("TransformMatrix", "Rotation", "Orientation"):
        if key in fields:
            _numbers(path, key, fields[key], dims * dims)
    if fields.get("ElementType", "") not in ELEMENT_TYPES:
        raise InputFileError(path, f"MetaImage header: unknown ElementType {fields.get('ElementType')!r}")
    if "ElementNumberOfChannels" in fields:
        channels = _numbers(path, "ElementNumberOfChannels", fields["ElementNumberOfChannels"], 1, positive=True, integer=True)
        if channels[0] > 4:
            raise InputFileError(path, f"MetaImage header: {int(channels[0])} channels; at most 4 are supported")
    for key in ("HeaderSize", "CompressedDataSize"):
        if key in fields:
            value = _numbers(path, key, fields[key], 1, integer=True)[0]
            if value < -1:
                raise InputFileError(path, f"MetaImage header: {key} must not be negative, got {fields[key]!r}")
