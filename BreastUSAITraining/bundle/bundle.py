"""Write and read model bundles (see the package docstring)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..atomic import atomic_directory, write_bytes_atomic, write_json_atomic
from ..errors import InputFileError
from .metadata import BUNDLE_FORMAT, INFERENCE, METADATA, WEIGHTS, read_metadata  # noqa: F401 (re-exported)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Bundle:
    """A loaded bundle: its folder, metadata, inference config and verified state_dict."""

    root: Path
    metadata: dict[str, Any]
    inference: dict[str, Any]
    state_dict: dict[str, torch.Tensor]

    @property
    def task(self) -> str:
        return str(self.metadata["task"])

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", self.root.name))

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "?"))

    def file(self, relative: str) -> Path:
        """A file listed in the bundle, checked to stay inside the folder."""
        return _inside(self.root, relative)


def _inside(root: Path, relative: str) -> Path:
    if not isinstance(relative, str) or not relative or Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise InputFileError(root / METADATA, f"file path {relative!r} is not a relative path inside the bundle")
    path = (root / relative)
    resolved = path.resolve()
    if root.resolve() not in resolved.parents:
        raise InputFileError(root / METADATA, f"file path {relative!r} points outside the bundle folder")
    return path


def save_bundle(
    out: str | Path,
    state_dict: dict[str, torch.Tensor],
    metadata: dict[str, Any],
    inference: dict[str, Any],
    extra_files: dict[str, Path | bytes] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write a bundle folder atomically (the old bundle stays whole until the new one is).

    Args:
        out: bundle folder.
        state_dict: the weights (tensors only).
        metadata: task, network, classes, metrics ... (``files``, ``format``, ``created``,
            ``engine_version`` are filled here).
        inference: everything needed to rebuild and run the network.
        extra_files: bundle-relative path -> source file or bytes (logs, prototype images).
    """
    out = Path(out)
    with atomic_directory(out, overwrite=overwrite) as staging:
        buffer = io.BytesIO()
        torch.save({k: v.detach().cpu().contiguous() for k, v in state_dict.items()}, buffer)
        write_bytes_atomic(staging / WEIGHTS, buffer.getvalue())
        files = [WEIGHTS]
        for relative, source in (extra_files or {}).items():
            target = _inside(staging, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, bytes):
                target.write_bytes(source)
            else:
                shutil.copyfile(source, target)
            files.append(relative)
        write_json_atomic(staging / INFERENCE, inference)
        files.append(INFERENCE)
        document = dict(metadata)
        document.update(
            format=BUNDLE_FORMAT,
            engine_version=__version__,
            created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            files={relative: sha256_of(staging / relative) for relative in files},
        )
        document["weights_sha256"] = document["files"][WEIGHTS]
        write_json_atomic(staging / METADATA, document)
    return out


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state_dict from a local file - ``.safetensors``, or torch's format read with
    ``weights_only=True`` (pickled code is refused, never run). InputFileError names the file."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "weights file not found")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # corrupt or truncated file, or a pickle carrying code
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        raise InputFileError(path, f"weights refused: not a plain tensor file ({first})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputFileError(path, "weights must be a state_dict of tensors")
    return state


def load_bundle(root: str | Path, task: str | None = None) -> Bundle:
    """Load and verify a bundle; every problem raises InputFileError naming the file.

    Checks: the format, every listed file inside the folder with the recorded sha256,
    the weights' sha256 equal to ``weights_sha256``, the weights readable with
    ``weights_only=True`` (no code), and ``task`` when given.
    """
    root = Path(root)
    metadata = read_metadata(root)
    if task is not None and metadata["task"] != task:
        raise InputFileError(root / METADATA, f"bundle is a {metadata['task']!r} model, a {task!r} model is needed here")
    if metadata["files"][WEIGHTS] != metadata["weights_sha256"]:
        raise InputFileError(root / METADATA, "weights_sha256 disagrees with the files list")
    for relative, expected in metadata["files"].items():
        path = _inside(root, relative)
        if not path.is_file():
            raise InputFileError(path, "file listed in the bundle metadata is missing")
        actual = sha256_of(path)
        if actual != expected:
            raise InputFileError(path, f"sha256 mismatch: the file was changed or damaged (expected {expected[:12]}..., found {actual[:12]}...)")
    state = read_state_dict(root / WEIGHTS)
    inference_path = root / INFERENCE
    try:
        inference = json.loads(inference_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputFileError(inference_path, f"inference config unreadable ({error})") from None
    return Bundle(root, metadata, inference, state)
