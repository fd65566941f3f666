"""Real data for the module's logic tests: phantom datasets and tiny trained bundles.

Made once per process in a temporary folder (a few tens of seconds on CPU) and shared by
every logic test, whether pytest or Slicer's test runner runs them. Nothing is mocked:
the bundles are trained by the engine, the images are files on disk.
"""

from __future__ import annotations

import atexit
import json
import shutil
import sys
import tempfile
from pathlib import Path

_CACHE: dict[str, Path] = {}
REPO_TESTING = Path(__file__).resolve().parents[3] / "Testing"


def _outside_slicer_setup() -> None:
    """Under pytest (no Slicer application): the stand-in for slicer.ScriptedLoadableModule
    so BreastUSAI.py imports; MRML itself is slicer-core's real one."""
    try:
        import slicer.ScriptedLoadableModule  # noqa: F401 - present inside Slicer
    except ImportError:
        if str(REPO_TESTING) not in sys.path:
            sys.path.insert(0, str(REPO_TESTING))
        from slicer_standin import install_scripted_module_standin

        install_scripted_module_standin()


_outside_slicer_setup()


def workFolder() -> Path:
    if "root" not in _CACHE:
        root = Path(tempfile.mkdtemp(prefix="breastusai-logic-tests-"))
        atexit.register(shutil.rmtree, root, True)
        _CACHE["root"] = root
    return _CACHE["root"]


def _settings(name: str, epochs: int = 1, batch_size: int = 4, **extra):
    from BreastUSAITraining.training import TrainingSettings

    return TrainingSettings(run_dir=workFolder() / f"{name}.run", epochs=epochs, batch_size=batch_size, progress=False, **extra)


def phantom(kind: str) -> Path:
    """Phantom dataset folder: ``us2d`` (B-mode, BI-RADS 4A on half the lesions), ``multimodal``,
    ``mg`` (B-mode + mammography) or ``abvs``."""
    key = f"phantom_{kind}"
    if key not in _CACHE:
        from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

        folder = workFolder() / key
        sizes = {"us2d": dict(cases=24, image_size=64, seed=3), "multimodal": dict(cases=12, image_size=64, seed=8),
                 "mg": dict(cases=12, image_size=64, seed=2), "abvs": dict(cases=6, seed=5)}[kind]
        generate_phantom_dataset(folder, PhantomSettings(kind=kind, **sizes), progress=False)
        if kind == "us2d":  # BI-RADS 4A on half the labelled lesions, for DLR_BM and the re-stratification
            document = json.loads((folder / "dataset.json").read_text())
            for n, item in enumerate(i for i in document["training"] if i["pathology"] in ("benign", "malignant")):
                if n % 2 == 0:
                    item["birads"] = "4A"
            (folder / "dataset.json").write_text(json.dumps(document))
        _CACHE[key] = folder
    return _CACHE[key]


def bundle(name: str) -> Path:
    """A tiny trained bundle: seg2d, planes_2d, mupnet (B-mode + Doppler + elastography),
    mupnet_bmode, dlum (B-mode + MG CC), dlr_lh, dlr_bm; seg2d_strict is seg2d with a
    threshold no voxel reaches (nothing found unless a lesion is expected)."""
    if name in _CACHE:
        return _CACHE[name]
    out = workFolder() / "models" / name
    if name == "seg2d":
        from BreastUSAITraining.segmentation.train import SegmentationOptions, train_segmentation

        train_segmentation(phantom("us2d"), out, SegmentationOptions(size=64, base_channels=8), _settings(name, epochs=2))
    elif name == "planes_2d":
        from BreastUSAITraining.classification.train import PlaneClassifierOptions, train_plane_classifier

        train_plane_classifier(phantom("us2d"), out, PlaneClassifierOptions(backbone="resnet18", size=64), _settings(name))
    elif name in ("mupnet", "mupnet_bmode"):
        from BreastUSAITraining.mupnet.train import MUPNetOptions, train_mupnet

        modalities = ["us_bmode"] if name == "mupnet_bmode" else []
        data = phantom("us2d") if name == "mupnet_bmode" else phantom("multimodal")
        train_mupnet(data, out, MUPNetOptions(modalities=modalities, size=64, prototypes=4, warmup_epochs=1, push_every=2,
                                              prototype_dim=16), _settings(name, epochs=2))
    elif name == "dlum":
        from BreastUSAITraining.dlum.train import DLUMOptions, train_dlum

        train_dlum(phantom("mg"), out, DLUMOptions(width=0.125, size=64), _settings(name))
    elif name in ("dlr_lh", "dlr_bm"):
        from BreastUSAITraining.radiomics.train import DLROptions, train_dlr

        train_dlr(phantom("us2d"), out, DLROptions(kind=name[4:], arch="resnet18", size=64), _settings(name, batch_size=8))
    elif name == "seg2d_strict":
        from BreastUSAITraining.bundle import load_bundle, save_bundle

        tiny = load_bundle(bundle("seg2d"))  # the same weights; a threshold no voxel reaches
        inference = {**tiny.inference, "postprocessing": {**tiny.inference["postprocessing"], "threshold": 0.9999}}
        save_bundle(out, tiny.state_dict, dict(tiny.metadata, name="lesion-segmentation-strict"), inference)
    else:
        raise KeyError(name)
    _CACHE[name] = out
    return out


def dicomFactory():
    """The repository's DICOM writer (identifiers included on purpose); None when this test
    runs from an installed module without the repository's Testing folder."""
    if not (REPO_TESTING / "dicom_factory.py").is_file():
        return None
    if str(REPO_TESTING) not in sys.path:
        sys.path.insert(0, str(REPO_TESTING))
    import dicom_factory

    return dicom_factory
