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
                "pillow": "pillow>=10", "tqdm": "tqdm>=4.60", "matplotlib": "matplotlib>=3.7"}
#: Slicer's own packages: never upgraded or replaced by the install.
SLICER_OWNED = ("numpy", "SimpleITK", "vtk", "torch")
TORCH_MESSAGE = ("PyTorch is missing. Install the 'PyTorch' extension from the Slicer Extensions Manager, restart "
                 "Slicer, then open BreastUSAI again (it installs a CPU or CUDA torch that matches this computer).")


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


def installRequirements(pip_install, folder: str | Path | None = None) -> list[str]:
    """Install what is missing with ``pip_install``; returns what was asked for.

    Raises RuntimeError with a message for the user when torch is missing (the PyTorch
    extension provides it) or when pip fails (with pip's own message).
    """
    if installedVersion("torch") is None:
        raise RuntimeError(TORCH_MESSAGE)
    missing = missingRequirements()
    if not missing:
        return []
    folder = Path(folder or tempfile.mkdtemp(prefix="breastusai-pip-"))
    constraints = folder / "slicer-constraints.txt"
    constraints.write_text(constraintsText(), encoding="utf-8")
    arguments = f'-c "{constraints}" ' + " ".join(f'"{r}"' for r in missing)
    try:
        pip_install(arguments)
    except Exception as error:
        raise RuntimeError(f"Installing {', '.join(missing)} failed: {error}. Check the network or a proxy, or install "
                           "them from Slicer's Python console with slicer.util.pip_install.") from error
    still = missingRequirements()
    if still:
        raise RuntimeError(f"pip finished but {', '.join(still)} is still missing; restart Slicer and try again")
    return missing
