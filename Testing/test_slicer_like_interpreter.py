"""What a real 3D Slicer gives the module, seen from a plain Python (issue 20).

* **A Slicer-like interpreter**: a fresh ``python -S`` whose ``sys.path`` holds only the module's
  own folder (what ``qSlicerScriptedLoadableModuleFactory`` adds for a source checkout) and the
  packages 3D Slicer bundles (numpy, scipy, SimpleITK, VTK, pydicom, requests, Pillow; ``slicer``
  is slicer-core, the real non-Qt part of Slicer). No torch, MONAI, pynrrd, slicerio,
  scikit-learn, scikit-image, matplotlib, tqdm or psutil. There it imports ``BreastUSAI.py`` and
  calls what the panel's ``setup()`` calls before and while its buttons are connected.
* **Cancel** stops a whole process tree (a child that started a grandchild) through psutil, the
  code path Windows takes too, without blocking the caller.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from conftest import REPO

#: Top-level names of the packages (and their bundled libraries) that a stock 3D Slicer ships
#: (slicer, slicer_core, slicer_layer_dm and LayerDMLib are slicer-core: Slicer itself).
SLICER_BUNDLED = ("numpy", "numpy.libs", "scipy", "scipy.libs", "SimpleITK", "vtk.py", "vtkmodules", "slicer",
                  "slicer_core", "pydicom", "requests", "urllib3", "idna", "certifi", "charset_normalizer", "PIL",
                  "pillow.libs", "packaging", "slicer_layer_dm", "LayerDMLib")
NOT_IN_SLICER = ("torch", "monai", "nrrd", "slicerio", "sklearn", "skimage", "matplotlib", "tqdm", "psutil")


def _slicer_like_path(tmp_path: Path) -> Path:
    import numpy

    site = Path(numpy.__file__).resolve().parents[1]
    shim = tmp_path / "slicer-bundled"
    shim.mkdir()
    for name in SLICER_BUNDLED:
        if (site / name).exists():
            (shim / name).symlink_to(site / name)
    return shim


def test_the_panel_sets_up_with_only_what_slicer_bundles(tmp_path):
    shim = _slicer_like_path(tmp_path)
    script = textwrap.dedent(f"""
        import importlib.util, json, sys
        sys.path[:0] = [{str(REPO / "BreastUSAI")!r}, {str(shim)!r}]
        sys.path.append({str(REPO / "Testing")!r})  # the stand-in for slicer.ScriptedLoadableModule only
        missing_here = [n for n in {NOT_IN_SLICER!r} if importlib.util.find_spec(n) is not None]
        assert not missing_here, f"not a Slicer-like interpreter: {{missing_here}} importable"
        from slicer_standin import install_scripted_module_standin
        install_scripted_module_standin()
        import BreastUSAI                                   # a source checkout: the module finds the engine
        from BreastUSAILib.HeadlessSlicer import headlessScene
        from BreastUSAILib.ModelLibrary import JsonSettings
        logic = BreastUSAI.BreastUSAILogic(scene=headlessScene(), settings=JsonSettings({str(tmp_path / "s.json")!r}))
        choices = logic.panelChoices()                      # the lists setup() fills
        folder = logic.modelsFolder()
        accepted = logic.acceptModelsFolder({str(tmp_path / "partial")!r})
        try:
            models = [entry.summary() for entry in logic.listModels()]
        except ValueError as error:                         # no shipped model and no folder: a message, not a crash
            models = [str(error)]
        missing = logic.missingDependencies()
        heavy = [n for n in {NOT_IN_SLICER!r} if n in sys.modules]
        print(json.dumps({{"kinds": len(choices["image_kinds"]), "birads": choices["birads"], "folder": folder,
                           "accepted": accepted, "models": models, "missing": missing, "heavy": heavy,
                           "engine": sys.modules["BreastUSAITraining"].__file__}}))
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True, env=env, timeout=300,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["heavy"] == []                               # nothing setup() needs imported torch, MONAI, pynrrd...
    assert found["kinds"] == 6 and found["birads"][:3] == ["", "0", "1"]
    assert found["accepted"] is False and found["folder"] is None
    assert found["engine"].startswith(str(REPO))              # the engine came from the checkout beside the module
    assert {"monai>=1.4", "pynrrd>=1.0", "slicerio>=1.4", "psutil>=5.9"} <= set(found["missing"])  # what Install gets
    assert found["models"]                                     # shipped models listed, or the reason none is


def test_cancel_stops_the_whole_tree_without_waiting(tmp_path):
    sys.path.insert(0, str(REPO / "BreastUSAI"))
    from BreastUSAILib.ProcessTree import killTree, startHidden, terminateTree, treeAlive

    pid_file = tmp_path / "grandchild.pid"
    child = textwrap.dedent(f"""
        import signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)         # a stubborn child: only a kill stops it
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        open({str(pid_file)!r}, "w").write(str(grandchild.pid))
        print("started", flush=True)
        time.sleep(300)
    """)
    process = startHidden([sys.executable, "-c", child], dict(os.environ))
    assert process.stdout.readline().strip() == "started"
    grandchild = int(pid_file.read_text())
    import psutil

    assert psutil.pid_exists(grandchild)
    started = time.monotonic()
    members = terminateTree(process.pid)
    assert time.monotonic() - started < 1.0                   # asking does not block the panel
    assert {m.pid for m in members} >= {process.pid, grandchild}
    time.sleep(0.3)
    assert treeAlive(process.pid, members)                     # the child ignored SIGTERM
    killTree(process.pid, members)
    process.wait(10)
    deadline = time.monotonic() + 10
    while psutil.pid_exists(grandchild) and psutil.Process(grandchild).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the grandchild survived"
        time.sleep(0.05)
    assert not treeAlive(process.pid, members)
