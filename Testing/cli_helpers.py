"""Run the real command line in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "BreastUSAITraining", *args],
        capture_output=True, text=True, cwd=cwd, timeout=timeout,
    )
