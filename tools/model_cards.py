"""The model card (``README.md``) of each shipped model, written by ``tools/release_models.py``.

Every figure in a card is read from a committed result file (``benchmarks/results/*.json``)
or from the bundle's own metadata; a figure that has not been measured is said to be
missing, never filled in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from release_recipes import Recipe

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

CITATIONS = """\
- **BUSI**: Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Dataset of breast ultrasound images. *Data in Brief* 28
  (2020) 104863. doi:10.1016/j.dib.2019.104863
- **BUS-BRA**: Gómez-Flores W, Gregorio-Calas MJ, Coelho de Albuquerque Pereira W. BUS-BRA: a breast ultrasound
  dataset for assessing computer-aided diagnosis systems. *Medical Physics* 51(4):3110-3123 (2024).
  doi:10.1002/mp.16812"""

LIMITS_REAL = """\
- **Research use only.** Not a medical device; not for diagnosis, triage or any decision about a patient.
- Trained on two public datasets only (BUSI: one hospital in Cairo, Egypt; BUS-BRA: INCA, Rio de Janeiro,
  Brazil, four scanners). A different scanner, preset, population or way of framing the lesion may lower every
  figure below; the per-site figures show how much a change of site already costs.
- No pixel spacing is known for either dataset: sizes are in pixels, and the model has never learnt physical size.
- No clinical variables (age, history, palpability) are used.
- Known BUSI caveats: near-duplicate images (kept together in every split here), some axillary images, and
  calipers, marks and text drawn on about 300 images, which a network can learn as a shortcut (a marked lesion is
  one a sonographer measured). BUS-BRA does not subdivide BI-RADS 4.
- One 2D image at a time: the two views of a BUS-BRA lesion are scored separately (the cross-validation below
  also gives their mean, per lesion)."""

EXTERNAL = ("The BUSI images and BUS-BRA patients (official fold 5) kept outside `../shared` were never seen in "
            "development; the shipped models will be scored there, and that is where these figures will be confirmed "
            "or corrected.")


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _ci(values: list[float]) -> str:
    return f"{values[0]:.3f}-{values[1]:.3f}"


def _cross_validated(cv: dict[str, Any], command: str) -> list[str]:
    """Out-of-fold AUC (all, per site, BUS-BRA per lesion), calibration before / after and the BI-RADS 4 question."""
    overall, sites = cv["all"], cv["per_site"]
    lines = [
        f"Out-of-fold figures of this exact recipe (`{command}`, folds {cv['folds_done']}, the "
        "**final epoch** of every fold: nothing chosen on a held-out fold), lesions located by their **reference masks**; "
        "95% CIs by cluster bootstrap (whole duplicate groups / patients resampled):", "",
        "| lesions scored | n (malignant) | AUC | 95% CI |", "|---|---|---|---|",
        f"| all | {overall['lesions']} ({overall['malignant']}) | {overall['auc']:.3f} | {_ci(overall['auc_ci95_cluster'])} |"]
    for name, figures in sites.items():
        lines.append(f"| {name} images | {figures['lesions']} ({figures['malignant']}) | {figures['auc']:.3f} | "
                     f"{_ci(figures['auc_ci95_cluster'])} |")
    per_lesion = sites.get("busbra", {}).get("per_lesion_views_averaged")
    if per_lesion:
        lines.append(f"| busbra lesions (two views averaged) | {per_lesion['lesions']} ({per_lesion['malignant']}) | "
                     f"{per_lesion['auc']:.3f} | {_ci(per_lesion['auc_ci95_cluster'])} |")
    calibration = overall["calibration"]
    lines += ["", "**Calibration** (temperature fitted on the other folds' out-of-fold predictions only, then applied "
              "to the held-out fold):", "", "| lesions | Brier before | Brier after | ECE before | ECE after |",
              "|---|---|---|---|---|",
              f"| all | {calibration['brier_before']:.3f} | {calibration['brier_after']:.3f} | "
              f"{calibration['ece_before']:.3f} | {calibration['ece_after']:.3f} |"]
    for name, figures in sites.items():
        c = figures["calibration"]
        lines.append(f"| {name} | {c['brier_before']:.3f} | {c['brier_after']:.3f} | {c['ece_before']:.3f} | "
                     f"{c['ece_after']:.3f} |")
    if cv.get("release_temperature"):
        lines += ["", f"The shipped model divides its logit by **T = {cv['release_temperature']:.3f}**, fitted on all "
                  "out-of-fold predictions (`uncalibrated_probability` in `result.json` keeps the network's own value)."]
    four = cv.get("busbra_birads4")
    if four:
        lines += ["", f"**BI-RADS 4 lesions of BUS-BRA** (biopsy-proven; images): AUC {four['auc']:.3f} "
                  f"({_ci(four['auc_ci95_cluster'])}, n = {four['lesions']}, {four['malignant']} malignant). At a threshold "
                  f"chosen on the other folds' BI-RADS 4 lesions for sensitivity >= {four['target_sensitivity']}, it would "
                  f"have spared {four['benign_biopsies_spared']} of {four['benign']} benign biopsies "
                  f"({four['spared_fraction']:.1%}, 95% CI {_ci(four['spared_fraction_ci95_cluster'])}) and missed "
                  f"{four['cancers_missed']} of {four['malignant']} cancers (sensitivity {four['sensitivity']:.3f})."]
    return lines


def _classifier_figures() -> str:
    cv = _load("release_classifier_cv")
    if not cv:
        return "Cross-validation of this recipe on BUSI + BUS-BRA: **not measured yet** (`benchmarks/release_classifier_cv.py`)."
    lines = _cross_validated(cv, "benchmarks/release_classifier_cv.py")
    lines += ["", _automatic_crops()]
    cross = _cross_site("classifier")
    if cross:
        lines += ["", cross]
    return "\n".join(lines)


def _automatic_crops() -> str:
    """The classifier on crops from the automatic segmentation (segmentation CV folds that had a classifier)."""
    seg = _load("release_segmentation_cv")
    crops = (seg or {}).get("classifier_crops")
    if not crops:
        return ("**AUC on crops from the automatic segmentation** (what a user actually gets): **not measured yet** "
                "(`benchmarks/release_segmentation_cv.py`).")
    automatic, reference = crops["automatic"], crops["reference"]
    verdict = "goal >= 0.93 met" if automatic["auc"] >= 0.93 else f"**goal >= 0.93 not met** (gap {0.93 - automatic['auc']:.3f})"
    return (f"**AUC on crops from the automatic segmentation** (what a user actually gets; folds {crops['folds']} of the "
            f"segmentation cross-validation, each fold's segmentation and classifier trained without it): "
            f"**{automatic['auc']:.3f}** ({_ci(automatic['auc_ci95_cluster'])}, {automatic['lesions']} lesions, "
            f"{crops['lesions_not_detected']} not found by the segmentation and classified from its most probable region) "
            f"against {reference['auc']:.3f} ({_ci(reference['auc_ci95_cluster'])}) on the reference crops of the same "
            f"lesions: {verdict}. Folds not listed are not measured.")


def _cross_site(part: str) -> str:
    """Trained on one site, scored on the other (``benchmarks/release_cross_site.py``), for ``part``."""
    cross = _load("release_cross_site")
    if not cross or not cross.get("directions"):
        return "**Across sites** (trained on one dataset, scored on the other): **not measured yet** (`benchmarks/release_cross_site.py`)."
    names = {"busi": "BUSI", "busbra": "BUS-BRA"}
    if part == "segmentation":
        lines = ["**Across sites** (this recipe trained on all of one dataset, final epoch, scored on every lesion image of "
                 "the other; `benchmarks/release_cross_site.py`):", "", "| trained on -> scored on | images | lesion Dice | missed |",
                 "|---|---|---|---|"]
        for figures in cross["directions"].values():
            seg = figures["segmentation"]
            lines.append(f"| {names[figures['trained_on']]} -> {names[figures['scored_on']]} | {seg['images']} | "
                         f"{seg['dice']:.3f} | {seg['missed']} |")
    else:
        lines = ["**Across sites** (this recipe and the segmentation's trained on all of one dataset, final epoch, scored on "
                 "every lesion of the other; `benchmarks/release_cross_site.py`; cluster-bootstrap CIs):", "",
                 "| trained on -> scored on | lesions (malignant) | AUC, reference crops | AUC, automatic crops |",
                 "|---|---|---|---|"]
        for figures in cross["directions"].values():
            ref, auto = figures["classifier_reference_crops"], figures["classifier_automatic_crops"]
            lines.append(f"| {names[figures['trained_on']]} -> {names[figures['scored_on']]} | {ref['lesions']} "
                         f"({ref['malignant']}) | {ref['auc']:.3f} ({_ci(ref['auc_ci95_cluster'])}) | {auto['auc']:.3f} "
                         f"({_ci(auto['auc_ci95_cluster'])}) |")
    if part != "segmentation":
        lines += [""] + [f"{names[f['trained_on']]} -> {names[f['scored_on']]}: {f['lesions_not_detected']} lesions not found by "
                         f"the segmentation (classified on its most probable region), {f.get('lesions_without_automatic_crop', 0)} "
                         "on images where it gives no region at all (left out of the automatic-crop AUC)."
                         for f in cross["directions"].values()]
    missing = {"busi-to-busbra", "busbra-to-busi"} - set(cross["directions"])
    if missing:
        lines += ["", "Not measured yet: " + ", ".join(sorted(missing)) + "."]
    return "\n".join(lines)


def _segmentation_figures() -> str:
    cv = _load("release_segmentation_cv")
    if not cv:
        return ("Cross-validation of this recipe on BUSI + BUS-BRA: **not measured yet** "
                "(`benchmarks/release_segmentation_cv.py`; five folds cost about 3.5 CPU hours here). Until then the only "
                "figures on unseen images are those `make demo` prints on the ten sample images, which are far too few "
                "to judge a model.")
    lines = [f"Lesion Dice at the **final epoch**, out-of-fold (folds {cv['folds_done']}, `benchmarks/release_segmentation_cv.py`):",
             "", "| images | n | lesion Dice (mean, 95% CI resampling whole linked groups) | missed (Dice < 0.1) |",
             "|---|---|---|---|"]
    for name, figures in cv["per_site"].items():
        ci = figures.get("dice_ci95_cluster")
        lines.append(f"| {name} | {figures['images']} | {figures['dice']:.3f}" + (f" ({_ci(ci)})" if ci else "") +
                     f" | {figures['missed']} |")
    done, dice = len(cv["folds_done"]), cv["per_site"]["all"]["dice"]
    lines += ["", ("Goal lesion Dice >= 0.80 over five folds: " + (
        (f"met, {dice:.3f} over the five folds" if dice >= 0.80 else f"**not met**, {dice:.3f} over the five folds") +
        " (the product's own target, 0.82, is " + ("met)." if dice >= 0.82 else "**not met**).") if done == 5 else
        f"**not measured on all five folds** ({done} of 5 done).")),
        "", _against_plain_reference(cv.get("against_plain_reference")), "", _cross_site("segmentation")]
    return "\n".join(lines)


def _against_plain_reference(comparison: dict[str, Any] | None) -> str:
    """This recipe minus the plain 256 px reference, image by image on the folds both have."""
    if not comparison:
        return ("Against the plain 256 px reference of issue 19 (MONAI UNet, 30 epochs, flips only, no normal images, "
                "remade on the same folds): **not measured** (about 110 minutes per fold here on one thread; "
                "`benchmarks/release_segmentation_cv.py --recipe plain-reference`).")
    lines = [f"Against the plain 256 px reference of issue 19 (MONAI UNet, 30 epochs, flips only, no normal images) "
             f"remade on folds {comparison['folds']} (`benchmarks/release_segmentation_cv.py --recipe plain-reference`), "
             "the same held-out images, paired; 95% CI resampling whole linked groups, Wilcoxon over the groups:", "",
             "| images | n (groups) | lesion Dice, this / reference | difference (95% CI) | p | groups better, this / "
             "reference (median group difference) | missed, this / reference |",
             "|---|---|---|---|---|---|---|"]
    for name, f in comparison["per_site"].items():
        low, high = f["difference_ci95_cluster"]
        better = (f"{f['groups_shipped_better']} / {f['groups_reference_better']} ({f['median_group_difference']:+.3f})"
                  if "groups_shipped_better" in f else "-")
        lines.append(f"| {name} | {f['images']} ({f['groups']}) | {f['dice_shipped']:.3f} / {f['dice_reference']:.3f} | "
                     f"{f['difference']:+.3f} ({low:+.3f} to {high:+.3f}) | {f['wilcoxon_p_groups']:.2g} | {better} | "
                     f"{f['missed_shipped']} / {f['missed_reference']} |")
    if len(comparison["folds"]) < 5:
        lines += ["", f"Only {len(comparison['folds'])} of the five folds compared so far."]
    return "\n".join(lines)


def _mupnet_figures(calibration: dict[str, Any] | None) -> str:
    cv = _load("release_mupnet_cv")
    busi = _load("busi_mupnet")
    lines = (_cross_validated(cv, "benchmarks/release_classifier_cv.py --model bmode-mupnet") + [""] if cv else
             ["Cross-validation of this recipe on BUSI + BUS-BRA: **not measured yet** "
              "(`benchmarks/release_classifier_cv.py --model bmode-mupnet`).", ""])
    paired = (cv or {}).get("against_lesion_classifier")
    if paired:
        lines += ["Against the shipped lesion classifier's recipe on the same lesions (its cross-validation, final epochs, "
                  f"folds {paired['folds']}; p-values permuting whole linked groups): " + "; ".join(
                      f"{name}: AUC {f['auc']:.3f} vs {f['auc_lesion_classifier']:.3f}, difference {f['difference']:+.3f}, "
                      f"p = {f['p_value']:.2g} ({f['lesions']} lesions)" for name, f in paired["per_site"].items()) + ".", ""]
    if busi and busi.get("summary", {}).get("last_epoch"):
        last = busi["summary"]["last_epoch"]
        config = busi["config"]
        lines.append(
            f"The same recipe (ResNet-18, {config['size']} px, {config['epochs']} epochs, {config['warmup']} warm-up, push "
            f"every {config['push_every']}, {config['prototypes']} prototypes) cross-validated on **BUSI alone** "
            f"(`benchmarks/busi_mupnet.py`, 5 duplicate-aware folds, final epoch): AUC {last['mupnet']['auc']:.3f} "
            f"({_ci(last['mupnet']['auc_ci95'])}, {last['mupnet']['auc_ci_method']}, n = {last['mupnet']['lesions']}) "
            f"against {last['plain_classifier']['auc']:.3f} for a plain ResNet-18 on the same lesions (p = "
            f"{last['delong_mupnet_vs_plain']['p_value']:.2f}, {last['delong_mupnet_vs_plain']['p_value_method']}). "
            "BUSI alone says little about a new site: see the " + ("per-site figures above." if cv else
                                                                    "lesion classifier's per-site figures."))
    if not calibration:
        lines.append("Not calibrated (no cross-validation on both datasets yet): read its probability as a ranking.")
    return "\n".join(lines)


def _phantom_figures(meta: dict[str, Any]) -> str:
    test = meta.get("release", {}).get("phantom_test")
    text = ("Trained and scored on **synthetic phantom volumes only** (`phantom --kind abvs`); no public ABVS data "
            "exists here. It shows the ABVS path (segmentation, planes, three-plane fusion, heatmaps) working; its output "
            "says nothing about a real patient, and `predict` prints a warning whenever it runs.")
    if test:
        text += f" On the phantom test split (never trained on): {test}."
    return text


def write_card(recipe: Recipe, meta: dict[str, Any], release: dict[str, Any], calibration: dict[str, Any] | None,
               float16: dict[str, Any], weights_sha256: str) -> str:
    """The card's markdown."""
    data = meta.get("training", {}).get("data", {})
    training = meta.get("training", {})
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in data.items()
                       if isinstance(v, int) and not isinstance(v, bool) and v)
    figures = (_phantom_figures(meta) if recipe.synthetic_only else
               _segmentation_figures() if recipe.role == "segmentation" else
               _mupnet_figures(calibration) if recipe.role == "prototypes" else _classifier_figures())
    precision = ", ".join(f"{k}: {v if isinstance(v, str) else f'{v:.2g}'}" for k, v in float16.items()) or "not checked"
    parts = [
        f"# {recipe.name}" + (" (SYNTHETIC ONLY)" if recipe.synthetic_only else ""), "", recipe.summary, "",
        "## Intended use", "",
        ("Demonstration of the ABVS pipeline on phantom volumes. **Never for a real image.**" if recipe.synthetic_only else
         "Research on breast-ultrasound AI: a second look at a B-mode image in 3D Slicer or with "
         "`predict`. **Not a medical device; research use only.**"), "",
        "## Training data", "",
        (f"{data.get('dataset', '?')}: {counts}." if counts else f"{data.get('dataset', '?')}."),
        "" if recipe.synthetic_only else
        "Every development image of BUSI (626 images, 530 lesions) and BUS-BRA (1,492 images, 852 patients) except the "
        "ten sample images in `Resources/SampleData/` and every image linked to them (same duplicate group or patient); "
        "all folds train (`--val-fold none`), the final epoch is kept (`--keep last`).",
        "", "## Recipe and the command that remakes it", "",
        "`make models` (`tools/release_models.py`) runs, after importing and merging the data:", "",
        f"    {release['command']}", "",
        f"Trained on {training.get('device', '?')} in {training.get('seconds', 0) / 60:.0f} min "
        f"({training.get('epochs_run', '?')} epochs, mixed precision {training.get('mixed_precision', 'off')}, engine "
        f"{training.get('software', {}).get('engine', '?')}); packaged at commit `{release.get('commit', '?')[:12]}`.", "",
        "## Figures", "", figures, "",
        "## Weights", "",
        f"{release.get('weights_dtype', 'float32')} (`models/model.pt`, {release.get('weights_megabytes', '?')} MB, read with "
        f"`torch.load(weights_only=True)`, sha256 `{weights_sha256}`; every file's sha256 is in `configs/metadata.json` "
        "and checked on load). Against the float32 training result, the stored weights find the same lesions on the "
        f"sample images and change no probability by more than 1e-3 (largest difference - {precision}); where float16 "
        "did more (the segmentation outlines, MUP-Net's early layers), those weights stay float32.", "",
    ]
    if calibration:
        parts += [f"Calibration: {calibration['method']} scaling, T = {calibration['temperature']:.3f}, fitted on "
                  f"{calibration['fitted_on']}.", ""]
    if not recipe.synthetic_only:
        parts += ["## Limits", "", LIMITS_REAL, "", "## Where these figures will be confirmed", "", EXTERNAL, "",
                  "## Data and citations", "", "Cite both datasets wherever this model's results are reported:", "",
                  CITATIONS, ""]
    return "\n".join(parts)
