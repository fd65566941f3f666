"""The main job on the embedded default (``make demo``): the shipped models on the sample images.

``Resources/SampleData/`` holds ten real B-mode images (BUSI and BUS-BRA, with the
radiologists' outlines, never used to train the shipped models) and one phantom ABVS
volume. ``predict`` runs on them with no ``--model`` (the shipped models that fit each
image's kind), then ``report.html`` shows, per image, the AI's outline against the
reference, the malignant probability and call, the heatmap and MUP-Net's matched
prototype patches, and a table of Dice and AUC on these few images - with the words that
they are ten and prove nothing. No training, no download; under two minutes of CPU.
"""

from __future__ import annotations

import csv
import html
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_json_atomic, write_text_atomic
from .demo_folder import prepare_demo_folder
from .errors import InputFileError
from .shipped import sample_data_folder

MALIGNANT_AT = 0.5


def read_samples(folder: Path) -> list[dict[str, str]]:
    """Rows of the sample manifest: image, mask, dataset, source_id, pathology, birads, scanner."""
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise InputFileError(manifest, "sample data manifest not found")
    with open(manifest, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for column in ("image", "mask"):
            if not (folder / row[column]).is_file():
                raise InputFileError(folder / row[column], "sample file listed in manifest.csv is missing")
    return rows


def _reference_mask(folder: Path, row: dict[str, str], shape_kji: tuple[int, int, int], geometry) -> np.ndarray:
    from .imagefiles import read_image_2d, read_segmentation

    path = folder / row["mask"]
    if path.name.endswith(".seg.nrrd"):
        return read_segmentation(path).on_grid(geometry, shape_kji).union()
    return (read_image_2d(path, colour="grey").array > 0).reshape(shape_kji)


def _dice(found: np.ndarray, reference: np.ndarray) -> float:
    total = found.sum() + reference.sum()
    return float(2.0 * np.logical_and(found, reference).sum() / total) if total else 1.0


def _main_lesion(document: dict[str, Any], found_masks: dict[str, np.ndarray], reference: np.ndarray) -> dict | None:
    """The found lesion that overlaps the reference most (else the most probable one)."""
    lesions = document["lesions"]
    if not lesions:
        return None
    return max(lesions, key=lambda l: (np.logical_and(found_masks[l["id"]], reference).sum(),
                                       l.get("malignant_probability", 0.0)))


def _prototype_patches(lesion: dict[str, Any], bundles: dict[str, Path], out: Path, case: str) -> list[dict[str, Any]]:
    """Copy each matched prototype's training patch out of its bundle (``bundles``: model name ->
    folder) into the report folder."""
    patches = []
    for model, outcome in lesion.get("prototype_explanations", {}).items():
        root = bundles.get(model)
        for modality, matches in outcome["prototypes"].items():
            for name, match in matches.items():
                picture = match.get("patch_image")
                if not (root and picture and (root / picture).is_file()):
                    continue
                target = out / "prototypes" / f"{case}_{name}_{Path(picture).name}"
                target.parent.mkdir(exist_ok=True)
                shutil.copyfile(root / picture, target)
                patches.append({"class": name, "file": str(target.relative_to(out)), "similarity": match["similarity"],
                                "contribution": match["contribution_normalised"],
                                "source_birads": match.get("source_birads")})
    return patches


def analyse(folder: Path, rows: list[dict[str, str]], results: dict[str, dict], out: Path) -> list[dict[str, Any]]:
    """Per sample: Dice against the reference, probabilities, calls, pictures."""
    from .explain.overlay import save_outline_comparison
    from .imagefiles import read_image, read_segmentation
    from .shipped import shipped_models

    bundles = {m.name: m.path for m in shipped_models()}  # the catalogue, read once
    cases = []
    for row in rows:
        name = Path(row["image"]).name
        document = results.get(name)
        case: dict[str, Any] = {"image": row["image"], "dataset": row["dataset"], "truth": row["pathology"],
                                "birads": row.get("birads") or "", "found": 0}
        if document is None:
            case["error"] = "prediction failed"
            cases.append(case)
            continue
        image = read_image(folder / row["image"], colour="grey")
        reference = _reference_mask(folder, row, image.shape_kji, image.geometry)
        result_dir = Path(document["output"])
        found_masks: dict[str, np.ndarray] = {}
        if (result_dir / "lesions.seg.nrrd").exists():
            segmentation = read_segmentation(result_dir / "lesions.seg.nrrd").on_grid(image.geometry, image.shape_kji)
            found_masks = {lesion["id"]: segmentation.segment(lesion["name"]).mask for lesion in document["lesions"]}
        found = np.zeros(image.shape_kji, dtype=bool)
        for mask in found_masks.values():
            found |= mask
        case.update(found=len(document["lesions"]), dice=round(_dice(found, reference), 3),
                    warnings=document.get("warnings", []), message=document.get("message"))
        main = _main_lesion(document, found_masks, reference)
        if main is not None:
            classifier = next(iter(main.get("classification", {}).values()), None)
            mupnet = next(iter(main.get("prototype_explanations", {}).values()), None)
            case.update(lesion=main["id"], probability=main.get("malignant_probability"), call=main.get("prediction"),
                        classifier=classifier and classifier["malignant_probability"],
                        mupnet=mupnet and mupnet["malignant_probability"],
                        below_threshold=bool(document["lesion_source"].get("below_threshold")))
            heat = None
            heat_file = main.get("heatmap", {}).get("file")
            if heat_file and main["heatmap"].get("grid") == "input":
                heat = read_image(result_dir / heat_file).array
            if image.is_2d:
                picture = out / "pictures" / f"{Path(name).stem}.png"
                picture.parent.mkdir(exist_ok=True)
                save_outline_comparison(picture, image.array[0], None if heat is None else heat[0], reference[0], found[0])
                case["picture"] = str(picture.relative_to(out))
            case["sheets"] = [str((result_dir / f).relative_to(out)) for f in main.get("overlays", [])
                              if f.startswith("planes_")]
            case["sheets"] += [str(p.relative_to(out)) for p in sorted(result_dir.glob(f"prototypes_{main['id']}.png"))]
            case["prototypes"] = _prototype_patches(main, bundles, out, Path(name).stem)
        cases.append(case)
    return cases


def figures(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Dice and AUC over the real sample images (the phantom apart)."""
    from .statistics import auc

    real = [c for c in cases if c["dataset"] in ("BUSI", "BUS-BRA") and "dice" in c]
    scored = [c for c in real if c.get("classifier") is not None]
    labels = np.array([c["truth"] == "malignant" for c in scored], dtype=int)
    summary: dict[str, Any] = {
        "real_images": len(real), "mean_dice": round(float(np.mean([c["dice"] for c in real])), 3) if real else None,
        "images_with_a_lesion_found": sum(1 for c in real if c["found"]),
        "images_scored": len(scored),
    }
    for key in ("classifier", "mupnet"):
        values = [c.get(key) for c in scored]
        if scored and all(v is not None for v in values) and 0 < labels.sum() < labels.size:
            summary[f"auc_{key}"] = round(auc(labels, np.array(values, dtype=float)), 3)
            summary[f"correct_calls_{key}"] = int(sum((v >= MALIGNANT_AT) == bool(y) for v, y in zip(values, labels)))
    return summary


def _verdict(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value <= 0.6:
        return f"{value:.3f} - does NOT separate benign from malignant on these images"
    return f"{value:.3f}"


def write_report(out: Path, cases: list[dict[str, Any]], summary: dict[str, Any], seconds: float) -> Path:
    """``report.html``: the summary table, then one block per image."""
    e = html.escape
    rows = [("real sample images (BUSI, BUS-BRA)", str(summary["real_images"])),
            ("mean lesion Dice against the reference outline", str(summary["mean_dice"])),
            ("images where the AI found a lesion", f"{summary['images_with_a_lesion_found']} of {summary['real_images']}"),
            ("AUC of the lesion classifier", _verdict(summary.get("auc_classifier"))),
            ("AUC of B-mode MUP-Net", _verdict(summary.get("auc_mupnet"))),
            ("correct calls at 0.5 (classifier / MUP-Net)",
             f"{summary.get('correct_calls_classifier', 'n/a')} / {summary.get('correct_calls_mupnet', 'n/a')} "
             f"of {summary['images_scored']}"),
            ("time (CPU, this run)", f"{seconds:.0f} s")]
    parts = [
        "<!doctype html><meta charset=utf-8><title>BreastUSAI demo</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}td,th{padding:4px 8px}"
        ".case{border-top:1px solid #999;margin-top:16px}img{max-width:100%}.warn{color:#a00}</style>",
        "<h1>BreastUSAI demo: the shipped models on the sample images</h1>",
        "<p><b>Research use only.</b> Ten real images (6 BUSI, 4 BUS-BRA) that the shipped models never saw in "
        "training, and one synthetic ABVS phantom. <b>Ten images are far too few to judge a model</b>: the figures below "
        "illustrate what a user gets; the models' cards (Resources/Models/*/README.md) give the cross-validated figures. "
        "Outlines: <span style='color:#0a0'>green = reference (radiologist)</span>, "
        "<span style='color:#e90'>orange = AI</span>; colours inside = Grad-CAM heatmap of the classifier's call.</p>",
        "<table border=1>" + "".join(f"<tr><th align=left>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows) + "</table>",
        "<p>Data: BUSI (Al-Dhabyani et al., Data in Brief 2020) and BUS-BRA (Gómez-Flores et al., Medical Physics "
        "2024); see Resources/SampleData/README.md.</p>",
        "<table border=1><tr><th>image</th><th>dataset</th><th>truth</th><th>lesions found</th><th>Dice</th>"
        "<th>classifier p(malignant)</th><th>call</th><th>MUP-Net p</th></tr>",
    ]
    for c in cases:
        probability = "n/a" if c.get("classifier") is None else f"{c['classifier']:.3f}"
        mup = "n/a" if c.get("mupnet") is None else f"{c['mupnet']:.3f}"
        parts.append(f"<tr><td>{e(c['image'])}</td><td>{e(c['dataset'])}</td><td>{e(c['truth'])}</td><td>{c['found']}</td>"
                     f"<td>{c.get('dice', 'n/a')}</td><td>{probability}</td><td>{e(str(c.get('call') or 'no lesion'))}</td>"
                     f"<td>{mup}</td></tr>")
    parts.append("</table>")
    for c in cases:
        parts.append(f"<div class=case><h2>{e(c['image'])} - {e(c['dataset'])}, {e(c['truth'])}"
                     + (f", BI-RADS {e(c['birads'])}" if c["birads"] else "") + "</h2>")
        for warning in c.get("warnings", []):
            parts.append(f"<p class=warn>Warning: {e(warning)}</p>")
        if c.get("below_threshold"):
            parts.append("<p class=warn>No region passed the segmentation threshold; the most probable region is shown.</p>")
        if c.get("picture"):
            parts.append(f"<img src='{e(c['picture'])}' style='max-width:48%'>")
        for sheet in c.get("sheets", []):
            parts.append(f"<img src='{e(sheet)}' style='max-width:48%'>")
        if c.get("prototypes"):
            parts.append("<p>MUP-Net's matched prototypes (patches of training lesions; contribution to the call):</p>")
            for p in c["prototypes"]:
                parts.append(f"<figure style='display:inline-block'><img src='{e(p['file'])}' width=96>"
                             f"<figcaption>{e(p['class'])}: similarity {p['similarity']:.2f}, contribution "
                             f"{p['contribution']:+.2f}</figcaption></figure>")
        parts.append("</div>")
    report = out / "report.html"
    write_text_atomic(report, "\n".join(parts))
    return report


def run_demo(out: str | Path, progress: bool = True) -> dict[str, Any]:
    """Run the demo into ``out``; returns (and saves as demo_result.json) what it produced."""
    from .predict import PredictOptions, predict_inputs

    started = time.perf_counter()
    out = Path(out).resolve()
    folder = sample_data_folder()
    rows = read_samples(folder)
    prepare_demo_folder(out)
    print(f"[1/2] Running the shipped models on {len(rows)} sample images (no --model: chosen by image kind) ...")
    documents, failures = predict_inputs([str(folder / r["image"]) for r in rows],
                                         PredictOptions(models=[], out=str(out / "predictions"),
                                                        progress="bar" if progress else "none"))
    if failures:
        raise InputFileError(folder, "; ".join(message for _, message in failures))
    print("[2/2] Comparing with the reference outlines and writing the report ...")
    cases = analyse(folder, rows, {d["input"]: d for d in documents}, out)
    summary = figures(cases)
    seconds = time.perf_counter() - started
    report = write_report(out, cases, summary, seconds)
    result = {"output": str(out), "report": str(report), "predictions": str(out / "predictions"), "summary": summary,
              "cases": cases, "seconds": round(seconds, 1)}
    write_json_atomic(out / "demo_result.json", result)
    print(f"\nDemo finished in {result['seconds']} s. Output: {out}")
    print(f"Open {report} in a browser. Ten images illustrate; they do not measure (see the model cards).")
    for key, value in summary.items():
        print(f"  {key.replace('_', ' ')}: {value}")
    return result
