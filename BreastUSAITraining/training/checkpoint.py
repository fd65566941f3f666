"""Resumable checkpoints, written atomically and read without unpickling code.

``last.pt`` holds everything needed to continue after the epoch it names: model,
optimiser, scheduler and AMP-scaler states, the best metric so far, the history and
a fingerprint of the run's configuration. ``best_model.pt`` holds the weights of
the best validation epoch. Both are written to a temporary file and renamed, so a
run killed at any moment leaves the previous complete checkpoint; both are read
with ``torch.load(weights_only=True)``, which refuses pickled code.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from ..atomic import write_bytes_atomic
from ..errors import InputFileError

LAST = "last.pt"
BEST = "best_model.pt"


def save_checkpoint(path: str | Path, content: dict[str, Any]) -> None:
    """Serialise ``content`` (tensors, numbers, strings, lists, dicts) atomically."""
    buffer = io.BytesIO()
    torch.save(content, buffer)
    write_bytes_atomic(path, buffer.getvalue())


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint safely; InputFileError names the file on any problem."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "checkpoint not found")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # corrupt zip, truncated file, or a pickle with code in it
        first_line = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
        raise InputFileError(path, f"not a loadable checkpoint ({first_line})") from None
    if not isinstance(content, dict):
        raise InputFileError(path, f"checkpoint holds a {type(content).__name__}, expected a dict")
    return content
