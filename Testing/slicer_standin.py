"""A stand-in for Slicer's ``slicer.ScriptedLoadableModule`` (the four base classes only),
so the real BreastUSAI.py imports under pytest. MRML itself comes from slicer-core,
never from a mock; only this GUI-side module (absent from slicer-core) is stood in for."""

from __future__ import annotations

import sys
import types
import unittest
from pathlib import Path

MODULE_DIR = Path(__file__).resolve().parents[1] / "BreastUSAI"


def install_scripted_module_standin() -> None:
    """Register ``slicer.ScriptedLoadableModule`` and put BreastUSAI.py's folder on sys.path."""
    import slicer

    if str(MODULE_DIR) not in sys.path:
        sys.path.insert(0, str(MODULE_DIR))
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
