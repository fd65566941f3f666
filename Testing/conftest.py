"""Shared fixtures: paths, the shared BUSI data, and a stand-in for Slicer's
``slicer.ScriptedLoadableModule`` (base classes only) so the real BreastUSAI.py
imports under pytest. MRML itself comes from slicer-core, never from a mock."""

from __future__ import annotations

import sys
import types
import unittest
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BUSI = SHARED / "data" / "busi"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def busi_source() -> Path:
    if not (BUSI / "manifest.csv").is_file():
        pytest.fail(f"the shared BUSI data is missing: expected {BUSI}/manifest.csv (clone beside ../shared)")
    return BUSI


def install_scripted_module_standin() -> None:
    """Register ``slicer.ScriptedLoadableModule`` with the four base classes Slicer provides."""
    import slicer

    if "slicer.ScriptedLoadableModule" in sys.modules:
        return
    standin = types.ModuleType("slicer.ScriptedLoadableModule")

    class ScriptedLoadableModule:
        def __init__(self, parent):
            self.parent = parent

    class ScriptedLoadableModuleWidget:
        def __init__(self, parent=None):
            self.parent = parent

        def setup(self):
            pass

    class ScriptedLoadableModuleLogic:
        def __init__(self, parent=None):
            self.parent = parent

    class ScriptedLoadableModuleTest(unittest.TestCase):
        pass

    for cls in (ScriptedLoadableModule, ScriptedLoadableModuleWidget, ScriptedLoadableModuleLogic, ScriptedLoadableModuleTest):
        setattr(standin, cls.__name__, cls)
    sys.modules["slicer.ScriptedLoadableModule"] = standin
    slicer.ScriptedLoadableModule = standin


@pytest.fixture(scope="session")
def breastusai_module():
    """The real BreastUSAI.py, imported as Slicer would (its folder on sys.path)."""
    install_scripted_module_standin()
    module_dir = str(REPO / "BreastUSAI")
    if module_dir not in sys.path:
        sys.path.insert(0, module_dir)
    import BreastUSAI  # noqa: F401

    return sys.modules["BreastUSAI"]
