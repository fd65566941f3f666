"""Bundles written before the model-family registry load and predict as they did (issue 18, item 4):
the shipped models (segmentation, single-plane classifier, MUP-Net, ABVS segmentation, three-plane
classifier) on every sample image, and small DL-UM and CLDLR bundles on phantom lesions, against
``predict``'s outputs recorded by the code before the change (Testing/data/bundles_before_registry)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from BreastUSAITraining.cli.main import main as cli_main

REPO = Path(__file__).resolve().parents[1]
OLD = REPO / "Testing" / "data" / "bundles_before_registry"
EXPECTED = json.loads((OLD / "predict_outputs.json").read_text())
RESULT_KEYS = ("classification", "prototype_explanations", "fusion_classification", "radiomics")


def _predict(capsys, out: Path, *args: str) -> dict:
    code = cli_main(["predict", *args, "--out", str(out), "--progress", "none", "-q"])
    assert code == 0, capsys.readouterr().err
    results = {}
    for folder in sorted(out.iterdir()):
        document = json.loads((folder / "result.json").read_text())
        lesions = {}
        for lesion in document["lesions"]:
            models = {model: {"probability": entry.get("malignant_probability", entry.get("probability")),
                              "prediction": entry.get("prediction")}
                      for key in RESULT_KEYS for model, entry in lesion.get(key, {}).items()}
            lesions[lesion["id"]] = {"voxels": lesion.get("voxels"), "models": models}
        results[document["input"]] = lesions
    return results


def _phantom_items(kind: str, tmp_path: Path) -> list[dict]:
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.loader import lesion_dicts
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    folder = tmp_path / kind
    seed = {"mg": dict(cases=12, image_size=64, seed=2), "us2d": dict(cases=24, image_size=64, seed=3)}[kind]
    generate_phantom_dataset(folder, PhantomSettings(kind=kind, **seed), progress=False)
    return [i for i in lesion_dicts(load_dataset(folder), "training") if i.get("segment")][:2]


def test_shipped_models_predict_the_sample_images_as_before(capsys, tmp_path):
    samples = sorted(p for p in (REPO / "Resources" / "SampleData").rglob("*") if p.suffix in (".png", ".nrrd")
                     and not p.name.endswith(".seg.nrrd") and "mask" not in p.name)
    assert len(samples) == len(EXPECTED["shipped"]) == 11
    assert _predict(capsys, tmp_path / "p", *map(str, samples)) == EXPECTED["shipped"]


@pytest.mark.parametrize("name,kind", [("dlum", "mg"), ("cldlr", "us2d")])
def test_small_bundles_of_the_other_families_predict_as_before(name, kind, capsys, tmp_path):
    found = {}
    for number, item in enumerate(_phantom_items(kind, tmp_path)):
        extra = [f"--clinical={k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in item["clinical"].items()
                 if v is not None] if name == "cldlr" else ["--companion", f"mg_cc={item['mg_cc']},{item['segmentation_mg_cc']}"]
        found.update(_predict(capsys, tmp_path / f"p{number}", item["us_bmode"], "--model", str(OLD / name),
                              "--segmentation", item["segmentation"], *extra))
    assert found == EXPECTED[name]


@pytest.mark.parametrize("name,kind", [("dlum", "mg"), ("cldlr", "us2d")])
def test_training_gives_the_same_weights_as_before(name, kind, tmp_path):
    """The typed training-task base class and the shared crop-classifier task changed no step: the same
    recipe and seed give the weights of the bundles trained before - bit-identical on the CPU model they
    were made on (CPU training is deterministic), and equal to float rounding on another (oneDNN picks
    other kernels on another CPU: seen on an AMD EPYC, largest weight difference 0.003 after 2 epochs,
    where a changed training step moves weights by far more)."""
    import torch

    from BreastUSAITraining.dlum.train import DLUMOptions, train_dlum
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset
    from BreastUSAITraining.radiomics.train import DLROptions, train_dlr
    from BreastUSAITraining.training import TrainingSettings

    seed = {"mg": dict(cases=12, image_size=64, seed=2), "us2d": dict(cases=24, image_size=64, seed=3)}[kind]
    generate_phantom_dataset(tmp_path / kind, PhantomSettings(kind=kind, **seed), progress=False)
    settings = TrainingSettings(run_dir=tmp_path / "run", epochs=2, batch_size=8, seed=0, device="cpu", progress=False)
    if name == "dlum":
        train_dlum(tmp_path / kind, tmp_path / name, DLUMOptions(width=0.125, size=64), settings)
    else:
        train_dlr(tmp_path / kind, tmp_path / name, DLROptions(kind="cldlr", arch="vgg11", width=0.125, size=64), settings)
    new = json.loads((tmp_path / name / "configs" / "metadata.json").read_text())
    old = json.loads((OLD / name / "configs" / "metadata.json").read_text())
    if new["weights_sha256"] == old["weights_sha256"]:
        assert new["metrics"] == old["metrics"] or json.dumps(new["metrics"]) == json.dumps(old["metrics"])
        return
    made = torch.load(tmp_path / name / "models" / "model.pt", weights_only=True)
    before = torch.load(OLD / name / "models" / "model.pt", weights_only=True)
    made, before = made.get("state_dict", made), before.get("state_dict", before)
    assert sorted(made) == sorted(before)
    # the networks' weights (learned by gradient steps); CLDLR's SVM tensors (support vectors, scaling) are a
    # discrete choice of training lesions that CPU rounding of the features may change: their shapes must match
    network = [k for k in made if k.split(".")[0] in ("cnn", "branches", "fusion")]
    assert network, sorted(made)
    largest = max((made[k].double() - before[k].double()).abs().max().item() for k in network)
    assert largest < 0.01, f"weights differ by {largest} from the bundle made before (more than CPU rounding)"
    assert all(made[k].shape == before[k].shape for k in made if torch.is_tensor(made[k]))
    for key, value in old["metrics"].items():
        if isinstance(value, float) and value == value:  # not NaN
            assert abs(new["metrics"][key] - value) <= 1e-3 * max(1.0, abs(value)), key
