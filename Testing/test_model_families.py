"""The model-family registry (issue 18): a family registered in a few lines appears in ``train``,
``predict``, ``evaluate``, the models folder listing and the Slicer Logic with no other edit, and
every family's lesion gets the same probability and call from ``predict``, ``evaluate`` and the
Slicer Logic at a bundle threshold that is not 0.5. Real bundles, real files, a real MRML scene."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from BreastUSAITraining.cli.main import main as cli_main

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "BreastUSAI" / "Testing" / "Python"


def _fixtures():
    if str(FIXTURES) not in sys.path:
        sys.path.insert(0, str(FIXTURES))
    import BreastUSAILogicFixtures

    return BreastUSAILogicFixtures


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli_main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- a toy family: a lesion's probability is its mean brightness times a gain --------------------------
class _Gain(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gain = torch.nn.Parameter(torch.ones(1))


class _BrightnessPredictor:
    def __init__(self, bundle) -> None:
        from BreastUSAITraining.networks import build_network

        self.bundle = bundle
        network = build_network(bundle.inference["network"])
        network.load_state_dict(bundle.state_dict)
        self.gain = float(network.gain.detach())
        self.threshold = float(bundle.inference["threshold"])
        self.kinds = ["us_bmode"]

    def check_image(self, image) -> None:
        pass

    def predict(self, lesion, explain=False, options=None):
        from BreastUSAITraining.families import LesionOutcome

        view = lesion.view("us_bmode", fallback_to_main=True)
        grey = view.image.array.astype(float)
        inside = grey[view.lesion.box_slices][view.lesion.box_mask]
        probability = float(np.clip(inside.mean() / 255.0 * self.gain, 0, 1))
        return LesionOutcome(self.bundle.name, self.bundle.task, probability, self.threshold,
                             document={"pixels": int(inside.size)})

    def write_explanation(self, folder, lesion, outcome, options, facts) -> None:
        pass


def _toy_family():
    from BreastUSAITraining.families import ModelFamily

    class Brightness(ModelFamily):
        name = task = "toy-brightness"
        words = "toy brightness scorer"
        result_key = "toy_brightness"
        help = "a test's toy family"

        def add_options(self, parser):
            parser.add_argument("--gain", type=float, default=1.0, help="multiplies the mean brightness")
            parser.add_argument("--threshold", type=float, default=0.5, help="the bundle's threshold")

        def train(self, args, settings):
            from BreastUSAITraining.bundle import save_bundle
            from BreastUSAITraining.dataset import load_dataset
            from BreastUSAITraining.networks import network_config

            load_dataset(args.data)
            network = _Gain()
            network.gain.data.fill_(args.gain)
            return save_bundle(args.out, network.state_dict(), {"task": self.task, "name": "toy", "version": "1",
                                                                "inputs": {"modality": "us_bmode"}},
                               {"network": network_config("toy_gain"), "threshold": args.threshold})

        def load_predictor(self, bundle, device):
            return _BrightnessPredictor(bundle)

    return Brightness()


@pytest.fixture
def toy_family():
    from BreastUSAITraining.families import register_family, unregister_family
    from BreastUSAITraining.networks import register_network

    register_network("toy_gain", _Gain)
    family = register_family(_toy_family())
    yield family
    unregister_family(family.name)


def _lesion_items(data: Path) -> list[dict]:
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.loader import lesion_dicts

    return [i for i in lesion_dicts(load_dataset(data), "training") if i.get("segment")]


def _predict_call(capsys, tmp_path: Path, model: Path, item: dict, *extra: str) -> dict:
    out = tmp_path / f"predict-{item['case_id']}-{model.name}"
    code, _, err = _run(capsys, "predict", item["us_bmode"], "--model", str(model), "--segmentation", item["segmentation"],
                        "--out", str(out), "--progress", "none", "-q", *extra)
    assert code == 0, err
    (folder,) = out.iterdir()
    document = json.loads((folder / "result.json").read_text())
    return next(lesion for lesion in document["lesions"] if lesion["id"] == item["segment"])


def _evaluate(capsys, tmp_path: Path, model: Path, data: Path) -> dict[tuple[str, str], dict]:
    out = tmp_path / f"evaluate-{model.name}"
    code, _, err = _run(capsys, "evaluate", "--model", str(model), "--data", str(data), "--split", "all", "--out", str(out),
                        "--device", "cpu", "-q")
    assert code == 0, err
    with open(out / "predictions.csv", newline="") as handle:
        return {(r["case_id"], r["lesion_id"]): r for r in csv.DictReader(handle)}


def _slicer_rows(breastusai_module, model: Path, item: dict, kinds: dict[str, tuple[str, str]]) -> list[dict]:
    from BreastUSAILib.HeadlessSlicer import clearScene, headlessScene

    logic = breastusai_module.BreastUSAILogic(scene=headlessScene())
    clearScene(logic.scene)
    volumes = {kind: logic.loadImage(image, kind=kind)[0] for kind, (image, _) in kinds.items()}
    first = next(iter(kinds))
    segmentation = logic.loadLesionSegmentation(kinds[first][1], volumes[first])
    # the lesion's record, as the reader enters it in the annotation form
    logic.setLesionAnnotation(segmentation, item["segment"], clinical={k: v for k, v in item["clinical"].items() if v is not None},
                              birads=item.get("birads") or None)
    for kind, (_, seg) in list(kinds.items())[1:]:
        other = logic.loadLesionSegmentation(seg, volumes[kind])
        views = {first: (volumes[first], segmentation, item["segment"]), kind: (volumes[kind], other, item["segment"])}
        return logic.classifyLesion([str(model)], views, device="cpu")
    return logic.classifyLesion([str(model)], logic.lesionViews(segmentation, item["segment"]), device="cpu")


def test_a_registered_toy_family_appears_everywhere(toy_family, capsys, tmp_path, breastusai_module):
    from BreastUSAILib.ModelLibrary import listModels

    data = _fixtures().phantom("us2d")
    code, out, _ = _run(capsys, "train", "--help")
    assert code == 0 and "toy-brightness" in out and "a test's toy family" in out
    code, out, _ = _run(capsys, "train", "toy-brightness", "--help")
    assert code == 0 and "multiplies the mean brightness" in out

    # a threshold that is not 0.5: the median of the lesions' own scores
    items = _lesion_items(data)
    models = tmp_path / "models"
    code, _, err = _run(capsys, "train", "toy-brightness", "--data", str(data), "--out", str(models / "probe"), "--gain", "2")
    assert code == 0, err
    scores = sorted(float(r["probability"]) for r in _evaluate(capsys, tmp_path, models / "probe", data).values())
    threshold = round(float(np.median(scores)), 4)
    assert threshold != 0.5
    code, _, err = _run(capsys, "train", "toy-brightness", "--data", str(data), "--out", str(models / "toy"), "--gain", "2",
                        "--threshold", str(threshold))
    assert code == 0, err

    listed = {entry.path.name: entry for entry in listModels(models)}
    assert listed["toy"].task == "toy-brightness" and "toy brightness scorer" in listed["toy"].summary()
    # the Slicer Logic's model list (shipped models first, then the chosen folder's)
    from BreastUSAILib.HeadlessSlicer import headlessScene
    from BreastUSAILib.ModelLibrary import JsonSettings

    logic = breastusai_module.BreastUSAILogic(scene=headlessScene(), settings=JsonSettings(tmp_path / "settings.json"))
    logic.setModelsFolder(models)
    in_slicer = {entry.path.name: entry for entry in logic.listModels()}
    assert in_slicer["toy"].usable and "toy brightness scorer" in in_slicer["toy"].summary()

    evaluated = _evaluate(capsys, tmp_path, models / "toy", data)
    metrics = json.loads((tmp_path / "evaluate-toy" / "metrics.json").read_text())
    assert metrics["model"]["task"] == "toy-brightness" and 0 <= metrics["auc"] <= 1
    for item in items[:3]:
        row = evaluated[(item["case_id"], item["lesion_id"] or "")]
        predicted = _predict_call(capsys, tmp_path, models / "toy", item)["toy_brightness"]["toy"]
        (slicer,) = _slicer_rows(breastusai_module, models / "toy", item, {"us_bmode": (item["us_bmode"], item["segmentation"])})
        assert predicted["probability"] == pytest.approx(float(row["probability"]), abs=1e-4)
        assert slicer["probability"] == pytest.approx(float(row["probability"]), abs=1e-4)
        assert predicted["prediction"] == row["call"] == slicer["prediction"]
        assert predicted["threshold"] == threshold


def _rethresholded(source: Path, out: Path, threshold: float) -> Path:
    """``source`` saved again with another threshold (the same weights and files)."""
    from BreastUSAITraining.bundle import load_bundle, save_bundle
    from BreastUSAITraining.bundle.metadata import INFERENCE, METADATA, WEIGHTS

    bundle = load_bundle(source)
    extras = {relative: source / relative for relative in bundle.metadata["files"]
              if relative not in (WEIGHTS, INFERENCE, METADATA)}
    metadata = {k: v for k, v in bundle.metadata.items() if k not in ("files", "format", "weights_sha256", "created")}
    return save_bundle(out, bundle.state_dict, metadata, {**bundle.inference, "threshold": threshold}, extras)


@pytest.mark.parametrize("name", ["planes_2d", "mupnet_bmode", "dlr_bm", "dlum"])
def test_every_family_makes_the_same_call_in_predict_evaluate_and_slicer(name, capsys, tmp_path, breastusai_module):
    fixtures = _fixtures()
    source = fixtures.bundle(name)
    data = fixtures.phantom("mg" if name == "dlum" else "us2d")
    first = _evaluate(capsys, tmp_path, source, data)
    probabilities = sorted({float(r["probability"]) for r in first.values()})
    assert len(probabilities) >= 2, f"{name}: every lesion got the same probability"
    # the threshold sits exactly on one lesion's probability: the one rule (>=) must call it positive everywhere
    threshold = probabilities[len(probabilities) // 2]
    assert threshold != 0.5
    model = _rethresholded(source, tmp_path / f"{name}-t", threshold)
    evaluated = _evaluate(capsys, tmp_path, model, data)
    on_threshold = [key for key, row in evaluated.items() if float(row["probability"]) == threshold]
    assert on_threshold and all(evaluated[key]["call"] in ("malignant", "high risk") for key in on_threshold)
    items = {(i["case_id"], i["lesion_id"] or ""): i for i in _lesion_items(data)}
    nearest = sorted(evaluated, key=lambda key: abs(float(evaluated[key]["probability"]) - threshold))[:2]
    for key in nearest:
        item, row = items[key], evaluated[key]
        kinds = {"us_bmode": (item["us_bmode"], item["segmentation"])}
        extra: tuple[str, ...] = tuple(f"--clinical={k}={json.dumps(v) if not isinstance(v, str) else v}"
                                       for k, v in item["clinical"].items() if v is not None)
        if name == "dlum":
            kinds["mg_cc"] = (item["mg_cc"], item["segmentation_mg_cc"])
            extra += ("--companion", f"mg_cc={item['mg_cc']},{item['segmentation_mg_cc']}")
        lesion = _predict_call(capsys, tmp_path, model, item, *extra)
        (entry,) = [entries for key_ in ("classification", "prototype_explanations", "fusion_classification", "radiomics")
                    for entries in lesion.get(key_, {}).values()]
        slicer = [r for r in _slicer_rows(breastusai_module, model, item, kinds) if r["task"] != "restratify"][0]
        assert entry["probability"] == pytest.approx(float(row["probability"]), abs=1e-4), name
        assert slicer["probability"] == pytest.approx(float(row["probability"]), abs=1e-4), name
        assert entry["prediction"] == row["call"] == slicer["prediction"], (name, row, entry, slicer)
