"""One JSON file per finished cross-validation fold, so long runs can stop and continue."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from BreastUSAITraining.atomic import write_text_atomic  # noqa: E402


def fold_done(path: Path, config: dict) -> bool:
    """True when ``path`` holds a finished fold run with exactly ``config``."""
    return path.is_file() and json.loads(path.read_text())["config"] == config


def save_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` through the engine's atomic writer (a unique temporary file,
    fsync, rename: never half-written, and two writers never share a temporary name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def newest_machine(records: list[dict]) -> dict | None:
    """The machine description of the most recently measured fold record (``machine.date_utc``),
    so a pooled result says when its newest figures were measured."""
    stamped = [r["machine"] for r in records if r.get("machine")]
    return max(stamped, key=lambda m: m.get("date_utc", "")) if stamped else None


def last_epoch_checkpoint(bundle: Path) -> Path:
    """The final epoch's checkpoint of the training run that made ``bundle`` (``BUNDLE.run``)."""
    return bundle.with_name(bundle.name + ".run") / "checkpoints" / "last.pt"


def with_last_epoch_weights(bundle: Path, task: str):
    """``bundle`` loaded and verified, its kept (best-epoch) weights replaced by the final epoch's
    from its run; returns ``(Bundle, final epoch number)``. The cross-validation benchmarks score
    these as well: the kept epoch was chosen on the held-out fold, the final one on nothing."""
    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.training.checkpoint import load_checkpoint

    model = load_bundle(bundle, task)
    state = load_checkpoint(last_epoch_checkpoint(bundle))
    model.state_dict.clear()
    model.state_dict.update(state["model"])
    return model, int(state["epoch"])
