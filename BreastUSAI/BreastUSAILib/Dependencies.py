"""Python packages the module needs inside 3D Slicer, installed on first use.

Slicer ships its own numpy, SimpleITK and VTK, and torch comes from Slicer's PyTorch
extension: replacing any of them breaks Slicer. So the install pins them with a
constraints file at their installed versions and asks pip only for what is missing.
``pip_install`` is Slicer's ``slicer.util.pip_install`` (any callable taking pip's
arguments as one string works, e.g. in a script).
"""

from __future__ import annotations

import importlib.metadata
import tempfile
from pathlib import Path

#: Distribution -> requirement the engine needs (beyond what Slicer itself provides).
REQUIREMENTS = {"monai": "monai>=1.4", "scikit-learn": "scikit-learn>=1.3", "scikit-image": "scikit-image>=0.21",
                "scipy": "scipy>=1.10", "pynrrd": "pynrrd>=1.0", "slicerio": "slicerio>=1.4", "pydicom": "pydicom>=2.4",
                "pillow": "pillow>=10", "tqdm": "tqdm>=4.60", "matplotlib": "matplotlib>=3.7", "psutil": "psutil>=5.9"}
#: Slicer's own packages: never upgraded or replaced by the install.
SLICER_OWNED = ("numpy", "SimpleITK", "vtk", "torch")
TORCH_MESSAGE = ("PyTorch is missing and could not be installed. Install the 'PyTorch' extension from the Slicer "
                 "Extensions Manager, restart Slicer and press 'Install Python packages' again: BreastUSAI then asks it for "
                 "a CPU or CUDA torch that matches this computer.")
RESTART_MESSAGE = "Installed. Restart 3D Slicer so that every package is loaded from the new installation."


def installTorchWithPyTorchExtension() -> bool:
    """Inside Slicer: ask the PyTorch extension to install torch (``PyTorchUtilsLogic().installTorch()``,
    which picks the CPU or CUDA build for this computer, with the user's confirmation). Installing the
    extension alone installs no torch. Returns whether torch is importable afterwards."""
    try:
        import PyTorchUtils
    except ImportError:
        return False
    return PyTorchUtils.PyTorchUtilsLogic().installTorch(askConfirmation=True) is not None


def installedVersion(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def missingRequirements() -> list[str]:
    """Requirements (pip syntax) of :data:`REQUIREMENTS` not installed."""
    return [requirement for name, requirement in REQUIREMENTS.items() if installedVersion(name) is None]


def constraintsText() -> str:
    """``name==version`` for each Slicer-owned package that is installed (pip -c file)."""
    lines = [f"{name}=={installedVersion(name)}" for name in SLICER_OWNED if installedVersion(name)]
    return "\n".join(lines) + "\n"


def installRequirements(pip_install, folder: str | Path | None = None, install_torch=None,
                        version_of=installedVersion) -> list[str]:
    """Install what is missing: torch first through ``install_torch`` (inside Slicer,
    :func:`installTorchWithPyTorchExtension`), then the pinned packages with ``pip_install``;
    returns what was asked for (``"torch"`` first when it was installed). The caller then asks
    the user to restart Slicer (:data:`RESTART_MESSAGE`).

    Raises RuntimeError with a message for the user when torch cannot be had, or when pip fails
    (with pip's own message). ``version_of`` finds an installed distribution's version.
    """
    installed_torch = []
    if version_of("torch") is None:
        if install_torch is None or not install_torch():
            raise RuntimeError(TORCH_MESSAGE)
        installed_torch = ["torch"]
    missing = [requirement for name, requirement in REQUIREMENTS.items() if version_of(name) is None]
    if not missing:
        return installed_torch
    folder = Path(folder or tempfile.mkdtemp(prefix="breastusai-pip-"))
    constraints = folder / "slicer-constraints.txt"
    constraints.write_text(constraintsText(), encoding="utf-8")
    arguments = f'-c "{constraints}" ' + " ".join(f'"{r}"' for r in missing)
    try:
        pip_install(arguments)
    except Exception as error:
        raise RuntimeError(f"Installing {', '.join(missing)} failed: {error}. Check the network or a proxy, or install "
                           "them from Slicer's Python console with slicer.util.pip_install.") from error
    still = [requirement for name, requirement in REQUIREMENTS.items() if version_of(name) is None]
    if still:
        raise RuntimeError(f"pip finished but {', '.join(still)} is still missing; restart Slicer and try again")
    return installed_torch + missing
