"""Retrain and package the shipped models (``make models``).

Steps, each skipped when its output exists (so an interrupted run continues where it
stopped; a training continues from its last checkpoint with ``--resume``):

1. ``dataset import-busi`` and ``dataset import-busbra`` of ``../shared/data``;
2. ``dataset merge`` of both, less the sample images (``Resources/SampleData/holdout_cases.txt``
   and every image linked to them) -> the release dataset;
3. ``phantom`` ABVS volumes for the two synthetic-only models;
4. ``train`` every recipe of ``tools/release_recipes.py`` on all development data
   (``--val-fold none --keep last``: nothing is selected on any held-out data);
5. package each bundle into ``Resources/Models/<name>/``: float16 weights (the check in step 6
   must hold), the model card ``README.md`` (figures from ``benchmarks/results/release_*.json``
   when those benchmarks have run), the temperature from the classifier's and MUP-Net's five-fold
   cross-validations (MUP-Net: once its CV has run),
   the commit, the command; then ``Resources/Models/catalogue.json``;
6. float16 against float32: the whole ``predict`` pipeline on the sample images with both,
   the largest probability difference recorded in each card (must stay <= 1e-3).

Time on this project's CPU machine (2 cores, one thread per training, two trainings at once): about
100 CPU minutes of training (segmentation 53, classifier 22, MUP-Net 18, phantom pair 6, as recorded
in each bundle's ``training.seconds``), about an hour of wall time. Not yet timed on a GPU.

    python tools/release_models.py [--work release_work] [--threads 1] [--package-only | --cards-only] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

from release_recipes import PHANTOM_ABVS, RECIPES, SAMPLE_HOLD_OUT, Recipe  # noqa: E402

MODELS = ROOT / "Resources" / "Models"
SAMPLES = ROOT / "Resources" / "SampleData"
RESULTS = ROOT / "benchmarks" / "results"
SHARED = ROOT.parent / "shared" / "data"
FLOAT16_TOLERANCE = 1e-3
DATASETS = ("BUSI: Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Dataset of breast ultrasound images. Data in Brief 28 "
            "(2020) 104863. BUS-BRA: Gomez-Flores W, Gregorio-Calas MJ, Coelho de Albuquerque Pereira W. BUS-BRA: a "
            "breast ultrasound dataset for assessing computer-aided diagnosis systems. Medical Physics 51(4):3110-3123 "
            "(2024).")


def cli(*args: str, threads: int = 1) -> None:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    print("+ breastusai " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "BreastUSAITraining", "-q", *args], check=True, env=env)


def prepare_data(work: Path) -> None:
    if not (work / "busi" / "dataset.json").exists():
        cli("dataset", "import-busi", str(SHARED / "busi"), "--out", str(work / "busi"), "--overwrite")
    if not (work / "busbra" / "dataset.json").exists():
        cli("dataset", "import-busbra", str(SHARED / "busbra"), "--out", str(work / "busbra"), "--overwrite")
    if not (work / "release" / "dataset.json").exists():
        cli("dataset", "merge", str(work / "busi"), str(work / "busbra"), "--hold-out", str(ROOT / SAMPLE_HOLD_OUT),
            "--name", "BUSI + BUS-BRA development parts, less the sample images", "--out", str(work / "release"),
            "--overwrite")
    if not (work / "phantom-abvs" / "dataset.json").exists():
        cli("phantom", "--out", str(work / "phantom-abvs"), *PHANTOM_ABVS, "--overwrite")


def train_command(recipe: Recipe, work: Path) -> list[str]:
    return ["train", *recipe.train, "--data", str(work / recipe.data), "--out", str(work / "bundles" / recipe.name),
            "--run-dir", str(work / "runs" / recipe.name), "--val-fold", "none", "--keep", "last", "--device", "cpu"]


def train(recipe: Recipe, work: Path, threads: int) -> None:
    if (work / "bundles" / recipe.name / "configs" / "metadata.json").exists():
        return
    resume = ["--resume"] if (work / "runs" / recipe.name / "checkpoints" / "last.pt").exists() else []
    cli(*train_command(recipe, work), "--overwrite", *resume, threads=threads)


def trained_cases(recipe: Recipe, work: Path) -> dict[str, list[str]]:
    """What ``--val-fold none`` trained on: every training-split case of the recipe's dataset (recorded
    in the bundle by the engine since it records case ids; filled in here for bundles made before)."""
    from BreastUSAITraining.dataset import load_dataset

    items = load_dataset(work / recipe.data).items
    return {"training_case_ids": sorted({i.case_id for i in items if i.split == "training"}), "validation_case_ids": []}


def phantom_test(recipe: Recipe, work: Path) -> str:
    """The synthetic model scored on the phantom test split (never trained on), as one sentence."""
    from BreastUSAITraining.evaluation import evaluate_bundle

    with tempfile.TemporaryDirectory() as out:
        found = evaluate_bundle(work / "bundles" / recipe.name, work / recipe.data, "test", Path(out) / "e", progress=False)
    if recipe.role == "segmentation":
        return f"mean lesion Dice {found['dice']['mean']:.3f} over {found['dice']['n']} volumes"
    return f"AUC {found['auc']:.3f} on {found['lesions']} lesions (reference masks)"


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _result(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def sample_inputs(recipe: Recipe) -> list[str]:
    if "abvs" in recipe.image_kinds:
        return [str(p) for p in sorted((SAMPLES / "phantom").glob("*_abvs.nrrd"))]
    rows = (SAMPLES / "manifest.csv").read_text().splitlines()[1:]
    return [str(SAMPLES / row.split(",")[0]) for row in rows if row.split(",")[0].endswith(".png")]


def _probabilities(models: list[str], inputs: list[str]) -> dict[str, float]:
    from BreastUSAITraining.predict import PredictOptions, predict_inputs

    with tempfile.TemporaryDirectory() as out:
        results, failures = predict_inputs(inputs, PredictOptions(models=models, out=out, device="cpu", progress="none",
                                                                  expect_lesion=True, overlays=False))
    if failures:
        raise RuntimeError(f"predict failed on sample images: {failures}")
    found = {}
    for document in results:
        for lesion in document["lesions"]:
            found[f"{document['input']}:{lesion['id']}"] = -1.0  # the lesion itself: both must find it
            for family in ("classification", "prototype_explanations"):  # by order: the release renames the models
                for number, outcome in enumerate(lesion.get(family, {}).values()):
                    # the network's own probability: the release adds a calibration the trained bundle lacks
                    found[f"{document['input']}:{lesion['id']}:{family}:{number}"] = outcome.get(
                        "uncalibrated_probability", outcome["malignant_probability"])
    return found


def float16_check(recipes: list[Recipe], work: Path, released: dict[str, Path]) -> dict[str, float | str]:
    """Largest |p16 - p32| over the sample images, per image kind, with each kind's models together."""
    differences: dict[str, float | str] = {}
    for kind in sorted({k for r in recipes for k in r.image_kinds}):
        group = [r for r in recipes if kind in r.image_kinds]
        inputs = sample_inputs(group[0])
        full = _probabilities([str(work / "bundles" / r.name) for r in group], inputs)
        half = _probabilities([str(released[r.name]) for r in group], inputs)
        if full.keys() != half.keys():
            raise RuntimeError(f"{kind}: the stored precision changes which lesions are found on the sample images")
        differences[kind] = round(max(abs(full[k] - half[k]) for k in full), 6) if full else 0.0
    return differences


#: role -> the cross-validation whose out-of-fold predictions calibrate the shipped model, and its command
CALIBRATED_BY = {"classifier": ("release_classifier_cv", "benchmarks/release_classifier_cv.py"),
                 "prototypes": ("release_mupnet_cv", "benchmarks/release_classifier_cv.py --model bmode-mupnet")}


def release_calibration(recipe: Recipe) -> dict[str, Any] | None:
    """Temperature scaling fitted on the recipe's out-of-fold predictions (None until its five-fold CV exists)."""
    if recipe.synthetic_only or recipe.role not in CALIBRATED_BY:
        return None
    name, command = CALIBRATED_BY[recipe.role]
    cv = _result(name)
    if not cv or not cv.get("release_temperature") or len(cv.get("folds_done", [])) < 5:
        return None
    return {"method": "temperature", "temperature": cv["release_temperature"],
            "fitted_on": f"out-of-fold predictions of the recipe's 5-fold cross-validation ({command})"}


def package(recipes: list[Recipe], work: Path) -> None:
    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.bundle.release import package_release

    sys.path.insert(0, str(ROOT / "tools"))
    from model_cards import write_card

    commit = _commit()
    released: dict[str, Path] = {}
    for recipe in recipes:
        source = work / "bundles" / recipe.name
        command = "python -m BreastUSAITraining " + " ".join(train_command(recipe, Path("release_work")))
        calibration = release_calibration(recipe)
        release = {"command": command, "made_by": "python tools/release_models.py (make models)", "commit": commit,
                   "recipe": list(recipe.train), "image_kinds": list(recipe.image_kinds), "role": recipe.role}
        if recipe.synthetic_only:
            release["phantom_test"] = phantom_test(recipe, work)
        target = MODELS / recipe.name
        bundle = load_bundle(source)
        card = write_card(recipe, bundle.metadata, release, calibration, {}, "(computed at packaging)")
        package_release(source, target, card, release, half=True, synthetic_only=recipe.synthetic_only, name=recipe.name,
                        calibration=calibration, half_parts=recipe.float16, training_data=trained_cases(recipe, work))
        released[recipe.name] = target
    checks = float16_check(recipes, work, released)
    for recipe in recipes:
        target = released[recipe.name]
        meta = json.loads((target / "configs" / "metadata.json").read_text())
        kind_check = {k: v for k, v in checks.items() if k in recipe.image_kinds}
        release = {**meta["release"], "float16_max_probability_difference": kind_check}
        calibration = json.loads((target / "configs" / "inference.json").read_text()).get("calibration")
        card = write_card(recipe, meta, release, calibration, kind_check, meta["weights_sha256"])
        package_release(work / "bundles" / recipe.name, target, card, release, half=True,
                        synthetic_only=recipe.synthetic_only, name=recipe.name, calibration=calibration,
                        half_parts=recipe.float16, training_data=trained_cases(recipe, work))
        final = json.loads((target / "configs" / "metadata.json").read_text())
        if final["weights_sha256"] != meta["weights_sha256"]:
            raise RuntimeError(f"{target}: weights changed between the two packaging passes")
        for kind, value in kind_check.items():
            if isinstance(value, float) and value > FLOAT16_TOLERANCE:
                raise RuntimeError(f"{recipe.name}: float16 changes a probability by {value:.5f} on {kind} samples")
    catalogue = {"models": [{"folder": r.name, "image_kinds": list(r.image_kinds), "role": r.role,
                             "synthetic_only": r.synthetic_only, "summary": r.summary} for r in RECIPES
                            if (MODELS / r.name / "configs" / "metadata.json").exists()]}
    from BreastUSAITraining.atomic import write_json_atomic

    write_json_atomic(MODELS / "catalogue.json", catalogue)
    print(f"catalogue: {len(catalogue['models'])} models in {MODELS}")


def refresh_cards(recipes: list[Recipe], models: Path = MODELS) -> None:
    """Rewrite the shipped bundles' cards (README.md) and calibration from today's benchmark results, weights
    untouched: a model whose five-fold CV now gives a temperature gets it in ``configs/inference.json``; the
    changed files' sha256 in ``configs/metadata.json`` follow, every other file stays as released."""
    from BreastUSAITraining.atomic import write_json_atomic, write_text_atomic
    from BreastUSAITraining.bundle.bundle import sha256_of

    sys.path.insert(0, str(ROOT / "tools"))
    from model_cards import write_card

    for recipe in recipes:
        target = models / recipe.name
        meta = json.loads((target / "configs" / "metadata.json").read_text())
        release = meta["release"]
        inference = json.loads((target / "configs" / "inference.json").read_text())
        calibration = release_calibration(recipe) or inference.get("calibration")
        if calibration != inference.get("calibration"):
            write_json_atomic(target / "configs" / "inference.json", {**inference, "calibration": calibration})
            meta["files"]["configs/inference.json"] = sha256_of(target / "configs" / "inference.json")
            print(f"{recipe.name}: calibration {calibration['method']} T = {calibration['temperature']}")
        card = write_card(recipe, meta, release, calibration, release.get("float16_max_probability_difference", {}),
                          meta["weights_sha256"])
        write_text_atomic(target / "README.md", card)
        meta["files"]["README.md"] = sha256_of(target / "README.md")
        write_json_atomic(target / "configs" / "metadata.json", meta)
        print(f"{recipe.name}: card rewritten")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "release_work",
                        help="datasets, runs (checkpoints) and trained bundles (default: release_work/)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per training (default: 1)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these models (default: all five)")
    parser.add_argument("--package-only", action="store_true", help="skip data and training; package the trained bundles")
    parser.add_argument("--cards-only", action="store_true",
                        help="only rewrite the shipped models' cards, and the calibration of a model whose five-fold "
                             "cross-validation now gives one, from today's benchmark results (weights untouched)")
    args = parser.parse_args()
    chosen = [r for r in RECIPES if not args.only or r.name in args.only]
    if args.cards_only:
        refresh_cards(chosen)
        return
    if not args.package_only:
        prepare_data(args.work)
        for recipe in chosen:
            train(recipe, args.work, args.threads)
    package(chosen, args.work)


if __name__ == "__main__":
    main()
