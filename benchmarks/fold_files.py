"""One JSON file per finished cross-validation fold, so long runs can stop and continue."""

from __future__ import annotations

import json
from pathlib import Path


def fold_done(path: Path, config: dict) -> bool:
    """True when ``path`` holds a finished fold run with exactly ``config``."""
    return path.is_file() and json.loads(path.read_text())["config"] == config


def save_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` through a temporary file (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


def newest_machine(records: list[dict]) -> dict | None:
    """The machine description of the most recently measured fold record (``machine.date_utc``),
    so a pooled result says when its newest figures were measured."""
    stamped = [r["machine"] for r in records if r.get("machine")]
    return max(stamped, key=lambda m: m.get("date_utc", "")) if stamped else None
