"""Regenerate the README's benchmark tables from benchmarks/results/*.json.

    python benchmarks/render_readme_tables.py

Each table sits between ``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->``
markers in README.md; a missing result file leaves its table saying so.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
RESULTS = HERE / "results"


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _machine(m: dict) -> str:
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ", no GPU"
    return f"_Measured {m['date_utc']} UTC on {m['cpu_count']} CPU cores ({m['processor']}), Python {m['python']}, torch {m.get('torch')}{gpu}._"


def table_foundation() -> str:
    data = _load("foundation")
    if data is None:
        return "_No result yet: run `python benchmarks/foundation.py`._"
    s = data["stages"]
    rows = [
        ("Render a full-size ABVS phantom (843 x 546 x 318, 147 MB)", f"{s['abvs_full_render']['seconds']:.1f} s "
         f"({s['abvs_full_render']['slices_per_second']:.1f} slices/s)", f"{s['abvs_full_render']['peak_rss_mb']:.0f} MB"),
        ("Write that volume as compressed NRRD / read it back (geometry checked)",
         f"{s['abvs_full_nrrd_io']['write_seconds']:.1f} s / {s['abvs_full_nrrd_io']['read_seconds']:.1f} s",
         f"{s['abvs_full_nrrd_io']['peak_rss_mb']:.0f} MB"),
        ("Generate a phantom dataset of every modality (16 + 16 lesions)", f"{s['phantom_all_16']['seconds']:.1f} s",
         f"{s['phantom_all_16']['peak_rss_mb']:.0f} MB"),
        (f"Import BUSI ({s['busi_import']['images']} images, {s['busi_import']['lesions']} lesions)",
         f"{s['busi_import']['seconds']:.1f} s ({s['busi_import']['images_per_second']:.0f} images/s)",
         f"{s['busi_import']['peak_rss_mb']:.0f} MB"),
        ("Deep-validate the imported BUSI dataset", f"{s['busi_validate_deep']['seconds']:.2f} s "
         f"({s['busi_validate_deep']['violations']} violations)", f"{s['busi_validate_deep']['peak_rss_mb']:.0f} MB"),
    ]
    lines = ["| task | time | peak RSS |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + "\n\n" + _machine(data["machine"])


def table_setup_time() -> str:
    data = _load("setup_time")
    if data is None:
        return "_No result yet: run `python benchmarks/setup_time.py`._"
    return (f"`make venv` on a fresh clone: **{data['make_venv_seconds']:.0f} s**, "
            f"{data['packages']} packages, {data['venv_mb'] / 1000:.1f} GB. " + _machine(data["machine"]))


def table_predict_speed() -> str:
    """The CPU table, then the GPU one (or a line saying it is still to be measured)."""
    cpu, gpu = _load("predict_speed"), _load("predict_speed_cuda")
    if cpu is None and gpu is None:
        return "_No result yet: run `python benchmarks/predict_speed.py`._"
    parts = [_predict_speed_table(data) for data in (cpu, gpu) if data is not None]
    if gpu is None:
        parts.append("_No GPU figures yet: run `python benchmarks/predict_speed.py --device cuda` on a machine with one._")
    return "\n\n".join(parts)


def _predict_speed_table(data: dict) -> str:
    rows = []
    for key, label in (("image_2d", "2D image (BUSI, real), ResNet50 224 px"),
                       ("image_2d_resnet18", "2D image (BUSI, real), ResNet-18 128 px"),
                       ("abvs_full", "ABVS volume 843 x 546 x 318, three ResNet50 224 px")):
        if key not in data:
            continue
        case = data[key]
        stages = " / ".join(f"{v:.2f}" for v in case["stages_s"].values())
        rows.append(f"| {label} | {stages} | **{case['total_s']:.2f} s** | {case['peak_rss_mb']:.0f} MB |")
    names = " / ".join(data["image_2d"]["stages_s"])
    head = [f"| input ({data['device']}) | {names} (s) | total | peak RSS |", "|---|---|---|---|"]
    device = f"{data['device']}, {data['threads']} threads"
    return "\n".join(head + rows) + f"\n\nModels: {data['models']['segmentation']}; {data['models']['classifier_abvs']} " \
        f"(2D: {data['models']['classifier_2d']}). Device: {device}. " + _machine(data["machine"])


def table_busi_segmentation() -> str:
    data = _load("busi_segmentation")
    if data is None:
        return "_No result yet: run `python benchmarks/busi_segmentation.py`._"
    best = "best epoch (chosen on the test fold)"
    head = [f"| recipe | folds done | images | Dice mean (SD), {best} | Dice mean (SD), last epoch | IoU mean (SD), {best} | "
            f"Dice after post-processing, {best} | Dice, lesion known present, {best} | lesion + background Dice, {best} | "
            f"Dice minus `unet`, last epoch (Wilcoxon over duplicate groups) | per-fold Dice, {best} | training |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    rows = []
    for arch, run in data["runs"].items():
        s, c = run.get("summary"), run["config"]
        if not s:
            continue
        width = f", {c['channels']} ch" if c.get("channels") else ""
        if c["arch"] == "flexunet-effb0":  # rows without the key were trained with MONAI's own 0.01
            width = f", encoder BN momentum {c.get('encoder_bn_momentum', 0.01):g}"
        recipe = (f"{c['arch']}{width}, {c['size']} px, {c['epochs']} epochs, batch {c['batch_size']}, augmentation "
                  f"{c.get('augment_strength', 1.0):g}, {'with' if c.get('normal_images', True) else 'without'} normal images")
        if c.get("warmup"):
            w = c["warmup"]
            recipe = (f"{c['arch']}{width}, {w['epochs']} epochs at {w['size']} px (lr {w['lr']:g}) then {c['epochs']} at "
                      f"{c['size']} px (lr {c['lr']:g}), batch {c['batch_size']}, augmentation {c.get('augment_strength', 1.0):g}, "
                      f"{'with' if c.get('normal_images', True) else 'without'} normal images")
        if c.get("split") == "random":
            recipe += ", **random image-level folds** (near-duplicates may straddle folds)"
        known = f"{s['dice_expect_lesion']['mean']:.3f}" if s.get("dice_expect_lesion") else "-"
        two_class = f"{s['dice_two_class']['mean']:.3f}" if s.get("dice_two_class") else "-"
        v = s.get("versus_unet")
        versus = (f"{v['dice_difference']:+.3f} ({v['images_paired']} images in {v.get('groups_paired', '?')} groups, "
                  f"p = {v['wilcoxon_p']:.2g})" if v else "-")
        last = s.get("dice_last_epoch")
        last = f"**{last['mean']:.3f}** ({last['sd']:.3f})" if last else "-"
        rows.append(f"| {arch}: {recipe} | {len(s['folds_done'])} of 5 | {s['dice']['n']} | "
                    f"{s['dice']['mean']:.3f} ({s['dice']['sd']:.3f}) | {last} | {s['iou']['mean']:.3f} ({s['iou']['sd']:.3f}) | "
                    f"{s['dice_postprocessed']['mean']:.3f} | {known} | {two_class} | {versus} | "
                    f"{', '.join(f'{v:.3f}' for v in s['fold_dice_means'])} | "
                    f"{s['train_minutes_total']:.0f} min on {', '.join(s.get('devices', ['?']))} |")
    paired = ["", "One ingredient at a time, image by image at the final epoch (same images, paired; the p-value treats "
              "each duplicate group as one unit: Wilcoxon signed-rank over the groups' mean differences):", "",
              "| recipe | minus | images (groups) | lesion Dice difference | Wilcoxon p over groups | images missed (Dice < 0.1): "
              "recipe / minus |", "|---|---|---|---|---|---|"]
    paired += [f"| {c['recipe']} | {c['reference']} | {c['images_paired']} ({c.get('groups_paired', '?')}) | "
               f"{c['dice_difference']:+.3f} | {c['wilcoxon_p']:.2g} | "
               f"{c['missed']} / {c['reference_missed']} |" for c in data.get("paired_last_epoch", [])]
    return "\n".join(head + rows + (paired if data.get("paired_last_epoch") else [])) + "\n\n" + _machine(data["machine"])


CI_NOTE = ("95% CIs resample whole duplicate groups (cluster bootstrap, 1000 draws); the Youden thresholds in the JSON "
           "(`*_youden_in_sample`) are tuned on the very lesions they are reported on: in-sample, optimistic.")


def _auc_ci(figures: dict | None, bold: bool = False) -> str:
    """``0.923 (0.894-0.948)`` from pooled figures (``auc``, ``auc_ci95``); "-" when absent."""
    if not figures:
        return "-"
    auc = f"**{figures['auc']:.3f}**" if bold else f"{figures['auc']:.3f}"
    return f"{auc} ({figures['auc_ci95'][0]:.3f}-{figures['auc_ci95'][1]:.3f})"


def table_busi_classification() -> str:
    data = _load("busi_classification")
    if data is None or not data.get("runs"):
        return "_No result yet: run `python benchmarks/busi_classification.py`._"
    head = ["| variant | folds done | lesions (malignant) | AUC (95% CI), best epoch (chosen on the test fold) | with flip "
            "TTA, best epoch (chosen on the test fold) | last epoch, with flip TTA | sens / spec at 0.5 (TTA, last epoch) | AUC minus full, last epoch "
            "with TTA (p permuting duplicate groups) | training |",
            "|---|---|---|---|---|---|---|---|---|"]
    rows = []
    for variant, run in data["runs"].items():
        s, c = run["summary"], run["config"]
        plain, tta = s["without_tta"], s["with_tta"]
        recipe = (f"mean of {' + '.join(c['ensemble_of'])}" if c.get("ensemble_of") else
                  f"{c['backbone']} {c['size']} px, {c['epochs']} epochs, {'augmentation' if c['augment'] else 'no augmentation'}"
                  + (f", seed {c['seed']}" if c.get("seed") else ""))
        versus = s.get("delong_vs_full", {}).get("last_epoch_with_tta")
        at_half = s.get("last_epoch", {}).get("with_tta", tta)
        last = _auc_ci(s.get("last_epoch", {}).get("with_tta"), bold=True)
        rows.append(f"| {variant}: {recipe} | {len(s['folds_done'])} of 5 | "
                    f"{plain['lesions']} ({plain['malignant']}) | {_auc_ci(plain)} | {_auc_ci(tta)} | {last} | "
                    f"{at_half['sensitivity_0.5']:.3f} / {at_half['specificity_0.5']:.3f} | "
                    + (f"{versus['auc_difference']:+.3f}, p = {versus['p_value']:.2f} | " if versus else "- | ")
                    + f"{s['train_minutes_total']:.0f} min on {', '.join(s['devices'])} |")
    return "\n".join(head + rows) + "\n\n" + CI_NOTE + "\n\n" + _machine(data["machine"])


def table_busi_mupnet() -> str:
    data = _load("busi_mupnet")
    if data is None:
        return "_No result yet: run `python benchmarks/busi_mupnet.py`._"
    s, c = data["summary"], data["config"]
    last = s.get("last_epoch", {})
    m = s["mupnet"]
    head = ["| model | folds | lesions (malignant) | AUC (95% CI), best epoch (chosen on the test fold) | AUC (95% CI), "
            "last epoch | sens / spec at 0.5, best epoch (chosen on the test fold) | training |",
            "|---|---|---|---|---|---|---|"]
    rows = [f"| MUP-Net (M = 1, {c['backbone']}, {c['prototypes']} prototypes, {c['size']} px, {c['epochs']} epochs) | "
            f"{len(s['folds_done'])} of 5 | {m['lesions']} ({m['malignant']}) | {_auc_ci(m)} | {_auc_ci(last.get('mupnet'), True)} | "
            f"{m['sensitivity_0.5']:.3f} / {m['specificity_0.5']:.3f} | "
            f"{s['train_minutes_total']:.0f} min on {', '.join(s['devices'])} |"]
    if "plain_classifier" in s:
        p = s["plain_classifier"]
        pc = p["config"]
        rows.append(f"| plain {pc['backbone']} ({pc['size']} px, {pc['epochs']} epochs, busi_classification `full`) | same | "
                    f"{p['lesions']} ({p['malignant']}) | {_auc_ci(p)} | {_auc_ci(last.get('plain_classifier'), True)} | "
                    f"{p['sensitivity_0.5']:.3f} / {p['specificity_0.5']:.3f} | see above |")
    rows.append("")
    for label, figures in (("best epoch (chosen on the held-out fold)", s), ("last epoch (nothing chosen)", last)):
        d = figures.get("delong_mupnet_vs_plain")
        if d:
            rows.append(f"Paired comparison, MUP-Net minus plain classifier, {d['lesions_paired']} lesions, {label}: "
                        f"difference {d['difference']:+.3f}, **p = {d['p_value']:.3f}** "
                        f"({d.get('p_value_method', 'DeLong')}).")
    return "\n".join(head + rows) + "\n\n" + CI_NOTE + "\n\n" + _machine(data["machine"])


def table_family_speed() -> str:
    data = _load("family_speed")
    if data is None:
        return "_No result yet: run `python benchmarks/family_speed.py`._"
    parts = []
    for device, entry in data["devices"].items():
        lines = [f"| family ({device}) | training images/s | prediction ms per lesion |", "|---|---|---|"]
        lines += [f"| {f['what']} | {f['train_images_per_s']:.1f} | {f['predict_latency_ms']:.0f} |" for f in entry["families"].values()]
        threads = entry["machine"].get("torch_threads")
        parts.append("\n".join(lines) + f"\n\n{threads} torch thread(s). " + _machine(entry["machine"]))
    if "cuda" not in data["devices"]:
        parts.append("_No GPU was lent to this session: GPU figures not measured yet "
                     "(`python benchmarks/family_speed.py --device cuda`)._")
    return "\n\n".join(parts)


def table_reliability() -> str:
    data = _load("reliability")
    if data is None:
        return "_No result yet: run `make reliability`._"
    c = data["categories"]
    fuzz = c["fuzzed inputs"]["details"]
    kills = c["killed runs"]["details"]
    memory = c["load"]["details"]["memory"]
    writers = c["load"]["details"]["two_writers"]
    privacy = c["privacy"]["details"]
    rows = [
        ("fuzzed inputs", c["fuzzed inputs"], f"{fuzz['refused']} refused with the documented error, {fuzz['accepted']} read "
         f"correctly; {len(fuzz['mutations'])} mutation kinds over NRRD, NIfTI, MetaImage, PNG/JPEG, DICOM, .seg.nrrd, "
         f"dataset.json and bundles; {fuzz['predict_runs']} through `predict`; slowest case {fuzz['slowest_case_s']:.1f} s"),
        ("killed runs (SIGKILL)", c["killed runs"], f"training {kills['training']['kills']} kills, "
         f"{kills['training']['runs_with_identical_weights']}/{kills['training']['runs']} resumed runs bit-identical to an "
         f"uninterrupted one; predict {kills['predict']['kills']}, Slicer export {kills['export']['kills']}: old or new "
         "output, never partial"),
        ("tampered / hostile models", c["tampered / hostile models"], "changed weights / config, resealed pickle payloads "
         "(never ran), path and symlink escapes, missing weights"),
        ("hostile datasets", c["hostile datasets"], "`../`, absolute and symlinked paths, duplicates, a patient in two "
         "splits, values outside the schema"),
        ("privacy", c["privacy"], f"Slicer export + `dataset import-images` of identified DICOM: "
         f"{privacy['slicer_export']['files_scanned'] + privacy['dataset_import']['files_scanned']} files scanned for "
         f"{privacy['slicer_export']['identifiers_checked']} identifier strings, none found; every source flagged with burned-in "
         f"annotation named in a warning ({privacy['slicer_export'].get('burned_in_warnings', 0) + privacy['dataset_import'].get('burned_in_warnings', 0)})"),
        ("load", c["load"], f"{memory['inputs']} predictions in one process: RSS {memory['rss_at_warmup_mb']:.0f} MB after "
         f"warm-up, +{100 * memory['growth_after_warmup']:.2f}% at most; two writers in one folder x {writers['rounds']} rounds: "
         f"{'whole' if writers['held'] else 'PROBLEMS'}"),
    ]
    lines = ["| category | tried | held | what |", "|---|---|---|---|"]
    lines += [f"| {name} | {cat['tried']} | {cat['held']} | {what} |" for name, cat, what in rows]
    return "\n".join(lines) + f"\n\nSeed {data['seed']}. " + _machine(data["machine"])


def table_encoder_momentum() -> str:
    """Short phantom trainings at both FlexibleUNet encoder momenta, then the estimate on BUSI."""
    short = _load("short_training_momentum")
    busi = _load("busi_segmentation_bn_momentum_flexunet-effb0-128px-60ep")
    parts = []
    if short is None:
        parts.append("_No result yet: run `python benchmarks/short_training_momentum.py`._")
    else:
        epochs = list(range(5, short["epochs"] + 1, 5))
        head = [f"| run ({short['cases']} phantom B-mode cases, {short['size']} px, batch {short['batch_size']}) | "
                f"validation Dice at epoch {' / '.join(map(str, epochs))} | best |", "|---|---|---|"]
        rows = []
        for name, run in short["runs"].items():
            trajectory = " / ".join(f"{run['validation_dice'][e - 1]:.2f}" for e in epochs)
            rows.append(f"| {name} | {trajectory} | {run['best']:.3f} |")
        parts.append("\n".join(head + rows) + "\n\n" + _machine(short["machine"]))
    if busi is None:
        parts.append("_No result yet: run `python benchmarks/busi_segmentation_bn_momentum.py`._")
    else:
        s = busi["summary"]
        parts.append("\n".join([
            "| BUSI recipe, final epoch | images | lesion Dice, statistics as trained (0.01) | lesion Dice, encoder "
            f"statistics rebuilt at {busi['momentum']:g} | difference (Wilcoxon p) | largest change, one image | "
            "missed (Dice < 0.1) |", "|---|---|---|---|---|---|---|",
            f"| {busi['recipe']} (folds {', '.join(map(str, busi['folds']))}) | {s['images']} | "
            f"{s['dice']['stored']['mean']:.3f} | {s['dice']['rebuilt']['mean']:.3f} | {s['rebuilt_minus_stored']:+.3f} "
            f"(p = {s['wilcoxon_p']:.2g}) | {s['largest_change']:.2f} | {s['missed']['stored']} / {s['missed']['rebuilt']} |"])
            + "\n\n" + _machine(busi["machine"]))
    return "\n\n".join(parts)


def _ci95(figures: dict) -> str:
    return f"{figures['auc']:.3f} ({figures['auc_ci95_cluster'][0]:.3f}-{figures['auc_ci95_cluster'][1]:.3f})"


def _p_text(p: float) -> str:
    """``< 0.0001`` for a p-value stored as 0 after rounding, else ``= 0.012``."""
    return "< 0.0001" if p < 1e-4 else f"= {p:.2g}"


def _dice_ci(figures: dict) -> str:
    ci = figures.get("dice_ci95_cluster")
    return f"{ci[0]:.3f}-{ci[1]:.3f}" if ci else "-"


def _groups_better(f: dict) -> str:
    """Which way the Wilcoxon leans: groups better with each recipe, and the median group difference."""
    if "groups_shipped_better" not in f:
        return "-"
    return f"{f['groups_shipped_better']} / {f['groups_reference_better']} ({f['median_group_difference']:+.3f})"


def _against_plain_reference(comparison: dict) -> str:
    """The shipped segmentation recipe minus the plain 256 px reference, image by image."""
    rows = ["| shipped recipe minus plain reference | images (linked groups) | lesion Dice, shipped / reference | difference "
            "(95% CI, cluster bootstrap) | Wilcoxon p over groups | groups better, shipped / reference (median group "
            "difference) | missed, shipped / reference |", "|---|---|---|---|---|---|---|"]
    for name, f in comparison["per_site"].items():
        low, high = f["difference_ci95_cluster"]
        rows.append(f"| {name} | {f['images']} ({f['groups']}) | {f['dice_shipped']:.3f} / {f['dice_reference']:.3f} | "
                    f"{f['difference']:+.3f} ({low:+.3f} to {high:+.3f}) | {_p_text(f['wilcoxon_p_groups'])} | "
                    f"{_groups_better(f)} | {f['missed_shipped']} / {f['missed_reference']} |")
    return ("\n".join(rows) + f"\n\nPlain reference (`python benchmarks/release_segmentation_cv.py --recipe plain-reference`: "
            f"`{' '.join(comparison['reference_recipe'])}`) on folds {comparison['folds']}, the same held-out images, final "
            "epoch of both.")


def _release_goals(cls: dict | None, seg: dict | None) -> str:
    """Issue 19's goals against today's figures, in words (generated: no hand-typed number)."""
    lines = ["Goals of issue 19, as measured so far:"]
    crops = (seg or {}).get("classifier_crops")
    if crops:
        automatic = crops["automatic"]["auc"]
        verdict = "met" if automatic >= 0.93 else f"**not met** (gap {0.93 - automatic:.3f})"
        lines.append(f"classifier AUC on **automatic-segmentation** crops >= 0.93 - {verdict}: {automatic:.3f} on the "
                     f"held-out lesions of fold(s) {crops['folds']} ({crops['reference']['auc']:.3f} on reference-mask crops of "
                     "the same lesions); the other folds not measured.")
    if seg:
        dice, folds = seg["per_site"]["all"]["dice"], seg["folds_done"]
        if len(folds) == 5:
            verdict = "met" if dice >= 0.80 else f"**not met** (gap {0.80 - dice:.3f})"
            ci = seg["per_site"]["all"].get("dice_ci95_cluster")
            spread = (f" (95% CI {ci[0]:.3f}-{ci[1]:.3f}" + (", which reaches below 0.80" if ci[0] < 0.80 else "") + ")"
                      if ci else "")
            lines.append(f"Segmentation lesion Dice >= 0.80 over five folds - {verdict}: {dice:.3f}{spread}; the product's "
                         f"own target 0.82 - {'met' if dice >= 0.82 else '**not met**'}.")
        else:
            lines.append(f"Segmentation lesion Dice >= 0.80 over five folds - **not measured**: {dice:.3f} over folds {folds}.")
        comparison = seg.get("against_plain_reference")
        if not comparison:
            lines.append("Beating the plain 256 px reference on the same five folds with fewer missed lesions - **not "
                         "measured** (the reference has not been cross-validated yet).")
        else:
            f = comparison["per_site"]["all"]
            better = f["difference_ci95_cluster"][0] > 0 and f["missed_shipped"] < f["missed_reference"]
            scope = "five folds" if len(comparison["folds"]) == 5 else f"folds {comparison['folds']} only"
            lines.append(f"Beating the plain 256 px reference with fewer missed lesions - "
                         f"{'shown' if better else '**not shown**'} on {scope}: Dice {f['difference']:+.3f} "
                         f"(95% CI {f['difference_ci95_cluster'][0]:+.3f} to {f['difference_ci95_cluster'][1]:+.3f}), missed "
                         f"{f['missed_shipped']} vs {f['missed_reference']}"
                         + (f"; the reference is better on more linked groups ({f['groups_reference_better']} vs "
                            f"{f['groups_shipped_better']}, Wilcoxon {_p_text(f['wilcoxon_p_groups'])})"
                            if f.get("groups_reference_better", 0) > f.get("groups_shipped_better", 0) else "") + ".")
    if cls:
        worse = [name for name, figures in cls["per_site"].items()
                 if figures["calibration"]["ece_after"] > figures["calibration"]["ece_before"]]
        for name in worse:
            c = cls["per_site"][name]["calibration"]
            lines.append(f"The calibration lowers the expected calibration error overall ({cls['all']['calibration']['ece_before']:.3f}"
                         f" -> {cls['all']['calibration']['ece_after']:.3f}) but raises it on {name} ({c['ece_before']:.3f} -> "
                         f"{c['ece_after']:.3f}): one temperature for both sites over-corrects the better-calibrated one.")
    return " ".join(lines)


def _classifier_cv(cv: dict, title: str) -> list[str]:
    """A classifier recipe's out-of-fold figures: AUC per site, calibration, the BUS-BRA BI-RADS 4 question."""
    rows = [f"| {title}, reference-mask crops | lesions (malignant) | AUC (95% CI, cluster bootstrap) | "
            "Brier before / after calibration | ECE before / after |", "|---|---|---|---|---|"]
    for name, figures in [("all", cv["all"]), *cv["per_site"].items()]:
        c = figures["calibration"]
        rows.append(f"| {name} | {figures['lesions']} ({figures['malignant']}) | {_ci95(figures)} | "
                    f"{c['brier_before']:.3f} / {c['brier_after']:.3f} | {c['ece_before']:.3f} / {c['ece_after']:.3f} |")
    per_lesion = cv["per_site"].get("busbra", {}).get("per_lesion_views_averaged")
    if per_lesion:
        rows.append(f"| busbra, per lesion (two views averaged) | {per_lesion['lesions']} ({per_lesion['malignant']}) | "
                    f"{_ci95(per_lesion)} | | |")
    shipped = (f"shipped: T = {cv['release_temperature']}" if len(cv["folds_done"]) == 5 and cv.get("release_temperature")
               else "the shipped model is calibrated once all five folds are done")
    parts = ["\n".join(rows) + f"\n\nFolds {cv['folds_done']}, final epoch of each (nothing chosen on a held-out "
             f"fold); calibration: temperature fitted on the other folds' out-of-fold predictions ({shipped}). "
             + _machine(cv["machine"])]
    four = cv.get("busbra_birads4")
    if four:
        parts.append(f"{title[0].upper()}{title[1:]}, BUS-BRA BI-RADS 4 lesions (biopsy-proven images): AUC {_ci95(four)}, "
                     f"n = {four['lesions']} ({four['malignant']} malignant). Threshold chosen on the other folds for "
                     f"sensitivity >= {four['target_sensitivity']}: **{four['benign_biopsies_spared']} of {four['benign']} "
                     f"benign biopsies spared ({four['spared_fraction']:.1%}, 95% CI "
                     f"{four['spared_fraction_ci95_cluster'][0]:.1%}-{four['spared_fraction_ci95_cluster'][1]:.1%})**, "
                     f"{four['cancers_missed']} of {four['malignant']} cancers missed (sensitivity {four['sensitivity']:.3f}).")
    return parts


def table_release_models() -> str:
    """The shipped models' cross-validated figures (BUSI + BUS-BRA) and their speed for a user."""
    cls, seg, speed = _load("release_classifier_cv"), _load("release_segmentation_cv"), _load("release_demo_speed")
    parts = []
    if cls:
        parts += _classifier_cv(cls, "lesion classifier")
    else:
        parts.append("_Classifier cross-validation not run yet: `python benchmarks/release_classifier_cv.py`._")
    mupnet = _load("release_mupnet_cv")
    if mupnet:
        parts += _classifier_cv(mupnet, "B-mode MUP-Net")
        paired = mupnet.get("against_lesion_classifier")
        if paired:
            parts.append("MUP-Net against the lesion classifier, the same lesions (reference-mask crops, final epochs): " + "; ".join(
                f"{name} {f['auc']:.3f} vs {f['auc_lesion_classifier']:.3f} (difference {f['difference']:+.3f}, p "
                f"{_p_text(f['p_value'])}, {f['lesions']} lesions in {f['groups']} groups)" for name, f in paired["per_site"].items())
                + f"; folds {paired['folds']}, p-values permuting whole linked groups.")
    else:
        parts.append("_MUP-Net cross-validation on BUSI + BUS-BRA not run yet: "
                     "`python benchmarks/release_classifier_cv.py --model bmode-mupnet`._")
    if seg:
        rows = ["| lesion segmentation | images | lesion Dice, mean (95% CI, cluster bootstrap) | median | missed (Dice < 0.1) |",
                "|---|---|---|---|---|"]
        rows += [f"| {name} | {f['images']} | {f['dice']:.3f} ({_dice_ci(f)}) | {f['dice_median']:.3f} | {f['missed']} |"
                 for name, f in seg["per_site"].items()]
        crops = seg.get("classifier_crops")
        text = "\n".join(rows) + f"\n\nSegmentation: folds {seg['folds_done']} of 0-4 done, final epoch. "
        if crops:
            d = crops["automatic_vs_reference"]
            text += (f"Classifier on the held-out lesions of fold(s) {crops.get('folds', [0])} only ({crops['automatic']['lesions']} "
                     "lesions; the classifier CV bundles of the other folds were not kept): **automatic-segmentation crops AUC "
                     f"{_ci95(crops['automatic'])}** against reference-mask crops {_ci95(crops['reference'])} "
                     f"(difference {d['difference']:+.3f}, p {_p_text(d['p_value'])} permuting whole groups; {crops['lesions_not_detected']} "
                     f"lesions not found by the segmentation, classified on the most probable region). ")
        parts.append(text + _machine(seg["machine"]))
        if seg.get("against_plain_reference"):
            parts.append(_against_plain_reference(seg["against_plain_reference"]))
    else:
        parts.append("_Segmentation cross-validation not run yet: `python benchmarks/release_segmentation_cv.py`._")
    cross = _load("release_cross_site")
    if cross and cross.get("directions"):
        names = {"busi": "BUSI", "busbra": "BUS-BRA"}
        rows = ["| across sites: trained on -> scored on | images: lesion Dice (missed) | lesions (malignant) | AUC, reference "
                "crops | AUC, automatic crops |", "|---|---|---|---|---|"]
        for f in cross["directions"].values():
            seg_f, ref, auto = f["segmentation"], f["classifier_reference_crops"], f["classifier_automatic_crops"]
            rows.append(f"| {names[f['trained_on']]} -> {names[f['scored_on']]} | {seg_f['images']}: {seg_f['dice']:.3f} "
                        f"({seg_f['missed']}) | {ref['lesions']} ({ref['malignant']}) | {_ci95(ref)} | {_ci95(auto)} |")
        missing = sorted({"busi-to-busbra", "busbra-to-busi"} - set(cross["directions"]))
        dropped = "; ".join(f"{names[f['trained_on']]} -> {names[f['scored_on']]}: {f['lesions_not_detected']} lesions not "
                            f"found (classified on the most probable region), {f.get('lesions_without_automatic_crop', 0)} "
                            "on images with no region at all (left out of the automatic AUC)"
                            for f in cross["directions"].values())
        parts.append("\n".join(rows) + "\n\nBoth shipped recipes trained on all of one dataset (`--val-fold none`, final epoch), "
                     f"scored on every lesion image of the other (`benchmarks/release_cross_site.py`); {dropped}."
                     + (f" Not measured yet: {', '.join(missing)}." if missing else "") + " " + _machine(cross["machine"]))
    else:
        parts.append("_Across sites (trained on one dataset, scored on the other): not measured yet "
                     "(`python benchmarks/release_cross_site.py`)._")
    parts.append(_release_goals(cls, seg))
    if speed:
        demo, cold, warm = speed["demo"], speed["predict_cold"], speed["predict_warm"]
        parts.append(f"`make demo` (11 sample images, shipped models, {speed['threads']} threads): {demo['wall_s']:.0f} s "
                     f"wall, {demo['cpu_s']:.0f} s CPU, peak {demo['peak_rss_mb']:.0f} MB. `predict` of one BUSI sample "
                     f"image with the default models: **{cold['median_wall_s']:.1f} s cold** (a fresh process: imports and "
                     f"model loading; median of {len(cold['runs'])}), **{warm['median_s']:.2f} s warm** (models loaded; "
                     f"median of {len(warm['runs'])}). " + _machine(speed["machine"]))
    return "\n\n".join(parts)


def table_web_latency() -> str:
    data = _load("web_latency")
    if data is None:
        return "_No result yet: run `python benchmarks/web_latency.py`._"
    image, volume = data["busi_image"], data["abvs_full_volume"]
    runs = lambda entry: ", ".join(f"{s:.2f}" for s in entry["runs_s"])  # noqa: E731
    over = sum(s >= data["goal_2d_s"] for s in image["runs_s"])
    verdict = ("goal met" if image["goal_met"] else "**goal not met**") + (
        f" by the median; {over} of {len(image['runs_s'])} runs took longer" if over else "")
    lines = ["| image | Run AI click -> heatmap on screen, median (runs) | first run (models loading) |", "|---|---|---|",
             f"| BUSI sample `{image['file']}` (2D) | **{image['median_s']:.2f} s** ({runs(image)}); goal < {data['goal_2d_s']:.0f} s: "
             f"{verdict} | {image['warm_up_s']:.1f} s |",
             f"| phantom ABVS volume, full size {' x '.join(str(n) for n in reversed(volume['shape_kji']))} voxels | "
             f"**{volume['median_s']:.1f} s** ({runs(volume)}) | {volume['warm_up_s']:.1f} s |"]
    note = (f"Peak memory (VmHWM): server {data['server_peak_mb']:.0f} MB, background worker {data['worker_peak_mb']:.0f} MB. "
            f"{data['measured']}." + (f" {data['note'][:1].upper()}{data['note'][1:]}." if data.get("note") else ""))
    return "\n".join(lines) + "\n\n" + note + " " + _machine(data["machine"])


TABLES = {"web_latency": table_web_latency, "family_speed": table_family_speed, "reliability": table_reliability, "busi_mupnet": table_busi_mupnet, "busi_classification": table_busi_classification, "foundation": table_foundation, "setup_time": table_setup_time, "predict_speed": table_predict_speed,
          "busi_segmentation": table_busi_segmentation, "encoder_momentum": table_encoder_momentum,
          "release_models": table_release_models}


def main() -> int:
    text = README.read_text()
    for name, render in TABLES.items():
        pattern = re.compile(rf"(<!-- bench:{name}:start -->\n)(?:.*?\n)?(<!-- bench:{name}:end -->)", re.S)
        if not pattern.search(text):
            print(f"README has no markers for {name}", file=sys.stderr)
            return 1
        text = pattern.sub(lambda m: m.group(1) + render() + "\n" + m.group(2), text)
    README.write_text(text)
    print(f"updated {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
