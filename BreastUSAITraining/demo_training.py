"""The training tour on phantom data (``make demo-train``).

Phantom data of every modality -> deep validation, summary and overview -> short CPU
training of the lesion segmentation (2D UNet on ABVS slices) and of the three-plane
classifier -> ``predict`` on the unseen (test-split) ABVS volumes -> a report (markdown
and HTML) with the metrics table, ROC curve, training curves and Grad-CAM overlays.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from .atomic import write_json_atomic, write_text_atomic
from .dataset import load_dataset
from .dataset.summary import format_summary, summarise
from .dataset.validate import validate_dataset_folder
from .demo_folder import prepare_demo_folder
from .errors import DatasetError, UsageError
from .phantom import PhantomSettings, generate_phantom_dataset
from .reports.dataset_overview import plot_dataset_overview

log = logging.getLogger(__name__)

def _evaluate_classifier(bundle: Path, items: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Malignant probability of each test lesion, located by its ground-truth mask."""
    from .bundle import load_bundle
    from .classification.inference import PlaneClassifier
    from .imagefiles import read_image, read_segmentation
    from .training.device import resolve_device

    classifier = PlaneClassifier(load_bundle(bundle), resolve_device("auto"))
    labels, scores = [], []
    for item in items:
        image = read_image(item["image"])
        mask = read_segmentation(item["segmentation"]).on_grid(image.geometry, image.shape_kji).segment(item["segment"]).mask
        scores.append(classifier.classify(classifier.lesion_planes(image, mask))["malignant_probability"])
        labels.append(item["label"])
    return np.array(labels), np.array(scores)


def _segmentation_dice(results: list[dict], cases: list[dict]) -> float:
    from .imagefiles import read_segmentation
    from .segmentation.samples import read_case
    from .segmentation.task import dice_and_iou

    dices = []
    for result, case in zip(results, cases):
        image, truth = read_case(case)
        predicted = np.zeros_like(truth)
        seg_file = Path(result["output"]) / "lesions.seg.nrrd"
        if seg_file.exists():
            predicted = read_segmentation(seg_file).on_grid(image.geometry, image.shape_kji).union()
        dices.append(dice_and_iou(predicted, truth)[0])
    return float(np.mean(dices)) if dices else float("nan")


def _train_2d_families(data_dir: Path, models: Path, epochs: int, seed: int, progress: bool) -> dict[str, Path]:
    """MUP-Net (3 modalities), DL-UM (US + MG) and CLDLR, CPU-sized, on the phantom's 2D images."""
    from .dlum.train import DLUMOptions, train_dlum
    from .mupnet.train import MUPNetOptions, train_mupnet
    from .radiomics.train import DLROptions, train_dlr
    from .training import TrainingSettings

    def settings(name: str, lr: float, optimiser: str, batch_size: int = 16) -> TrainingSettings:
        return TrainingSettings(run_dir=models / f"{name}.run", epochs=epochs, batch_size=batch_size, learning_rate=lr,
                                optimiser=optimiser, seed=seed, progress=progress)

    push_every = max(1, epochs // 2)
    return {
        "MUP-Net (3 modalities)": train_mupnet(data_dir, models / "mupnet", MUPNetOptions(
            size=64, prototypes=6, prototype_dim=32, warmup_epochs=min(2, epochs - 1), push_every=push_every),
            settings("mupnet", 3e-3, "adam")),
        # batch 4: ~28 training lesions give 7 steps an epoch; at 16 (1-2 steps) DL-UM hardly trained and
        # every test lesion got nearly the same probability
        "DL-UM (US + MG)": train_dlum(data_dir, models / "dlum", DLUMOptions(width=0.25, size=64),
                                      settings("dlum", 1e-3, "adam", batch_size=4)),
        "CLDLR (radiomics + clinical)": train_dlr(data_dir, models / "cldlr", DLROptions(kind="cldlr", width=0.25, size=64),
                                                  settings("cldlr", 1e-3, "adam")),
    }


def run_demo(out: str | Path, cases: int = 40, seed: int = 0, progress: bool = True, epochs: int = 8) -> dict:
    """Run the demo into ``out``; returns a dict of what was produced (also saved as JSON)."""
    from .classification.train import PlaneClassifierOptions, train_plane_classifier
    from .dataset.loader import case_dicts, lesion_dicts
    from .evaluation import evaluate_bundle
    from .evaluation.predictions import read_rows_csv
    from .predict import PredictOptions, predict_inputs
    from .reports.demo_report import write_demo_report
    from .reports.roc_plot import plot_roc
    from .segmentation.train import SegmentationOptions, train_segmentation
    from .statistics import auc, bootstrap_auc_ci, threshold_metrics
    from .training import TrainingSettings

    out = Path(out).resolve()
    started = time.perf_counter()
    prepare_demo_folder(out)
    data_dir = out / "phantom_dataset"
    print(f"[1/7] Generating phantom data (all modalities, {cases} lesions + {cases} ABVS lesions, seed {seed}) ...")
    generate_phantom_dataset(data_dir, PhantomSettings(kind="all", cases=cases, seed=seed), progress=progress)
    print("[2/7] Validating the dataset (deep check: every file and geometry) and summarising ...")
    violations = validate_dataset_folder(data_dir, deep=True)
    if violations:
        raise DatasetError(data_dir, violations)
    dataset = load_dataset(data_dir)
    summary = summarise(dataset)
    text = format_summary(summary)
    write_text_atomic(out / "dataset_summary.txt", text + "\n")
    write_json_atomic(out / "dataset_summary.json", summary)
    overview = plot_dataset_overview(dataset, out / "dataset_overview.png")
    print(text)

    models = out / "models"
    print(f"[3/7] Training lesion segmentation (2D UNet on ABVS transverse slices, {epochs} epochs, CPU-sized) ...")
    seg = train_segmentation(data_dir, models / "segmentation", SegmentationOptions(size=64, base_channels=16, modality="abvs"),
                             TrainingSettings(run_dir=models / "segmentation.run", epochs=epochs, batch_size=16,
                                              seed=seed, progress=progress))
    print(f"[4/7] Training the three-plane classifier (ResNet-18 per plane, T+S+C, {epochs + 4} epochs) ...")
    cls = train_plane_classifier(data_dir, models / "three_plane", PlaneClassifierOptions(backbone="resnet18", size=64, frames=3),
                                 TrainingSettings(run_dir=models / "three_plane.run", epochs=epochs + 4, batch_size=8,
                                                  optimiser="adamw", learning_rate=1e-3, seed=seed, progress=progress))
    print(f"[5/7] Training the 2D model families on the lesions' 2D images ({epochs} epochs each): MUP-Net "
          "(B-mode + Doppler + elastography), DL-UM (B-mode + mammography CC), CLDLR (deep radiomics + clinical) ...")
    families = _train_2d_families(data_dir, models, epochs, seed, progress)
    test_cases = [c for c in case_dicts(dataset, "test") if c["modality"] == "abvs"]
    print(f"[6/7] Predicting on {len(test_cases)} unseen ABVS volumes (segment, planes, classify, Grad-CAM) ...")
    results, failures = predict_inputs([c["image"] for c in test_cases],
                                       PredictOptions(models=[str(seg), str(cls)], out=str(out / "predictions"),
                                                      progress="bar" if progress else "none"))
    if failures:
        raise DatasetError(data_dir, [])
    print("[7/7] Evaluating and writing the report ...")
    test_lesions = [i for i in lesion_dicts(dataset, "test") if i["modality"] == "abvs"]
    labels, scores = _evaluate_classifier(cls, test_lesions)
    low, high = bootstrap_auc_ci(labels, scores)
    at_half = threshold_metrics(labels, scores, 0.5)
    metrics = {"test lesions (benign / malignant)": f"{int((labels == 0).sum())} / {int(labels.sum())}",
               "AUC (ground-truth masks)": auc(labels, scores), "AUC 95% CI": f"{low:.3f}-{high:.3f}",
               "sensitivity at 0.5": at_half["sensitivity"], "specificity at 0.5": at_half["specificity"],
               "segmentation Dice (unseen volumes)": _segmentation_dice(results, test_cases),
               "validation Dice / AUC in training": f"{json_load(seg)['metrics']['validation_dice']:.3f} / "
                                                    f"{json_load(cls)['metrics']['validation_auc']:.3f}"}
    curves = {"three-plane (T+S+C), ABVS": (labels, scores)}
    for name, bundle in families.items():
        try:
            evaluated = evaluate_bundle(bundle, data_dir, "test", out / "evaluations" / bundle.name, progress=False)
        except UsageError as error:  # e.g. a tiny test split holding one class only
            metrics[f"{name}: AUC on test lesions"] = f"n/a ({error})"
            continue
        metrics[f"{name}: AUC on test lesions (n = {evaluated['lesions']})"] = evaluated["auc"]
        rows = read_rows_csv(out / "evaluations" / bundle.name / "predictions.csv")
        curves[name] = (np.array([int(r["label"]) for r in rows]), np.array([float(r["probability"]) for r in rows]))
    for key, value in list(metrics.items()):
        if "AUC" in key and isinstance(value, float) and (value != value or value <= 0.6):
            metrics[f"{key}: what it means"] = ("this model does NOT separate benign from malignant here (AUC near or "
                                                "below chance after a few CPU epochs on a handful of phantom lesions); "
                                                "`make demo` shows the trained models")
    roc = plot_roc(out / "roc_test.png", curves, "Unseen phantom lesions (test split)")
    truth = {c["image"]: c["pathology"] for c in test_cases}
    report_cases = [{"input": r["input"], "truth": truth.get(c["image"], "?"),
                     "lesions": [{"id": l["id"], "malignant_probability": l.get("malignant_probability", float("nan")),
                                  "per_plane": next(iter(l.get("classification", {}).values()), {}).get("per_plane", {})}
                                 for l in r["lesions"]]} for r, c in zip(results, test_cases)]
    overlays = [str(p.relative_to(out)) for p in sorted((out / "predictions").glob("*/planes_*.png"))[:6]]
    md, html_report = write_demo_report(out, {
        "steps": "phantom data -> validation -> segmentation and three-plane training (ABVS) -> MUP-Net, DL-UM and CLDLR "
                 "training (2D) -> predict on the test split -> evaluation of every family -> report",
        "metrics": metrics, "roc_png": roc.name, "cases": report_cases, "overlays": overlays,
        "segmentation_curves": "models/segmentation/logs/training_curves.png",
        "classifier_curves": "models/three_plane/logs/training_curves.png"})
    result = {
        "output": str(out),
        "dataset": str(data_dir),
        "summary": str(out / "dataset_summary.txt"),
        "overview_png": str(overview),
        "models": [str(seg), str(cls)] + [str(b) for b in families.values()],
        "evaluations": str(out / "evaluations"),
        "predictions": str(out / "predictions"),
        "report": str(html_report),
        "report_markdown": str(md),
        "metrics": {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in metrics.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_json_atomic(out / "demo_result.json", result)
    print(f"\nDemo finished in {result['seconds']} s. Output: {out}")
    print(json.dumps({k: v for k, v in result.items() if k != "seconds"}, indent=2))
    return result


def json_load(bundle: Path) -> dict:
    return json.loads((Path(bundle) / "configs" / "metadata.json").read_text())
