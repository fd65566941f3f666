"""Progress for people (a tqdm bar) or for programs (``--progress json``: one JSON object per
line on stdout, which the Slicer module reads from its background process).

JSON events: ``start`` {inputs}, ``stage`` {input, index, stage, fraction}, ``done`` {input,
index, output, lesions}, ``error`` {input, index, message}, ``finished`` {succeeded, failed,
fraction}. ``fraction`` is the overall progress in [0, 1].
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tqdm import tqdm

STAGES = ("load", "segment", "planes", "classify", "explain", "write")
MODES = ("bar", "json", "none")


class ProgressReporter:
    """Reports the stages of ``total`` inputs in one of :data:`MODES`."""

    def __init__(self, mode: str, total: int) -> None:
        if mode not in MODES:
            raise ValueError(f"progress mode must be one of {MODES}")
        self.mode, self.total = mode, max(total, 1)
        self._bar = tqdm(total=total, unit="input", desc="predict") if mode == "bar" else None
        self._emit({"event": "start", "inputs": total})

    def _emit(self, event: dict[str, Any]) -> None:
        if self.mode == "json":
            sys.stdout.write(json.dumps(event) + "\n")
            sys.stdout.flush()

    def stage(self, index: int, name: str, stage: str) -> None:
        within = STAGES.index(stage) / len(STAGES) if stage in STAGES else 0.0
        self._emit({"event": "stage", "input": name, "index": index, "stage": stage,
                    "fraction": round((index + within) / self.total, 4)})
        if self._bar is not None:
            self._bar.set_postfix_str(f"{name}: {stage}")

    def done(self, index: int, name: str, output: str, lesions: int) -> None:
        self._emit({"event": "done", "input": name, "index": index, "output": output, "lesions": lesions,
                    "fraction": round((index + 1) / self.total, 4)})
        if self._bar is not None:
            self._bar.update(1)

    def error(self, index: int, name: str, message: str) -> None:
        self._emit({"event": "error", "input": name, "index": index, "message": message,
                    "fraction": round((index + 1) / self.total, 4)})
        if self._bar is not None:
            self._bar.update(1)

    def finished(self, succeeded: int, failed: int) -> None:
        self._emit({"event": "finished", "succeeded": succeeded, "failed": failed, "fraction": 1.0})
        if self._bar is not None:
            self._bar.close()
