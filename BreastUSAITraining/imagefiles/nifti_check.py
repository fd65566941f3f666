"""NIfTI completeness check.

ITK's NIfTI reader returns an image even when the file is cut short (the missing
voxels come back as zeros), so a truncated ``.nii`` / ``.nii.gz`` would be read
silently wrong. This check compares the bytes present with what the header needs.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

from ..errors import InputFileError

_CHUNK = 1 << 20


def _vox_offset(header: bytes) -> int | None:
    """Byte offset of the voxel data from a NIfTI-1 or NIfTI-2 header (None if not NIfTI)."""
    for endian in ("<", ">"):
        if len(header) >= 112 and struct.unpack(f"{endian}i", header[:4])[0] == 348:
            offset = struct.unpack(f"{endian}f", header[108:112])[0]
            return int(offset) if math.isfinite(offset) else -1
        if len(header) >= 176 and struct.unpack(f"{endian}i", header[:4])[0] == 540:
            return int(struct.unpack(f"{endian}q", header[168:176])[0])
    return None


def check_nifti_complete(path: Path, data_bytes: int) -> None:
    """Raise InputFileError unless ``path`` holds the header and ``data_bytes`` of voxels."""
    if path.name.lower().endswith(".gz"):
        total = 0
        head = b""
        try:
            with gzip.open(path, "rb") as stream:
                while chunk := stream.read(_CHUNK):
                    if len(head) < 540:
                        head += chunk[: 540 - len(head)]
                    total += len(chunk)
        except (EOFError, OSError, zlib.error) as error:
            raise InputFileError(path, f"truncated or corrupt compressed data ({error})") from None
    else:
        with open(path, "rb") as handle:
            head = handle.read(540)
        total = path.stat().st_size
    offset = _vox_offset(head)
    if offset is None:
        raise InputFileError(path, "not a NIfTI-1 or NIfTI-2 header")
    if offset < 0:
        raise InputFileError(path, "corrupt header: the voxel data offset (vox_offset) is negative or not a number")
    if total < offset + data_bytes:
        raise InputFileError(
            path, f"truncated or corrupt pixel data: {total - offset} of {data_bytes} voxel bytes present"
        )
