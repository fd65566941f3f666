"""The output folder of the demos: only a folder an earlier demo made is ever replaced."""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import InputFileError

#: A demo output folder carries this file; only such folders are ever replaced.
MARKER = ".breastusai-demo"


def prepare_demo_folder(out: Path) -> None:
    """Create ``out`` empty (marked); an earlier demo's folder is replaced, any other non-empty one refused."""
    if out.exists():
        if not out.is_dir():
            raise InputFileError(out, "demo output path exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise InputFileError(out, "folder holds other files; choose an empty or new --out folder for the demo")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("created by python -m BreastUSAITraining demo\n")
