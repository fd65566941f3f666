"""Options and checks every command shares: the output folder rule, --overwrite, --device, --threads."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import UsageError
from ..training.choices import DEVICES

#: exit codes (documented in ``breastusai --help`` and the README)
EXIT_OK, EXIT_PARTLY_FAILED, EXIT_USAGE = 0, 1, 2


def add_output_folder(parser: argparse.ArgumentParser, what: str, required: bool = True) -> None:
    """``--out DIR`` and ``--overwrite``: an existing non-empty folder is refused unless --overwrite."""
    parser.add_argument("--out", required=required, metavar="DIR",
                        help=f"{what}; an existing non-empty folder is refused unless --overwrite (then replaced whole)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing non-empty --out folder")


def check_output_folder(out: str | Path | None, overwrite: bool) -> None:
    """UsageError when ``out`` is a file, or a non-empty folder and not ``overwrite``."""
    if out is None:
        return
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise UsageError(f"--out {out} already holds files; add --overwrite to replace them, or choose a new folder")


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto: CUDA when present, else CPU (default: auto)")


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, metavar="N",
                        help="CPU threads for the networks (default: torch's choice, usually every core)")


def apply_threads(threads: int | None) -> None:
    """Set the CPU thread count before torch starts its pools (and on torch if it already has)."""
    if threads is None:
        return
    if threads < 1:
        raise UsageError(f"--threads must be at least 1, got {threads}")
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
