"""Files sent from the browser -> files in the app's work folder, under names the server makes.

Nothing the client says is used as a path: each upload gets a fresh folder named by a random
token, each file a generated name (``upload.<ext>``, or ``0001.dcm``... for the files of a
DICOM series); only the extension of the client's name is kept, and only when it is one the
readers know. Size is checked (each file and all together) before anything is written, and a
file is written under a temporary name and renamed, so a refused or interrupted upload leaves
nothing half-written behind.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: extensions the image readers take (a DICOM file may have none)
KNOWN_EXTENSIONS = (".nii.gz", ".seg.nrrd", ".nrrd", ".nhdr", ".nii", ".mha", ".mhd", ".png", ".jpg", ".jpeg", ".dcm")


class UploadRefused(ValueError):
    """An upload that is too large, empty or of an unknown kind (the message says which)."""


@dataclass(frozen=True)
class ClientUpload:
    """One file as the browser sent it: the client's name (never used as a path) and its bytes."""

    name: str
    content: bytes

    @classmethod
    def from_client(cls, item: dict[str, Any]) -> ClientUpload:
        content = item.get("content") or b""
        if isinstance(content, list):  # a large file arrives in chunks
            content = b"".join(content)
        return cls(str(item.get("name") or "upload"), bytes(content))


def extensionOf(name: str) -> str:
    """The known extension of a client's file name ('' for none, e.g. a DICOM file 'IM0001')."""
    lower = name.lower()
    for extension in KNOWN_EXTENSIONS:
        if lower.endswith(extension):
            return extension
    if "." not in Path(lower).name:
        return ""
    raise UploadRefused(f"{name}: not an image file the app reads (NRRD, NIfTI, MetaImage, PNG, JPEG or DICOM)")


def saveUpload(files: list[ClientUpload], uploads: Path, max_bytes: int) -> Path:
    """Write one upload inside ``uploads`` and return what to load: the file, or the folder of a
    DICOM series (several files). ``UploadRefused`` (nothing written) when it is too large, empty,
    of an unknown kind, or mixes a DICOM series with other files."""
    if not files:
        raise UploadRefused("no file was sent")
    total = sum(len(item.content) for item in files)
    if total > max_bytes:
        raise UploadRefused(f"{files[0].name}: {total / 1e6:.1f} MB is more than the {max_bytes / 1e6:.0f} MB "
                            "an upload may hold (start the app with a larger --max-upload-mb)")
    empty = [item.name for item in files if not item.content]
    if empty:
        raise UploadRefused(f"{empty[0]}: the file is empty")
    extensions = [extensionOf(item.name) for item in files]
    if len(files) > 1 and any(extension not in ("", ".dcm") for extension in extensions):
        raise UploadRefused("several files are taken only as one DICOM series; send other images one at a time")
    folder = uploads / secrets.token_hex(8)
    folder.mkdir(parents=True)
    try:
        if len(files) == 1:
            target = folder / f"upload{extensions[0]}"
            _writeFile(target, files[0].content)
            return target
        for number, item in enumerate(files, start=1):
            _writeFile(folder / f"{number:04d}.dcm", item.content)
        return folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _writeFile(path: Path, content: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    os.replace(partial, path)
