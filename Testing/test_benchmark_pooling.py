"""The cross-validation benchmarks pool their fold files correctly: named recipes stay apart,
the two-model ensemble is the lesion-for-lesion mean, and the paired DeLong compares the
same lesions (fold files written to disk, as the benchmarks write them)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import busi_classification  # noqa: E402
import busi_segmentation  # noqa: E402
import render_readme_tables  # noqa: E402

from BreastUSAITraining.statistics import auc, delong_test  # noqa: E402


def _classification_fold(folder: Path, variant: str, fold: int, config: dict, rng: np.random.Generator) -> list[dict]:
    lesions = []
    for n in range(30):
        label = int(n % 3 == 0)
        p = float(np.clip(0.35 * label + rng.uniform(0, 0.65), 0, 1))
        lesions.append({"case_id": f"case_{fold}_{n:02d}", "lesion_id": "lesion_1", "label": label, "probability": p,
                        "probability_tta": float(np.clip(p + rng.normal(0, 0.05), 0, 1))})
    record = {"variant": variant, "config": config, "fold": fold, "machine": {"gpu": None}, "train_seconds": 60.0,
              "best_epoch": 3, "device": "cpu (1 threads)", "lesions": lesions}
    (folder / f"{variant}_fold{fold}.json").write_text(json.dumps(record))
    return lesions


def test_classification_ensemble_and_paired_delong(tmp_path):
    folds = tmp_path / "busi_classification"
    folds.mkdir()
    rng = np.random.default_rng(0)
    base = {"backbone": "resnet18", "size": 96, "epochs": 20, "batch_size": 32, "lr": 0.001, "optimiser": "adamw",
            "init": "random", "augment": True}
    full = {f: _classification_fold(folds, "full", f, base, rng) for f in (0, 1, 2)}
    seed1 = {f: _classification_fold(folds, "seed1", f, {**base, "seed": 1}, rng) for f in (0, 1)}  # fold 2 unfinished
    result = busi_classification.combine(folds, tmp_path / "pooled.json")
    assert json.loads((tmp_path / "pooled.json").read_text()) == json.loads(json.dumps(result))
    runs = result["runs"]
    assert set(runs) == {"full", "seed1", "full+seed1"}
    ensemble = runs["full+seed1"]
    assert ensemble["summary"]["folds_done"] == [0, 1]
    pooled = [r for f in ensemble["folds"].values() for r in f["lesions"]]
    expected = [(a["probability"] + b["probability"]) / 2 for f in (0, 1) for a, b in zip(full[f], seed1[f])]
    assert [r["probability"] for r in pooled] == pytest.approx(expected)
    labels = np.array([r["label"] for r in pooled])
    assert ensemble["summary"]["without_tta"]["auc"] == pytest.approx(auc(labels, np.array(expected)))
    # DeLong on the lesions both scored: fold 2 of "full" has no partner
    versus = ensemble["summary"]["delong_vs_full"]
    reference = np.array([r["probability"] for f in (0, 1) for r in full[f]])
    test = delong_test(labels, np.array(expected), reference)
    assert versus["lesions_paired"] == 60
    assert versus["without_tta"]["delong_p_value_images_independent"] == pytest.approx(test.p_value)
    assert versus["without_tta"]["auc_difference"] == pytest.approx(test.auc_a - test.auc_b)
    assert "delong_vs_full" not in runs["full"]["summary"]


def _segmentation_fold(folder: Path, name: str, fold: int, config: dict, dice: float, known: bool) -> None:
    images = [{"case_id": f"c{fold}_{n}", "pathology": "benign", "dice": dice, "iou": dice / 2, "dice_postprocessed": dice,
               "iou_postprocessed": dice / 2, **({"dice_expect_lesion": dice + 0.1, "iou_expect_lesion": dice} if known else {})}
              for n in range(4)]
    record = {"config": config, "fold": fold, "machine": {"gpu": None}, "train_seconds": 120.0, "best_epoch": 5,
              "device": "cpu (1 threads)", "images": images, "dice": busi_segmentation.summarise(images, "dice")}
    (folder / f"{name}_fold{fold}.json").write_text(json.dumps(record))


def test_segmentation_recipes_stay_apart(tmp_path):
    folds = tmp_path / "busi_segmentation"
    folds.mkdir()
    plain = {"arch": "unet", "size": 256, "channels": 16, "epochs": 30, "batch_size": 16}
    small_batch = {**plain, "batch_size": 4, "augment_strength": 0.5, "normal_images": False, "variant": "unet-b4"}
    _segmentation_fold(folds, "unet", 0, plain, 0.6, known=False)
    _segmentation_fold(folds, "unet", 1, plain, 0.7, known=True)
    _segmentation_fold(folds, "unet-b4", 0, small_batch, 0.8, known=True)
    runs = busi_segmentation.combine(folds, tmp_path / "pooled.json")["runs"]
    assert set(runs) == {"unet", "unet-b4"}
    assert runs["unet"]["summary"]["dice"]["mean"] == pytest.approx(0.65)
    assert "dice_expect_lesion" not in runs["unet"]["summary"]  # fold 0 was scored without it
    assert runs["unet-b4"]["summary"]["dice_expect_lesion"]["mean"] == pytest.approx(0.9)
    assert runs["unet-b4"]["config"]["batch_size"] == 4
    versus = runs["unet-b4"]["summary"]["versus_unet"]  # paired on fold 0's images only
    assert versus["images_paired"] == 4 and versus["dice_difference"] == pytest.approx(0.2)
    assert "versus_unet" not in runs["unet"]["summary"]


def test_segmentation_paired_comparisons_use_the_final_epoch(tmp_path, monkeypatch):
    """A declared pair (recipe, reference) is compared image by image on the final epoch's Dice
    of the images both scored; a pair whose reference has no run yet is left out."""
    folds = tmp_path / "busi_segmentation"
    folds.mkdir()
    base = {"arch": "unet", "size": 128, "channels": 16, "epochs": 60, "batch_size": 8, "augment_strength": 0.5,
            "normal_images": False}
    for fold, (narrow, wide) in enumerate([(0.6, 0.7), (0.5, 0.8)]):
        _segmentation_fold(folds, "unet-128px-60ep", fold, {**base, "variant": "unet-128px-60ep"}, 0.9, known=True)
        _segmentation_fold(folds, "unet-32ch-128px-60ep", fold,
                           {**base, "channels": 32, "variant": "unet-32ch-128px-60ep"}, 0.1, known=True)
        for name, last in (("unet-128px-60ep", narrow), ("unet-32ch-128px-60ep", wide)):
            path = folds / f"{name}_fold{fold}.json"
            record = json.loads(path.read_text())
            for n, row in enumerate(record["images"]):
                row["dice_last_epoch"], row["iou_last_epoch"] = last + 0.01 * n, last / 2
            if (name, fold) == ("unet-128px-60ep", 1):  # one image missed by the narrow UNet only
                record["images"][0]["dice_last_epoch"] = 0.05
            path.write_text(json.dumps(record))
    result = busi_segmentation.combine(folds, tmp_path / "busi_segmentation.json")
    [pair] = result["paired_last_epoch"]  # the 120-epoch reference of the other 32-channel pair is absent
    assert (pair["recipe"], pair["reference"], pair["images_paired"]) == ("unet-32ch-128px-60ep", "unet-128px-60ep", 8)
    # the final epoch's, not the best epoch's -0.8; the missed image's difference is 0.8 - 0.05 instead of 0.3
    assert pair["dice_difference"] == pytest.approx((4 * 0.1 + 3 * 0.3 + 0.75) / 8)
    assert 0 < pair["wilcoxon_p"] < 0.05
    assert (pair["missed"], pair["reference_missed"]) == (0, 1)
    monkeypatch.setattr(render_readme_tables, "RESULTS", tmp_path)
    monkeypatch.setattr(render_readme_tables, "_machine", lambda machine: "")
    assert "| unet-32ch-128px-60ep | unet-128px-60ep | 8 (8) | +0.256 |" in render_readme_tables.table_busi_segmentation()
    assert "| 0 / 1 |" in render_readme_tables.table_busi_segmentation()


def test_classification_last_epoch_figures_pool_and_pair(tmp_path):
    """Last-epoch probabilities (no epoch chosen on the held-out fold) get their own pooled
    AUC, enter the ensemble as a mean, and their own paired DeLong; a run scored without
    them has no last-epoch figures."""
    folds = tmp_path / "busi_classification"
    folds.mkdir()
    rng = np.random.default_rng(1)
    base = {"backbone": "resnet18", "size": 96, "epochs": 20, "batch_size": 32, "lr": 0.001, "optimiser": "adamw",
            "init": "random", "augment": True}
    for variant, config in (("full", base), ("seed1", {**base, "seed": 1})):
        for fold in (0, 1):
            _classification_fold(folds, variant, fold, config, rng)
            path = folds / f"{variant}_fold{fold}.json"
            record = json.loads(path.read_text())
            for row in record["lesions"]:
                row["probability_last_epoch"] = float(rng.uniform(0, 1) * 0.5 + 0.5 * row["label"])
                row["probability_tta_last_epoch"] = row["probability_last_epoch"]
            path.write_text(json.dumps(record))
    _classification_fold(folds, "noaug", 0, {**base, "augment": False}, rng)  # scored before last-epoch figures existed
    runs = busi_classification.combine(folds, tmp_path / "pooled.json")["runs"]
    rows = [r for f in runs["full"]["folds"].values() for r in f["lesions"]]
    labels = np.array([r["label"] for r in rows])
    last = np.array([r["probability_last_epoch"] for r in rows])
    assert runs["full"]["summary"]["last_epoch"]["without_tta"]["auc"] == pytest.approx(auc(labels, last))
    partner = np.array([r["probability_last_epoch"] for f in runs["seed1"]["folds"].values() for r in f["lesions"]])
    ensemble = runs["full+seed1"]
    assert ensemble["summary"]["last_epoch"]["without_tta"]["auc"] == pytest.approx(auc(labels, (last + partner) / 2))
    test = delong_test(labels, (last + partner) / 2, last)
    assert ensemble["summary"]["delong_vs_full"]["last_epoch_without_tta"]["delong_p_value_images_independent"] == pytest.approx(test.p_value)
    assert "last_epoch" not in runs["noaug"]["summary"]
    assert "last_epoch_without_tta" not in runs["noaug"]["summary"]["delong_vs_full"]


def test_segmentation_last_epoch_dice_is_pooled_only_when_every_image_has_it(tmp_path):
    folds = tmp_path / "busi_segmentation"
    folds.mkdir()
    config = {"arch": "unet", "size": 256, "channels": 16, "epochs": 30, "batch_size": 16}
    _segmentation_fold(folds, "unet", 0, config, 0.6, known=True)
    _segmentation_fold(folds, "unet", 1, config, 0.7, known=True)
    record = json.loads((folds / "unet_fold0.json").read_text())
    for row in record["images"]:
        row["dice_last_epoch"], row["iou_last_epoch"] = 0.5, 0.3
    (folds / "unet_fold0.json").write_text(json.dumps(record))
    assert "dice_last_epoch" not in busi_segmentation.combine(folds, tmp_path / "pooled.json")["runs"]["unet"]["summary"]
    record = json.loads((folds / "unet_fold1.json").read_text())
    for row in record["images"]:
        row["dice_last_epoch"], row["iou_last_epoch"] = 0.8, 0.6
    (folds / "unet_fold1.json").write_text(json.dumps(record))
    summary = busi_segmentation.combine(folds, tmp_path / "pooled.json")["runs"]["unet"]["summary"]
    assert summary["dice_last_epoch"]["mean"] == pytest.approx(0.65) and summary["dice"]["mean"] == pytest.approx(0.65)
    assert "dice_two_class" not in summary  # these fold files were scored without the background's Dice


def _constant_lesion_run(source: Path, bundle: Path, probability: float, epoch: int = 5) -> None:
    """A copy of ``source`` whose final checkpoint (``bundle``.run/checkpoints/last.pt) gives every
    pixel the lesion probability ``probability``: output layers zeroed, biases set to match."""
    import math

    import torch

    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.networks import build_network
    from BreastUSAITraining.training.checkpoint import save_checkpoint

    shutil.copytree(source, bundle)
    loaded = load_bundle(bundle, "segmentation")
    network = build_network(loaded.inference["network"])
    network.load_state_dict(loaded.state_dict)
    for module in network.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) and module.out_channels == 2:
            torch.nn.init.zeros_(module.weight)
            logit = 20.0 if probability == 1.0 else -20.0 if probability == 0.0 else math.log(probability / (1 - probability))
            module.bias.data = torch.tensor([0.0, logit])
    save_checkpoint(bundle.with_name(bundle.name + ".run") / "checkpoints" / "last.pt",
                    {"model": network.state_dict(), "epoch": epoch})


def test_segmentation_last_epoch_scores_the_final_checkpoint(tiny_bundles, phantom_us2d, tmp_path):
    """The last-epoch score really uses the run's last.pt: a final checkpoint whose output
    layers say "lesion" everywhere gives every image the Dice of an all-lesion mask."""
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.loader import case_dicts
    from BreastUSAITraining.segmentation.samples import read_case
    from BreastUSAITraining.segmentation.task import dice_and_iou

    bundle = tmp_path / "seg"
    _constant_lesion_run(tiny_bundles["seg2d"], bundle, 1.0, epoch=9)

    best = busi_segmentation.evaluate_fold(bundle, phantom_us2d, 0, "cpu")
    model, epoch = busi_segmentation.with_last_epoch_weights(bundle, "segmentation")
    assert epoch == 9
    last = busi_segmentation.evaluate_fold(bundle, phantom_us2d, 0, "cpu", model)
    cases = [c for c in case_dicts(load_dataset(phantom_us2d), "training", folds=[0]) if c["segments"]]
    assert len(last) == len(best) == len(cases) > 0
    for row, case in zip(last, cases):
        truth = read_case(case)[1]
        assert row["dice"] == pytest.approx(dice_and_iou(np.ones_like(truth), truth)[0])
        assert row["dice_two_class"] == pytest.approx(row["dice"] / 2)  # no background predicted: its Dice is 0
    assert [r["dice"] for r in best] != [r["dice"] for r in last]


def test_mupnet_and_plain_classifier_compared_at_their_last_epochs(tmp_path, monkeypatch):
    import busi_mupnet

    rng = np.random.default_rng(2)
    baseline = tmp_path / "busi_classification"
    baseline.mkdir()
    config = {"backbone": "resnet18", "size": 96, "epochs": 20, "batch_size": 32, "lr": 0.001, "optimiser": "adamw",
              "init": "random", "augment": True}
    folds = tmp_path / "busi_mupnet"
    folds.mkdir()
    mupnet_last, plain_last, labels = [], [], []
    for fold in (0, 1):
        lesions = _classification_fold(baseline, "full", fold, config, rng)
        for row in lesions:
            row["probability_last_epoch"] = float(rng.uniform(0, 1))
        record = json.loads((baseline / f"full_fold{fold}.json").read_text())
        record["lesions"] = lesions
        (baseline / f"full_fold{fold}.json").write_text(json.dumps(record))
        rows = [{"case_id": r["case_id"], "lesion_id": r["lesion_id"], "label": r["label"],
                 "probability": float(rng.uniform(0, 1)), "probability_last_epoch": float(rng.uniform(0, 1))} for r in lesions]
        mupnet_last += [r["probability_last_epoch"] for r in rows]
        plain_last += [r["probability_last_epoch"] for r in lesions]
        labels += [r["label"] for r in rows]
        (folds / f"fold{fold}.json").write_text(json.dumps({
            "config": {"backbone": "resnet18", "size": 96}, "fold": fold, "train_seconds": 1.0, "best_epoch": 5,
            "device": "cpu", "lesions": rows}))
    monkeypatch.setattr(busi_mupnet, "BASELINE", baseline)
    summary = busi_mupnet.combine(folds, tmp_path / "pooled.json")["summary"]
    expected = delong_test(np.array(labels), np.array(mupnet_last), np.array(plain_last))
    last = summary["last_epoch"]
    assert last["delong_mupnet_vs_plain"]["delong_p_value_images_independent"] == pytest.approx(expected.p_value)
    assert last["plain_classifier"]["auc"] == pytest.approx(auc(np.array(labels), np.array(plain_last)))
    assert summary["delong_mupnet_vs_plain"]["lesions_paired"] == 60  # the best-epoch comparison is still there


def test_pooled_results_carry_the_newest_measurement_stamp():
    from fold_files import newest_machine

    records = [{"machine": {"date_utc": "2026-11-21 20:04"}}, {"machine": {"date_utc": "2026-11-22 05:10"}},
               {"machine": {"date_utc": "2026-11-21 23:59"}}, {"fold": 3}]
    assert newest_machine(records)["date_utc"] == "2026-11-22 05:10"
    assert newest_machine([{"fold": 0}]) is None


def test_random_split_copy_draws_folds_image_by_image(tmp_path, phantom_us2d):
    """The optimistic split of published BUSI results: a copy whose folds are drawn per image
    (all lesions of an image together), stratified by pathology, duplicate groups and patients
    dropped (and counted when they straddle folds), files hard-linked, the source untouched; loadable."""
    from collections import Counter

    from random_split import write_random_split

    from BreastUSAITraining.dataset import load_dataset

    source = tmp_path / "source"
    shutil.copytree(phantom_us2d, source)
    contract = json.loads((source / "dataset.json").read_text())
    cases = sorted({c["case_id"] for c in contract["training"]})
    for case in contract["training"]:  # near-duplicate pairs: images 0+1, 2+3, ...
        case["dup_group"] = f"group-{cases.index(case['case_id']) // 2}"
    (source / "dataset.json").write_text(json.dumps(contract))
    before = (source / "dataset.json").read_bytes()

    out = write_random_split(source, tmp_path / "random", n_folds=3, seed=0)
    written = json.loads((out / "dataset.json").read_text())
    load_dataset(out)  # the contract accepts it
    assert (source / "dataset.json").read_bytes() == before
    fold_of: dict[str, set] = {}
    for case in written["training"]:
        fold_of.setdefault(case["case_id"], set()).add(case["fold"])
        assert case["dup_group"] is None and case["patient_id"] is None and case["train_only"] is False
    assert all(len(folds) == 1 for folds in fold_of.values())  # an image's lesions stay together
    per_image = {c["case_id"]: (c["pathology"], c["fold"]) for c in written["training"]}
    for label in {p for p, _ in per_image.values()}:
        counts = Counter(f for p, f in per_image.values() if p == label)
        assert max(counts.values()) - min(counts.get(k, 0) for k in range(3)) <= 1  # stratified
    spread = sum(len({per_image[c][1] for c in cases[i:i + 2]}) > 1 for i in range(0, len(cases) - 1, 2))
    assert written["random_split"]["duplicate_groups_split"] == spread > 0
    image = next((out / "images").iterdir())
    assert image.stat().st_ino == (source / "images" / image.name).stat().st_ino  # linked, not copied
    assert write_random_split(source, tmp_path / "random", n_folds=3, seed=0) == out  # reused as made
    assert json.loads((out / "dataset.json").read_text()) == written

    # the source imported anew in place: a new image file (new inode) and a changed dataset.json
    replaced = source / "images" / image.name
    content = replaced.read_bytes()
    replaced.unlink()
    replaced.write_bytes(content)
    contract["description"] = "imported again"
    (source / "dataset.json").write_text(json.dumps(contract))
    write_random_split(source, tmp_path / "random", n_folds=3, seed=0)
    rewritten = json.loads((out / "dataset.json").read_text())
    assert (out / "images" / image.name).stat().st_ino == replaced.stat().st_ino  # no stale link left
    assert rewritten["random_split"]["source_sha256"] != written["random_split"]["source_sha256"]
    assert "imported again" in rewritten["description"]
    assert [c["fold"] for c in rewritten["training"]] == [c["fold"] for c in written["training"]]
    assert not list(out.rglob("*.partial"))


def test_random_split_without_its_own_variant_is_refused_before_any_work(tmp_path):
    """``--split random`` would otherwise write its folds under the duplicate-aware recipe's name;
    the refusal comes before BUSI is imported (no work folder made)."""
    import subprocess

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "busi_segmentation.py"
    done = subprocess.run([sys.executable, str(script), "--split", "random", "--work", str(tmp_path / "work")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "--split random needs its own --variant" in done.stderr
    assert not (tmp_path / "work").exists()


def test_segmentation_misses_counted_at_best_and_final_epoch_per_recipe(tmp_path, monkeypatch):
    """Misses (Dice < 0.1) and the Dice of the rest, at the best and the final epoch, pooled over a
    recipe's fold files; a recipe other than ``unet`` gets its own result file, ``unet``'s is kept."""
    import busi_segmentation_misses

    folds = tmp_path / "busi_segmentation"
    folds.mkdir()
    best = [0.0, 0.05, 0.8, 0.9, 0.6]
    last = [0.0, 0.2, 0.7, 0.9, 0.05]
    for fold in (0, 1):
        rows = [{"case_id": f"c{fold}{n}", "pathology": "malignant" if n == 0 else "benign",
                 "dice": best[n], "dice_last_epoch": last[n]} for n in range(5)]
        (folds / f"recipe-a_fold{fold}.json").write_text(json.dumps({"fold": fold, "images": rows}))
    (tmp_path / "busi_segmentation_misses.json").write_text('{"arch": "unet"}')
    monkeypatch.setattr(busi_segmentation_misses, "FOLDS", folds)
    monkeypatch.setattr(busi_segmentation_misses, "RESULT", tmp_path / "busi_segmentation_misses.json")
    monkeypatch.setattr(sys, "argv",
                        ["busi_segmentation_misses.py", "--arch", "recipe-a", "--work", str(tmp_path / "none")])
    assert busi_segmentation_misses.main() == 0
    result = json.loads((tmp_path / "busi_segmentation_misses_recipe-a.json").read_text())
    assert (result["images"], result["dice_below_0.1"], result["malignant_among_them"]) == (10, 4, 2)
    assert result["mean_dice_of_the_rest"] == pytest.approx((0.8 + 0.9 + 0.6) / 3)
    assert result["median_dice_all"] == pytest.approx(0.6)
    assert result["last_epoch"]["dice_below_0.1"] == 4
    assert result["last_epoch"]["mean_dice_of_the_rest"] == pytest.approx((0.2 + 0.7 + 0.9) / 3)
    assert "fold_detail" not in result  # no bundle in the work folder
    assert json.loads((tmp_path / "busi_segmentation_misses.json").read_text()) == {"arch": "unet"}


def test_random_split_copies_across_file_systems_and_recopies_only_changed_files(tmp_path, phantom_us2d, monkeypatch):
    """Where hard links are impossible (another file system) the files are copied once; a later
    call copies again only a file the source changed, and leaves no partial file behind."""
    import os

    import random_split

    def no_links(*_args):
        raise OSError("Invalid cross-device link")

    monkeypatch.setattr(random_split.os, "link", no_links)
    out = random_split.write_random_split(phantom_us2d, tmp_path / "random", n_folds=3, seed=0)
    images = sorted((out / "images").iterdir())
    first = {p.name: p.stat().st_ino for p in images}
    assert all(p.stat().st_ino != (phantom_us2d / "images" / p.name).stat().st_ino for p in images)  # copies
    random_split.write_random_split(phantom_us2d, tmp_path / "random", n_folds=3, seed=0)
    assert {p.name: p.stat().st_ino for p in sorted((out / "images").iterdir())} == first  # nothing copied again

    source_copy = tmp_path / "source"
    shutil.copytree(phantom_us2d, source_copy)
    out2 = random_split.write_random_split(source_copy, tmp_path / "random2", n_folds=3, seed=0)
    changed = source_copy / "images" / images[0].name
    stamp = changed.stat()
    os.utime(changed, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10**9))  # the source file touched anew
    before = {p.name: p.stat().st_ino for p in (out2 / "images").iterdir()}
    random_split.write_random_split(source_copy, tmp_path / "random2", n_folds=3, seed=0)
    after = {p.name: p.stat().st_ino for p in (out2 / "images").iterdir()}
    assert [name for name in before if before[name] != after[name]] == [changed.name]
    assert (out2 / "images" / changed.name).read_bytes() == changed.read_bytes()
    assert not list(tmp_path.rglob("*.partial"))


def test_segmentation_ensemble_thresholds_the_mean_probability(tiny_bundles, phantom_us2d, tmp_path):
    """Members that say "lesion" with probability 1.0, 0.2 and 0.0 everywhere: alone, only the
    first finds anything; 1.0 with 0.2 averages to 0.6 (lesion everywhere), 0.2 with 0.0 to 0.1
    (nothing) - so the ensemble really thresholds the mean of the final checkpoints' outputs."""
    import busi_segmentation_ensemble as ensemble

    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.loader import case_dicts
    from BreastUSAITraining.segmentation.samples import read_case
    from BreastUSAITraining.segmentation.task import dice_and_iou

    runs = {name: tmp_path / f"seg_{name}" for name in ("sure", "doubtful", "never")}
    for (name, bundle), p in zip(runs.items(), (1.0, 0.2, 0.0)):
        _constant_lesion_run(tiny_bundles["seg2d"], bundle, p)
    cases = [c for c in case_dicts(load_dataset(phantom_us2d), "training", folds=[0]) if c["segments"]]
    all_lesion = [dice_and_iou(np.ones_like(t), t)[0] for t in (read_case(c)[1] for c in cases)]
    assert len(cases) > 0 and min(all_lesion) > 0

    rows = ensemble.ensemble_fold_rows({"sure": runs["sure"], "doubtful": runs["doubtful"]}, phantom_us2d, 0, "cpu")
    assert [r["case_id"] for r in rows] == [c["case_id"] for c in cases]
    assert [r["sure"] for r in rows] == pytest.approx(all_lesion)
    assert [r["doubtful"] for r in rows] == [0.0] * len(cases)
    assert [r["ensemble"] for r in rows] == pytest.approx(all_lesion)
    rows = ensemble.ensemble_fold_rows({"doubtful": runs["doubtful"], "never": runs["never"]}, phantom_us2d, 0, "cpu")
    assert [r["ensemble"] for r in rows] == [0.0] * len(cases)


def test_segmentation_ensemble_summary_against_hand_worked_figures():
    """Means, SDs, the best member and the paired difference worked by hand on four images."""
    import busi_segmentation_ensemble as ensemble

    rows = [{"a": 0.8, "b": 0.6, "ensemble": 0.9}, {"a": 0.4, "b": 0.6, "ensemble": 0.5},
            {"a": 0.0, "b": 0.2, "ensemble": 0.1}, {"a": 0.8, "b": 0.2, "ensemble": 0.7}]
    summary = ensemble.summarise_ensemble(rows, ["a", "b"])
    assert summary["images"] == 4
    assert summary["dice"]["a"]["mean"] == pytest.approx(0.5)  # (0.8 + 0.4 + 0 + 0.8) / 4
    assert summary["dice"]["a"]["sd"] == pytest.approx(0.33166, abs=1e-5)  # sqrt(((.3)^2+(.1)^2+(.5)^2+(.3)^2)/4)
    assert summary["dice"]["b"]["mean"] == pytest.approx(0.4)
    assert summary["dice"]["ensemble"]["mean"] == pytest.approx(0.55)
    assert summary["best_member"] == "a"
    assert summary["ensemble_minus_best_member"] == pytest.approx(0.05)  # (0.1 + 0.1 + 0.1 - 0.1) / 4
    assert 0 < summary["wilcoxon_p"] <= 1
    assert summary["missed"] == {"a": 1, "b": 0, "ensemble": 0}  # Dice < 0.1: only a's 0.0
    assert summary["missed_by_every_member"] == 0
    rows[2]["b"] = 0.05
    assert ensemble.summarise_ensemble(rows, ["a", "b"])["missed_by_every_member"] == 1


def test_segmentation_ensemble_skips_folds_a_recipe_has_not_finished(tiny_bundles, phantom_us2d, tmp_path,
                                                                     monkeypatch, capsys):
    """A run still training has a last.pt, but not its final epoch's: without the recipe's fold
    file the fold is skipped, and with no fold left nothing is written and the exit code is 1."""
    import busi_segmentation_ensemble as ensemble

    work, folds = tmp_path / "work", tmp_path / "busi_segmentation"
    folds.mkdir()
    for name in ("a", "b"):
        _constant_lesion_run(tiny_bundles["seg2d"], work / f"seg_{name}_fold0", 1.0)
    (folds / "a_fold0.json").write_text("{}")  # b's fold 0 is still training
    monkeypatch.setattr(ensemble, "FOLD_FILES", folds)
    monkeypatch.setattr(ensemble, "RESULTS", tmp_path)
    monkeypatch.setattr(ensemble, "prepare_busi_run", lambda work_dir, busi, threads: (Path(work_dir), phantom_us2d))
    monkeypatch.setattr(sys, "argv", ["busi_segmentation_ensemble.py", "--recipes", "a", "b", "--folds", "0",
                                      "--work", str(work)])
    assert ensemble.main() == 1
    out = capsys.readouterr()
    assert "fold 0: skipped, not finished by b" in out.out and "nothing to score" in out.err
    assert not list(tmp_path.glob("busi_segmentation_ensemble_*.json"))
    (folds / "b_fold0.json").write_text("{}")
    assert ensemble.main() == 0
    result = json.loads((tmp_path / "busi_segmentation_ensemble_a+b.json").read_text())
    assert result["folds"] == [0] and result["summary"]["images"] > 0


@pytest.mark.parametrize("recipes", [["a"], ["a", "a"]])
def test_segmentation_ensemble_of_fewer_than_two_recipes_is_refused_before_any_work(recipes, tmp_path, monkeypatch,
                                                                                     capsys):
    """One recipe (or one recipe named twice) is no ensemble: argparse refuses it with exit code 2
    before BUSI is imported or any model loaded."""
    import busi_segmentation_ensemble as ensemble

    def no_work(*_args):
        raise AssertionError("work started")

    monkeypatch.setattr(ensemble, "prepare_busi_run", no_work)
    monkeypatch.setattr(sys, "argv", ["busi_segmentation_ensemble.py", "--recipes", *recipes, "--work", str(tmp_path)])
    with pytest.raises(SystemExit) as stop:
        ensemble.main()
    assert stop.value.code == 2
    assert "--recipes needs at least two different recipes" in capsys.readouterr().err


def test_gpu_prediction_speed_is_kept_beside_the_cpu_figures_and_both_are_rendered(tmp_path, monkeypatch):
    """A `--device cuda` run saves to its own file (never over the CPU figures), and the README
    block shows the CPU table, then the GPU table - or a line saying GPU figures are still due."""
    import predict_speed

    assert predict_speed.default_result("cpu").name == "predict_speed.json"
    assert predict_speed.default_result("cuda").name == "predict_speed_cuda.json"
    committed = json.loads((Path(predict_speed.HERE) / "results" / "predict_speed.json").read_text())
    (tmp_path / "predict_speed.json").write_text(json.dumps(committed))
    monkeypatch.setattr(render_readme_tables, "RESULTS", tmp_path)
    cpu_only = render_readme_tables.table_predict_speed()
    assert "| input (cpu) |" in cpu_only and "No GPU figures yet" in cpu_only
    gpu = dict(committed, device="cuda", threads=2, abvs_full=dict(committed["abvs_full"], total_s=1.234))
    (tmp_path / "predict_speed_cuda.json").write_text(json.dumps(gpu))
    both = render_readme_tables.table_predict_speed()
    assert both.index("| input (cpu) |") < both.index("| input (cuda) |")
    assert "**1.23 s**" in both and "No GPU figures yet" not in both


def test_flexunet_rows_measured_with_monais_momentum_are_repeated_by_asking_for_it():
    """The committed FlexibleUNet folds were trained with MONAI's encoder momentum 0.01: the same
    command with `--encoder-bn-momentum 0.01` names exactly their recipe (so finished folds are
    skipped), while the new default 0.1 is a recipe of its own (never mistaken for them)."""
    committed = json.loads((Path(busi_segmentation.HERE) / "results" / "busi_segmentation" /
                            "flexunet-effb0-128px-60ep_fold0.json").read_text())["config"]
    command = ["--archs", "flexunet-effb0", "--size", "128", "--epochs", "60", "--batch-size", "8", "--augment", "0.5",
               "--no-normal", "--variant", "flexunet-effb0-128px-60ep"]
    parser = busi_segmentation.build_parser()
    repeated = busi_segmentation.recipe_config("flexunet-effb0", parser.parse_args([*command, "--encoder-bn-momentum", "0.01"]))
    assert repeated == committed
    new = busi_segmentation.recipe_config("flexunet-effb0", parser.parse_args(command))
    assert new == {**committed, "encoder_bn_momentum": 0.1}
    unet = busi_segmentation.recipe_config("unet", parser.parse_args(["--archs", "unet"]))
    assert "encoder_bn_momentum" not in unet  # a UNet has no such encoder: its rows' recipes are unchanged
    render = render_readme_tables.table_busi_segmentation()
    assert "flexunet-effb0-128px-60ep: flexunet-effb0, encoder BN momentum 0.01, 128 px" in render


def test_rebuilding_encoder_statistics_touches_only_the_encoder_running_statistics():
    """The momentum estimate changes what momentum changes and nothing else: every weight and
    the decoder's statistics stay as trained, the encoder's running statistics move (one update
    per batch, at the asked momentum), and the network is left in evaluation mode."""
    import busi_segmentation_bn_momentum as estimate
    import torch

    from BreastUSAITraining.networks.segmentation import build_segmentation_network

    torch.manual_seed(0)
    network = build_segmentation_network("flexunet-effb0")
    before = {k: v.clone() for k, v in network.state_dict().items()}
    batches = [torch.rand(2, 1, 64, 64) for _ in range(3)]
    assert estimate.rebuild_encoder_statistics(network, iter(batches), 0.1) == 3
    after = network.state_dict()
    parameters = {name for name, _ in network.named_parameters()}
    assert all(torch.equal(before[k], after[k]) for k in parameters)
    assert all(torch.equal(before[k], after[k]) for k in after if k.startswith("decoder."))
    used = [k for k in after if k.startswith("encoder.") and not k.startswith("encoder._bn1.")]  # _bn1: the
    # EfficientNet's classification head, which the FlexibleUNet never runs
    means = [k for k in used if k.endswith("running_mean")]
    assert len(means) > 40 and all(not torch.equal(before[k], after[k]) for k in means)
    assert all(int(after[k]) == int(before[k]) + 3 for k in used if k.endswith("num_batches_tracked"))
    norms = [m for m in network.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert {m.momentum for m in norms} == {0.1} and not network.training


def test_momentum_estimate_summary_against_hand_worked_figures():
    import busi_segmentation_bn_momentum as estimate

    summary = estimate.summarise([{"case_id": "a", "stored": 0.8, "rebuilt": 0.9},
                                  {"case_id": "b", "stored": 0.05, "rebuilt": 0.2}])
    assert summary["images"] == 2
    assert summary["dice"]["stored"]["mean"] == pytest.approx(0.425) and summary["dice"]["rebuilt"]["mean"] == pytest.approx(0.55)
    assert summary["dice"]["stored"]["sd"] == pytest.approx(0.375)  # population SD of 0.8 and 0.05
    assert summary["rebuilt_minus_stored"] == pytest.approx(0.125) and summary["largest_change"] == pytest.approx(0.15)
    assert summary["missed"] == {"stored": 1, "rebuilt": 0}


def test_encoder_momentum_tables_render_from_their_result_files(tmp_path, monkeypatch):
    monkeypatch.setattr(render_readme_tables, "RESULTS", tmp_path)
    monkeypatch.setattr(render_readme_tables, "_machine", lambda machine: "")
    assert render_readme_tables.table_encoder_momentum().count("_No result yet") == 2
    dice = [0.1 * e / 2 for e in range(1, 11)]  # epochs 1-10
    (tmp_path / "short_training_momentum.json").write_text(json.dumps(
        {"machine": {}, "cases": 12, "epochs": 10, "size": 64, "batch_size": 4,
         "runs": {"flex 0.1": {"validation_dice": dice, "best": max(dice)}}}))
    (tmp_path / "busi_segmentation_bn_momentum_flexunet-effb0-128px-60ep.json").write_text(json.dumps(
        {"machine": {}, "recipe": "flexunet-effb0-128px-60ep", "momentum": 0.1, "folds": [0, 1],
         "summary": {"images": 3, "dice": {"stored": {"mean": 0.7}, "rebuilt": {"mean": 0.71}},
                     "rebuilt_minus_stored": 0.01, "wilcoxon_p": 0.5, "largest_change": 0.2,
                     "missed": {"stored": 1, "rebuilt": 0}}}))
    text = render_readme_tables.table_encoder_momentum()
    assert "| flex 0.1 | 0.25 / 0.50 | 0.500 |" in text  # epochs 5 and 10
    assert "| flexunet-effb0-128px-60ep (folds 0, 1) | 3 | 0.700 | 0.710 | +0.010 (p = 0.5) | 0.20 | 1 / 0 |" in text
    assert "_No result yet" not in text


@pytest.mark.parametrize("script", ["predict_speed.py", "family_speed.py"])
def test_gpu_speed_without_a_gpu_is_refused_before_any_work(tmp_path, script):
    """`--device cuda` on a machine torch sees no GPU on: a clear argparse error (exit 2), no
    result file and no work folder, instead of a traceback (from a child process, or after the
    phantom data was made)."""
    import subprocess

    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    out = tmp_path / "speed.json"
    extra = ["--work", str(tmp_path / "work")] if script == "family_speed.py" else []
    done = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "benchmarks" / script),
                           "--device", "cuda", "--out", str(out), *extra], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "--device cuda: this machine has no CUDA GPU" in done.stderr, done.stderr
    assert not out.exists() and not (tmp_path / "work").exists()


def test_shipped_segmentation_against_the_plain_reference_pairs_the_same_images_by_group(tmp_path):
    import release_cv
    import release_segmentation_cv

    rng = np.random.default_rng(3)
    cases = [f"{site}_{n:03d}" for site in ("busi", "busbra") for n in range(40)]
    sites = {case: case.split("_")[0] for case in cases}
    group_of = {case: index // 2 for index, case in enumerate(cases)}   # two linked images per group
    shipped_dice = {case: float(np.clip(rng.normal(0.8, 0.1), 0, 1)) for case in cases}
    reference_dice = {case: shipped_dice[case] - 0.05 for case in cases}
    reference_dice["busi_000"] = reference_dice["busi_001"] = 0.02   # the reference misses one group
    for name, dice, folds in (("shipped", shipped_dice, (0, 1)), ("reference", reference_dice, (0,))):
        folder = tmp_path / name
        folder.mkdir()
        for fold in folds:
            chosen = [c for i, c in enumerate(cases) if (i // 2) % 2 == fold]   # linked groups stay in one fold
            rows = [{"case_id": c, "dice": dice[c], "found": 1} for c in chosen]
            (folder / f"fold{fold}.json").write_text(json.dumps({"fold": fold, "images": rows, "lesions": []}))
    shipped = release_cv.fold_documents(tmp_path / "shipped")
    reference = release_cv.fold_documents(tmp_path / "reference")
    result = release_segmentation_cv.paired_comparison(shipped, reference, sites, group_of)
    assert result["folds"] == [0]                        # only the fold both have
    fold0 = [c for i, c in enumerate(cases) if (i // 2) % 2 == 0]
    everything = result["per_site"]["all"]
    assert everything["images"] == len(fold0) and everything["groups"] == len(fold0) // 2   # pairs counted once
    expected = np.mean([shipped_dice[c] - reference_dice[c] for c in fold0])
    assert everything["difference"] == pytest.approx(expected, abs=1e-4)
    low, high = everything["difference_ci95_cluster"]
    assert low <= expected <= high
    assert everything["missed_reference"] == 2 and everything["missed_shipped"] == 0   # busi_000 and busi_001
    assert result["per_site"]["busi"]["images"] == 20 and result["per_site"]["busbra"]["images"] == 20
    assert 0 < everything["wilcoxon_p_groups"] < 0.05   # every group better by 0.05 or more
    assert everything["groups_shipped_better"] == 20 and everything["groups_reference_better"] == 0
    assert everything["median_group_difference"] == pytest.approx(0.05, abs=1e-4)


def test_the_comparison_says_which_way_the_wilcoxon_leans(tmp_path):
    """A mean difference near 0 can hide a reference better on most groups: the counts and the
    median group difference show it, and the goal sentence says so."""
    import release_cv
    import release_segmentation_cv

    cases = [f"busbra_{n:03d}" for n in range(30)]
    sites = dict.fromkeys(cases, "busbra")
    group_of = {case: n for n, case in enumerate(cases)}
    shipped_dice = {case: 0.80 for case in cases}
    reference_dice = {case: 0.82 for case in cases}            # reference better by 0.02 on 27 groups ...
    for case in cases[:3]:
        reference_dice[case] = 0.60                            # ... shipped better by 0.20 on 3
    for name, dice in (("shipped", shipped_dice), ("reference", reference_dice)):
        (tmp_path / name).mkdir()
        rows = [{"case_id": c, "dice": dice[c], "found": 1} for c in cases]
        (tmp_path / name / "fold0.json").write_text(json.dumps({"fold": 0, "images": rows, "lesions": []}))
    result = release_segmentation_cv.paired_comparison(release_cv.fold_documents(tmp_path / "shipped"),
                                                       release_cv.fold_documents(tmp_path / "reference"), sites, group_of)
    f = result["per_site"]["all"]
    assert f["difference"] == pytest.approx((3 * 0.20 - 27 * 0.02) / 30, abs=1e-4)   # +0.002: near zero
    assert f["groups_shipped_better"] == 3 and f["groups_reference_better"] == 27
    assert f["median_group_difference"] == pytest.approx(-0.02, abs=1e-4)
    assert f["wilcoxon_p_groups"] < 0.05
    comparison = {"reference_recipe": ["segmentation"], **result}
    text = render_readme_tables._release_goals(None, {"per_site": {"all": {"dice": 0.8}}, "folds_done": [0],
                                                      "against_plain_reference": comparison})
    assert "**not shown** on folds [0] only" in text
    assert "the reference is better on more linked groups (27 vs 3, Wilcoxon" in text
    assert "| 3 / 27 (-0.020) |" in render_readme_tables._against_plain_reference(comparison)


def test_issue_19_goals_are_worded_from_the_figures_met_or_not():
    crops = {"automatic": {"auc": 0.9213}, "reference": {"auc": 0.948}, "folds": [0, 4]}
    partial = {"per_site": {"all": {"dice": 0.808}}, "folds_done": [0, 1, 2, 3], "classifier_crops": crops}
    text = render_readme_tables._release_goals(None, partial)
    assert "**not met** (gap 0.009): 0.921" in text and "fold(s) [0, 4]" in text
    assert "over five folds - **not measured**: 0.808 over folds [0, 1, 2, 3]" in text
    assert "reference has not been cross-validated" in text
    comparison = {"reference_recipe": ["segmentation", "--augment", "flips"], "folds": [0, 1, 2, 3, 4], "per_site": {"all": {
        "images": 10, "groups": 8, "dice_shipped": 0.81, "dice_reference": 0.78, "difference": 0.03,
        "difference_ci95_cluster": [0.01, 0.05], "wilcoxon_p_groups": 0.002, "missed_shipped": 3, "missed_reference": 7}}}
    whole = {**partial, "folds_done": [0, 1, 2, 3, 4], "per_site": {"all": {"dice": 0.79}},
             "classifier_crops": {**crops, "automatic": {"auc": 0.931}}, "against_plain_reference": comparison}
    text = render_readme_tables._release_goals(None, whole)
    assert "0.93 - met: 0.931" in text and "five folds - **not met** (gap 0.010): 0.790" in text
    assert "fewer missed lesions - shown on five folds: Dice +0.030 (95% CI +0.010 to +0.050), missed 3 vs 7" in text
    comparison["per_site"]["all"]["difference_ci95_cluster"] = [-0.01, 0.05]   # CI crosses 0: not shown
    assert "**not shown** on five folds" in render_readme_tables._release_goals(None, whole)
    table = render_readme_tables._against_plain_reference(comparison)
    assert "| all | 10 (8) | 0.810 / 0.780 | +0.030 (-0.010 to +0.050) | = 0.002 | - | 3 / 7 |" in table   # no counts recorded


def test_spared_biopsies_threshold_comes_from_the_other_folds_only():
    """BI-RADS 4 question (seed 001): the threshold of fold k is set on the other folds' cancers,
    so moving fold k's own scores cannot move it; counts follow from the thresholds by hand."""
    import release_classifier_cv

    # two folds, fold 0's cancers at 0.6 / 0.9, fold 1's at 0.5 / 0.8; benign spread below
    rows = [{"label": 1, "probability": 0.6}, {"label": 1, "probability": 0.9}, {"label": 0, "probability": 0.2},
            {"label": 0, "probability": 0.55},
            {"label": 1, "probability": 0.5}, {"label": 1, "probability": 0.8}, {"label": 0, "probability": 0.3},
            {"label": 0, "probability": 0.7}]
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    spared = release_classifier_cv.spared_biopsies(rows, folds, target_sensitivity=0.98)
    # fold 0 uses fold 1's lowest cancer (0.5), fold 1 uses fold 0's (0.6)
    assert spared["thresholds_per_fold"] == {0: 0.5, 1: 0.6}
    # fold 0: benign 0.2 spared, 0.55 called; fold 1: benign 0.3 spared, 0.7 called; cancer 0.5 < 0.6 missed
    assert spared["benign_biopsies_spared"] == 2 and spared["benign"] == 4 and spared["spared_fraction"] == 0.5
    assert spared["cancers_missed"] == 1 and spared["sensitivity"] == 0.75
    moved = [dict(r) for r in rows]
    moved[0]["probability"] = 0.01  # a fold-0 cancer moves: fold 0's own threshold must not
    assert release_classifier_cv.spared_biopsies(moved, folds)["thresholds_per_fold"][0] == 0.5


def test_a_resumed_fold_counts_the_training_seconds_of_every_session(tmp_path):
    """A fold killed and resumed in a later session: its training time is the epochs' seconds in the run's
    log (both sessions), not the wall clock around the last one; a run without a log keeps the clock."""
    import release_cv

    run = tmp_path / "fold4.run"
    run.mkdir()
    (run / "training_log.csv").write_text("epoch,train_loss,seconds\n1,0.9,713.0\n2,0.7,400.5\n3,0.6,399.5\n")
    assert release_cv.training_seconds(run, measured=799.0) == 1513.0
    assert release_cv.training_seconds(tmp_path / "never-trained.run", measured=12.5) == 12.5


def test_a_reused_fold_bundle_keeps_the_training_seconds_its_metadata_recorded(tmp_path):
    """A fold whose bundle is found already trained (its run folder gone): the seconds its metadata recorded,
    never the instant it took to find it (a committed fold once read 0.0 s)."""
    import release_cv

    bundle = tmp_path / "fold1"
    (bundle / "configs").mkdir(parents=True)
    (bundle / "configs" / "metadata.json").write_text(json.dumps({"training": {"seconds": 1274.5}}))
    assert release_cv.training_seconds(tmp_path / "fold1.run", measured=0.01, bundle=bundle) == 1274.5
    (bundle / "configs" / "metadata.json").write_text(json.dumps({"training": {}}))
    assert release_cv.training_seconds(tmp_path / "fold1.run", measured=0.01, bundle=bundle) == 0.01


def test_mupnet_against_the_lesion_classifier_pairs_the_same_lesions_by_group(tmp_path, monkeypatch):
    """The release MUP-Net's out-of-fold lesions against the lesion classifier's: only lesions and folds both
    scored, AUCs and the difference per site, the p-value permuting whole linked groups; rendered in words."""
    import release_classifier_cv

    from BreastUSAITraining.statistics.grouped import paired_auc_permutation_test

    rng = np.random.default_rng(5)
    cases = [f"{site}_{n:03d}" for site in ("busi", "busbra") for n in range(40)]
    sites = {case: case.split("_")[0] for case in cases}
    group_of = {case: index // 2 for index, case in enumerate(cases)}
    labels = {case: int(index % 4 < 2) for index, case in enumerate(cases)}   # both views of a group share a label
    classifier_folder = tmp_path / "release_classifier_cv"
    classifier_folder.mkdir()
    classifier = {}
    for fold in (0, 1):                                      # the classifier has folds 0 and 1 of the same four
        chosen = [c for i, c in enumerate(cases) if (i // 2) % 4 == fold]
        rows = [{"case_id": c, "lesion_id": "lesion_1", "label": labels[c],
                 "probability": float(np.clip(0.5 * labels[c] + rng.uniform(0, 0.5), 0, 1))} for c in chosen]
        classifier.update({r["case_id"]: r["probability"] for r in rows})
        (classifier_folder / f"fold{fold}.json").write_text(json.dumps({"fold": fold, "lesions": rows}))
    monkeypatch.setitem(release_classifier_cv.MODELS, "lesion-classifier",
                        (classifier_folder, tmp_path / "pooled.json", tmp_path / "work"))
    ours = [{"case_id": c, "lesion_id": "lesion_1", "label": labels[c], "fold": (i // 2) % 4,   # MUP-Net: folds 0-3
             "probability": float(rng.uniform(0, 1))} for i, c in enumerate(cases)]
    result = release_classifier_cv.against_lesion_classifier(ours, group_of, sites)
    assert result["folds"] == [0, 1]                          # only the folds the classifier has
    paired = [r for r in ours if r["fold"] in (0, 1)]
    everything = result["per_site"]["all"]
    assert everything["lesions"] == len(paired) and everything["groups"] == len(paired) // 2
    expected = paired_auc_permutation_test([r["label"] for r in paired], [r["probability"] for r in paired],
                                           [classifier[r["case_id"]] for r in paired], [group_of[r["case_id"]] for r in paired])
    assert everything["difference"] == pytest.approx(expected["difference"], abs=1e-4)
    assert everything["p_value"] == pytest.approx(expected["p_value"], rel=1e-2)
    assert everything["auc_lesion_classifier"] > 0.9 > everything["auc"]   # the classifier separates, random scores do not
    assert everything["p_value_method"].startswith("permutation of whole linked groups")
    assert set(result["per_site"]) == {"all", "busi", "busbra"}
    assert release_classifier_cv.against_lesion_classifier(
        [{**ours[0], "case_id": "elsewhere"}], group_of, sites) is None   # nothing in common: no comparison

    cv = {"all": {**everything, "auc_ci95_cluster": [0.4, 0.6], "malignant": 10,
                  "calibration": {"brier_before": 0.3, "brier_after": 0.25, "ece_before": 0.2, "ece_after": 0.1}},
          "per_site": {}, "folds_done": [0, 1, 2, 3], "release_temperature": 1.5,
          "machine": json.loads((Path(render_readme_tables.RESULTS) / "release_classifier_cv.json").read_text())["machine"],
          "against_lesion_classifier": result}
    text = "\n\n".join(render_readme_tables._classifier_cv(cv, "B-mode MUP-Net"))
    assert "| B-mode MUP-Net, reference-mask crops |" in text
    assert "the shipped model is calibrated once all five folds are done" in text   # 4 folds: no shipped temperature


def test_every_readme_column_at_a_best_epoch_says_it_was_chosen_on_the_test_fold():
    """Issue 19: a column computed at an epoch chosen on the held-out fold is labelled so in its own header,
    so no figure chosen on test data reads as unbiased (the README's tables as generated today)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    headers = [line for line, below in zip(readme.splitlines(), readme.splitlines()[1:])
               if line.startswith("|") and below.startswith("|---")]
    cells = [cell.strip() for line in headers for cell in line.strip("|").split("|") if "best epoch" in cell]
    assert cells, "no best-epoch column found: the check would pass vacuously"
    unlabelled = [cell for cell in cells if "chosen on the test fold" not in cell and "chosen on the held-out fold" not in cell]
    assert not unlabelled, unlabelled
