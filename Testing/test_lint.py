"""The tree passes ruff (pyflakes + import order, configured in pyproject.toml): an unused
import or a misspelt name fails the suite, not a reviewer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_tree_passes_ruff():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_catches_an_unused_import(tmp_path):
    """The configuration really checks pyflakes rules (a config that selects nothing passes everything)."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
                          str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1 and "F401" in run.stdout, run.stdout + run.stderr
