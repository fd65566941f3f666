"""The CSV table a public dataset ships (BUSI's manifest, BUS-BRA's bus_data.csv), read for an adapter."""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import InputFileError


def read_source_table(table: Path, required: tuple[str, ...], not_found: str, empty: str) -> list[dict[str, str]]:
    """Rows of ``table`` (UTF-8, a byte-order mark allowed) once it exists, has every ``required``
    column and at least one row; otherwise an InputFileError naming the table (``not_found`` /
    ``empty`` say what was expected)."""
    if not table.is_file():
        raise InputFileError(table, not_found)
    with open(table, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise InputFileError(table, f"missing column(s): {', '.join(missing)}")
        rows = list(reader)
    if not rows:
        raise InputFileError(table, empty)
    return rows
