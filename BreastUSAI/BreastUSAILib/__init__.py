"""BreastUSAILib: the Slicer-side library of the BreastUSAI module.

Converts between MRML nodes and the headless engine (``BreastUSAITraining``) and holds
every decision the module makes, so each user action is a function that a test can
call without a GUI. Dependency direction, one way: BreastUSAI.py -> BreastUSAILib ->
BreastUSAITraining.
"""

import sys
from pathlib import Path


def _putEngineOnPath() -> None:
    """A source checkout added as a module path: Slicer puts only the module's folder on ``sys.path``,
    while the engine (``BreastUSAITraining``) and ``Resources/`` sit one folder up. An installed
    extension already has the engine on the path and is left as it is."""
    try:
        import BreastUSAITraining  # noqa: F401
    except ImportError:
        root = Path(__file__).resolve().parents[2]
        if (root / "BreastUSAITraining" / "__init__.py").is_file() and str(root) not in sys.path:
            sys.path.append(str(root))


_putEngineOnPath()
