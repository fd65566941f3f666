"""BreastUSAI in the browser: the Slicer module's workflow as a web page (trame-slicer).

A second front end over the same Logic (``BreastUSAI/BreastUSAILib/ModuleLogic.py``) and the
same slicer-core MRML scene kind the 3D Slicer module uses; trame-slicer renders the real
Slicer slice views, 3D view and segment editor to the browser. This package holds views,
bindings and upload handling only: every decision (image kinds, which models run, results,
annotations, export) is the Logic's. The engine (``BreastUSAITraining``) imports nothing of it.

Start it with ``make web`` or ``python -m BreastUSAIWeb`` (``--help`` lists the options).
"""

import sys
from pathlib import Path

#: The Slicer module's folder: its ``BreastUSAILib`` is the shared Logic the page calls.
MODULE_DIR = Path(__file__).resolve().parents[1] / "BreastUSAI"
if str(MODULE_DIR) not in sys.path:
    sys.path.insert(0, str(MODULE_DIR))
