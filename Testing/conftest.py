"""Shared fixtures: paths, the shared BUSI data, and a stand-in for Slicer's
``slicer.ScriptedLoadableModule`` (base classes only) so the real BreastUSAI.py
imports under pytest. MRML itself comes from slicer-core, never from a mock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from slicer_standin import install_scripted_module_standin

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


@pytest.fixture(scope="session")
def breastusai_module():
    """The real BreastUSAI.py, imported as Slicer would (its folder on sys.path)."""
    install_scripted_module_standin()
    module_dir = str(REPO / "BreastUSAI")
    if module_dir not in sys.path:
        sys.path.insert(0, module_dir)
    import BreastUSAI  # noqa: F401

    return sys.modules["BreastUSAI"]


# --------------------------------------------------------------------------- tiny models
# Phantom datasets and tiny trained bundles shared by the model tests (session scope:
# trained once, a few seconds on CPU). Real files on disk, real training, real bundles.

@pytest.fixture(scope="session")
def phantom_us2d(tmp_path_factory) -> Path:
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    folder = tmp_path_factory.mktemp("phantoms") / "us2d"
    generate_phantom_dataset(folder, PhantomSettings(kind="us2d", cases=14, image_size=64, seed=3), progress=False)
    return folder


@pytest.fixture(scope="session")
def phantom_abvs(tmp_path_factory) -> Path:
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    folder = tmp_path_factory.mktemp("phantoms") / "abvs"
    generate_phantom_dataset(folder, PhantomSettings(kind="abvs", cases=10, seed=5), progress=False)
    return folder


def tiny_settings(run_dir: Path, epochs: int = 2, batch_size: int = 4, **extra):
    from BreastUSAITraining.training import TrainingSettings

    return TrainingSettings(run_dir=run_dir, epochs=epochs, batch_size=batch_size, progress=False, **extra)


@pytest.fixture(scope="session")
def tiny_bundles(tmp_path_factory, phantom_us2d, phantom_abvs) -> dict[str, Path]:
    """seg2d (us2d), seg_abvs (2D net on ABVS slices), seg3d, planes_tsc (ABVS), planes_2d (us2d crops)."""
    from BreastUSAITraining.classification.train import PlaneClassifierOptions, train_plane_classifier
    from BreastUSAITraining.segmentation.train import SegmentationOptions, train_segmentation

    root = tmp_path_factory.mktemp("bundles")
    bundles = {
        "seg2d": train_segmentation(phantom_us2d, root / "seg2d", SegmentationOptions(size=64, base_channels=8),
                                    tiny_settings(root / "seg2d.run")),
        "seg_abvs": train_segmentation(phantom_abvs, root / "seg_abvs", SegmentationOptions(size=64, base_channels=8),
                                       tiny_settings(root / "seg_abvs.run", epochs=1, batch_size=8)),
        "seg3d": train_segmentation(phantom_abvs, root / "seg3d",
                                    SegmentationOptions(spatial="3d", base_channels=4, patch_kji=(16, 32, 32)),
                                    tiny_settings(root / "seg3d.run", epochs=1, batch_size=2)),
        "planes_tsc": train_plane_classifier(phantom_abvs, root / "planes_tsc",
                                             PlaneClassifierOptions(backbone="resnet18", size=64, frames=2),
                                             tiny_settings(root / "planes_tsc.run", epochs=1)),
        "planes_2d": train_plane_classifier(phantom_us2d, root / "planes_2d",
                                            PlaneClassifierOptions(backbone="resnet18", size=64),
                                            tiny_settings(root / "planes_2d.run", epochs=1)),
    }
    return bundles
