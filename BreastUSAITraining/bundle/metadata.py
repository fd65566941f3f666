"""A bundle's ``configs/metadata.json``, read and checked without torch (what model lists need:
the Slicer panel shows a models folder before torch is installed)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import InputFileError

BUNDLE_FORMAT = "breastusai-bundle/1"
METADATA = "configs/metadata.json"
INFERENCE = "configs/inference.json"
WEIGHTS = "models/model.pt"


def read_metadata(root: str | Path) -> dict[str, Any]:
    """``configs/metadata.json`` of a bundle (no weights read), with basic checks."""
    root = Path(root)
    path = root / METADATA
    if not root.is_dir():
        raise InputFileError(root, "model bundle folder not found")
    if not path.is_file():
        raise InputFileError(path, "not a model bundle: configs/metadata.json is missing")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputFileError(path, f"metadata is not valid JSON ({error})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != BUNDLE_FORMAT:
        raise InputFileError(path, f"unknown bundle format {metadata.get('format') if isinstance(metadata, dict) else metadata!r}; expected {BUNDLE_FORMAT}")
    for key in ("task", "files", "weights_sha256"):
        if key not in metadata:
            raise InputFileError(path, f"metadata has no {key!r}")
    if not isinstance(metadata["files"], dict) or WEIGHTS not in metadata["files"]:
        raise InputFileError(path, f"metadata 'files' must list {WEIGHTS} with its sha256")
    for relative, digest in metadata["files"].items():
        if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
            raise InputFileError(path, f"metadata 'files': {relative!r} must map to a sha256 (64 hex digits), got {str(digest)[:40]!r}")
    if not isinstance(metadata["task"], str) or not isinstance(metadata["weights_sha256"], str):
        raise InputFileError(path, "metadata 'task' and 'weights_sha256' must be text")
    return metadata
