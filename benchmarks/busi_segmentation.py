"""BUSI lesion segmentation, duplicate-aware 5-fold cross-validation (issue 3 benchmark).

For each architecture and fold: train on the other folds (benign, malignant and
normal images; label-conflict groups train-only), keep the best validation epoch,
then segment every benign / malignant image of the held-out fold at its **original
resolution** through the same inference path as ``predict`` (flip TTA, probability
resized back) and compare with the radiologists' mask: Dice and IoU per image.

    python benchmarks/busi_segmentation.py [--archs unet flexunet-effb0] [--folds 0 1 2 3 4]
        [--epochs 40] [--size 256] [--batch-size 16] [--augment 1.0] [--no-normal]
        [--variant NAME] [--warmup-epochs N --warmup-size 128 --warmup-lr 1e-3] [--device auto] [--threads N]
    python benchmarks/busi_segmentation.py --score-last-epoch [--work DIR]   # last-epoch Dice of finished folds
    python benchmarks/busi_segmentation.py --reevaluate [--rescore-only VARIANT ...]  # score finished folds again

Each finished fold is saved at once as ``results/busi_segmentation/<arch>_fold<k>.json``
(a rerun skips folds already done with the same settings; training itself resumes from
its last epoch checkpoint), so a long CPU run can be stopped, continued, or split over
several processes (``--folds 0 2 4`` and ``--folds 1 3``); ``results/busi_segmentation.json``
pools the finished folds. ``--combine`` only rebuilds that summary; ``--reevaluate`` scores
finished folds again from their kept bundles (no training).

Dice figures per image: the raw thresholded probability (``dice``, the lesion class), the
mean of the lesion's and the background's Dice (``dice_two_class``: what a mean Dice over both
classes reports, e.g. MONAI's ``DiceMetric(include_background=True)``), after the
post-processing of SPEC 3.1 (``dice_postprocessed``), and with the lesion known to be
present (``dice_expect_lesion``: ``predict --expect-lesion``, the most probable region when
nothing passes the threshold - every BUSI benign / malignant image holds a lesion). The held-out
fold is also each run's validation fold, so the kept best epoch was chosen on test data:
every fold is scored a second time with its final epoch's weights (``dice_last_epoch``, no
choice made), and the difference shows what that choice is worth. ``--variant NAME`` keeps a
second recipe of the same architecture (e.g. another batch size) as its own row
(files ``<variant>_fold<k>.json``); without it the row is named after the architecture.
``--split random`` trains and scores a recipe on folds drawn image by image instead (what most
published BUSI figures use; near-duplicates of a test image may be trained on), to measure what
the honest split costs. Declared recipe pairs (``PAIRED_COMPARISONS``) are compared image by
image at the final epoch in the summary (``paired_last_epoch``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from busi_groups import groups_for  # noqa: E402
from fold_files import fold_done, last_epoch_checkpoint, newest_machine, save_json, with_last_epoch_weights  # noqa: E402
from machine import machine_info  # noqa: E402

if TYPE_CHECKING:
    from BreastUSAITraining.imagefiles import ImageData

RESULT = HERE / "results" / "busi_segmentation.json"
MISS = 0.1  # an image whose lesion Dice is below this is counted as missed


def ensure_busi(work: Path, source: Path) -> Path:
    from BreastUSAITraining.dataset.busi import import_busi

    target = work / "busi_dataset"
    if not (target / "dataset.json").is_file():
        import_busi(source, target, progress=False)
    return target


def add_scoring_options(parser: argparse.ArgumentParser) -> None:
    """The options of the scripts that score finished runs of this benchmark again (no training)."""
    parser.add_argument("--folds", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="held-out folds to score")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "breastusai-bench"),
                        help="busi_segmentation.py's --work folder (run folders, imported BUSI)")
    parser.add_argument("--busi", default=str(REPO.parent / "shared" / "data" / "busi"),
                        help="BUSI source folder (imported into --work once, if not there yet)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")


def prepare_busi_run(work: str, busi: str, threads: int) -> tuple[Path, Path]:
    """What every BUSI cross-validation benchmark does first: torch's CPU threads (0 keeps
    torch's default), the work folder, and BUSI imported into it once. Returns (work, dataset)."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    folder = Path(work)
    folder.mkdir(parents=True, exist_ok=True)
    return folder, ensure_busi(folder, Path(busi))


def split_dataset(work: Path, dataset_dir: Path, split: str | None) -> Path:
    """The dataset folder whose folds a recipe uses: BUSI as imported (duplicate-aware folds), or
    for ``split == "random"`` its copy with folds drawn image by image (``random_split.py``)."""
    if split in (None, "duplicate-aware"):
        return dataset_dir
    from random_split import write_random_split

    return write_random_split(dataset_dir, work / "busi_dataset_random_split")


def lesion_images(dataset_dir: Path, fold: int) -> Iterator[tuple[dict, ImageData, np.ndarray]]:
    """``(case, image, truth)`` for every image of ``fold`` that holds a lesion (benign / malignant;
    normal images are skipped): the images every segmentation figure here is scored on."""
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.loader import case_dicts
    from BreastUSAITraining.segmentation.samples import read_case

    for case in case_dicts(load_dataset(dataset_dir), "training", folds=[fold]):
        if case["segments"]:
            yield (case, *read_case(case))


def evaluate_fold(bundle: Path, dataset_dir: Path, fold: int, device: str, model=None) -> list[dict]:
    """Dice / IoU per benign-malignant image of ``fold`` at original resolution.

    ``model``: an already loaded Bundle to score instead of ``bundle`` as saved - e.g. with
    its final epoch's weights (``with_last_epoch_weights``): the validation fold is the
    held-out fold here, so the saved best epoch was chosen on test data, the last one was not."""
    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.segmentation.inference import LesionSegmenter
    from BreastUSAITraining.segmentation.task import dice_and_iou
    from BreastUSAITraining.training.device import resolve_device

    segmenter = LesionSegmenter(model or load_bundle(bundle, "segmentation"), resolve_device(device))
    rows = []
    for case, image, truth in lesion_images(dataset_dir, fold):
        probability = segmenter.probability(image)
        dice, iou = dice_and_iou(probability >= 128, truth)
        dice_background = dice_and_iou(probability < 128, ~truth)[0]
        lesions = segmenter.lesions(image, probability)
        dice_post, iou_post = dice_and_iou(_union(lesions, truth.shape), truth)
        known = lesions or segmenter.lesions(image, probability, expect_lesion=True)
        dice_known, iou_known = dice_and_iou(_union(known, truth.shape), truth)
        rows.append({"case_id": case["case_id"], "pathology": case["pathology"], "dice": dice, "iou": iou,
                     "dice_two_class": (dice + dice_background) / 2,
                     "dice_postprocessed": dice_post, "iou_postprocessed": iou_post,
                     "dice_expect_lesion": dice_known, "iou_expect_lesion": iou_known})
    return rows


def _union(lesions: list, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for lesion in lesions:
        mask |= lesion.mask
    return mask


def training_seconds(bundle: Path) -> float | None:
    """Seconds the training of ``bundle`` took, from its run logs (the epochs' own times, so a
    resumed run counts every epoch once), its warm-up stage's included; None without logs."""
    total, found = 0.0, False
    for log in (bundle.with_name(bundle.name + "_warmup.run"), bundle.with_name(bundle.name + ".run")):
        csv = log / "training_log.csv"
        if csv.is_file():
            lines = csv.read_text().strip().splitlines()
            column = lines[0].split(",").index("seconds")
            total += sum(float(line.split(",")[column]) for line in lines[1:])
            found = True
    return round(total, 1) if found else None


def reevaluate(fold_file: Path, bundle: Path, dataset_dir: Path, device: str) -> None:
    """Score a finished fold again with its kept bundle (new measures, same training)."""
    record = json.loads(fold_file.read_text())
    rows = evaluate_fold(bundle, dataset_dir, record["fold"], device)
    record.update(images=rows, dice=summarise(rows, "dice"), iou=summarise(rows, "iou"),
                  dice_postprocessed=summarise(rows, "dice_postprocessed"))
    record["train_seconds"] = training_seconds(bundle) or record["train_seconds"]
    save_json(fold_file, record)
    print(f"{fold_file.name}: re-evaluated, Dice {record['dice']['mean']:.4f}, "
          f"lesion known present {summarise(rows, 'dice_expect_lesion')['mean']:.4f}")


def score_last_epoch(fold_file: Path, bundle: Path, dataset_dir: Path, device: str) -> None:
    """Add the final epoch's Dice / IoU per image (``dice_last_epoch``) to a finished fold."""
    record = json.loads(fold_file.read_text())
    checkpoint = last_epoch_checkpoint(bundle)
    if not checkpoint.is_file():
        print(f"{fold_file.name}: no {checkpoint}, last epoch not scored")
        return
    model, record["last_epoch"] = with_last_epoch_weights(bundle, "segmentation")
    last = {r["case_id"]: r for r in evaluate_fold(bundle, dataset_dir, record["fold"], device, model)}
    for row in record["images"]:
        row["dice_last_epoch"], row["iou_last_epoch"] = last[row["case_id"]]["dice"], last[row["case_id"]]["iou"]
    record["dice_last_epoch"] = summarise(record["images"], "dice_last_epoch")
    save_json(fold_file, record)
    print(f"{fold_file.name}: last epoch ({record['last_epoch']}) Dice {record['dice_last_epoch']['mean']:.4f} "
          f"vs best epoch ({record['best_epoch']}) {record['dice']['mean']:.4f}")


def summarise(rows: list[dict], key: str) -> dict:
    values = [r[key] for r in rows]
    return {"mean": statistics.fmean(values), "sd": statistics.pstdev(values), "n": len(values)}


# Recipe pairs that differ in one ingredient, compared image by image at the final epoch
# (row, reference row): what that ingredient is worth on the same images.
PAIRED_COMPARISONS = (
    ("unet-128px-60ep", "unet"),                        # 128 px, 60 epochs, lighter augmentation vs the first recipe
    ("unet-128px-120ep", "unet-128px-60ep"),            # twice the epochs
    ("unet-128px-200ep", "unet-128px-120ep"),           # 200 epochs vs 120
    ("unet-32ch-128px-60ep", "unet-128px-60ep"),        # twice the width (32 channels vs 16), same schedule
    ("unet-32ch-128px-60ep", "unet-128px-120ep"),       # twice the width vs twice the epochs (similar CPU cost)
    ("flexunet-effb0-128px-60ep", "unet-32ch-128px-60ep"),  # EfficientNet-b0 encoder vs the 32-channel UNet
    ("flexunet-effb0-128px-60ep", "unet-128px-60ep"),       # EfficientNet-b0 encoder vs the 16-channel UNet
    ("flexunet-effb0-128px-60ep", "unet-128px-120ep"),      # ... and vs the best UNet recipe (twice its epochs)
    ("flexunet-effb0-128px-120ep", "flexunet-effb0-128px-60ep"),  # the FlexibleUNet with twice the epochs
    ("flexunet-effb0-128px-120ep", "unet-128px-120ep"),           # ... vs the UNet on the same 120 epochs
    ("flexunet-effb0-128px-60ep-bn0.1", "flexunet-effb0-128px-60ep"),  # encoder momentum 0.1 vs MONAI's 0.01
    ("unet-128px-60ep-random-split", "unet-128px-60ep"),    # random image-level folds vs duplicate-aware ones
    ("flexunet-effb0-128px-120ep", "unet-128px-30ep-flips"),  # the best recipe vs issue 3's plain reference, remade
    ("unet-128px-60ep", "unet-128px-30ep-flips"),             # our first 128 px UNet recipe vs the plain reference
    ("flexunet-effb0-192px-60ep", "flexunet-effb0-128px-60ep-bn0.1"),  # 192 px vs 128 px input, same recipe
)


def wilcoxon_p(differences: list[float]) -> float:
    """Two-sided Wilcoxon signed-rank p of paired differences; 1.0 when every difference is 0."""
    from scipy.stats import wilcoxon

    return float(wilcoxon(differences).pvalue) if any(differences) else 1.0


def paired_versus(reference: dict, other: dict, key: str = "dice") -> dict:
    """Per-image Dice (``key``: ``dice`` at the kept epoch, ``dice_last_epoch`` at the final
    one) of ``other`` minus ``reference`` on the images both scored: mean difference, the
    Wilcoxon signed-rank test (two-sided), and how many of those images each misses
    (Dice < ``MISS``)."""
    from BreastUSAITraining.statistics.grouped import grouped_wilcoxon

    ref = {r["case_id"]: r[key] for f in reference["folds"].values() for r in f["images"] if key in r}
    pairs = [(r[key], ref[r["case_id"]], r["case_id"]) for f in other["folds"].values() for r in f["images"]
             if key in r and r["case_id"] in ref]
    if not pairs:
        return {"images_paired": 0}
    differences = [a - b for a, b, _ in pairs]
    grouped = grouped_wilcoxon(differences, groups_for([c for _, _, c in pairs]))
    return {"images_paired": len(pairs), "groups_paired": grouped["groups"], "dice_difference": statistics.fmean(differences),
            "wilcoxon_p": grouped["p_value"], "wilcoxon_p_method": "signed-rank over duplicate groups (group means)",
            "wilcoxon_p_images_independent": wilcoxon_p(differences), "epoch": key,
            "missed": sum(a < MISS for a, _, _ in pairs), "reference_missed": sum(b < MISS for _, b, _ in pairs)}


def combine(folds_dir: Path, out: Path) -> dict:
    """Pool every finished fold file into the summary JSON the README table is made from."""
    runs: dict[str, dict] = {}
    for path in sorted(folds_dir.glob("*_fold*.json")):
        record = json.loads(path.read_text())
        name = record["config"].get("variant", record["config"]["arch"])
        run = runs.setdefault(name, {"config": record["config"], "folds": {}})
        if record["config"] != run["config"]:
            continue
        run["folds"][str(record["fold"])] = record
    machine = newest_machine([f for run in runs.values() for f in run["folds"].values()])
    for run in runs.values():
        folds = run["folds"]
        pooled = [r for f in folds.values() for r in f["images"]]
        run["summary"] = {"folds_done": sorted(int(f) for f in folds), "dice": summarise(pooled, "dice"),
                          "iou": summarise(pooled, "iou"), "dice_postprocessed": summarise(pooled, "dice_postprocessed"),
                          "iou_postprocessed": summarise(pooled, "iou_postprocessed"),
                          **({"dice_expect_lesion": summarise(pooled, "dice_expect_lesion"),
                              "iou_expect_lesion": summarise(pooled, "iou_expect_lesion")}
                             if all("dice_expect_lesion" in r for r in pooled) else {}),
                          **({"dice_two_class": summarise(pooled, "dice_two_class")}
                             if all("dice_two_class" in r for r in pooled) else {}),
                          **({"dice_last_epoch": summarise(pooled, "dice_last_epoch"),
                              "iou_last_epoch": summarise(pooled, "iou_last_epoch")}
                             if all("dice_last_epoch" in r for r in pooled) else {}),
                          "fold_dice_means": [folds[k]["dice"]["mean"] for k in sorted(folds)],
                          "train_minutes_total": round(sum(f["train_seconds"] for f in folds.values()) / 60, 1),
                          "devices": sorted({f["device"] for f in folds.values()})}
        for record in folds.values():
            record.pop("machine", None)
    if "unet" in runs:
        for name, run in runs.items():
            if name != "unet":
                last = all("dice_last_epoch" in r for f in run["folds"].values() for r in f["images"])
                run["summary"]["versus_unet"] = paired_versus(runs["unet"], run, "dice_last_epoch" if last else "dice")
    comparisons = [{"recipe": name, "reference": reference, **paired_versus(runs[reference], runs[name], "dice_last_epoch")}
                   for name, reference in PAIRED_COMPARISONS if name in runs and reference in runs]
    result = {"machine": machine, "runs": runs,
              "paired_last_epoch": [c for c in comparisons if c["images_paired"]]}
    save_json(out, result)
    return result


def recipe_config(arch: str, args: argparse.Namespace) -> dict:
    """The settings that name a row: a fold file counts as done only for exactly these."""
    from BreastUSAITraining.networks.segmentation import MONAI_ENCODER_BN_MOMENTUM

    config = {"arch": arch, "size": args.size, "channels": args.channels if arch == "unet" else None,
              "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
              "loss": "Dice + CE", "augmentation": "flip LR, affine, gain, gamma, blur, noise", "tta": "flip LR"}
    if arch == "flexunet-effb0" and args.encoder_bn_momentum != MONAI_ENCODER_BN_MOMENTUM:
        config["encoder_bn_momentum"] = args.encoder_bn_momentum  # MONAI's own: no key, as the older rows
    if args.augment != 1.0 or args.no_normal or args.variant or args.warmup_epochs:
        config.update({"augment_strength": args.augment, "normal_images": not args.no_normal,
                       "variant": args.variant or arch})
    if args.warmup_epochs:
        config["warmup"] = {"size": args.warmup_size, "epochs": args.warmup_epochs, "lr": args.warmup_lr}
    if args.split != "duplicate-aware":
        config["split"] = args.split
    return config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busi", default=str(REPO.parent / "shared" / "data" / "busi"), help="BUSI source folder")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "breastusai-bench"), help="scratch folder")
    parser.add_argument("--archs", nargs="+", default=["unet", "flexunet-effb0"], help="architectures to run")
    parser.add_argument("--folds", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="held-out folds to run")
    parser.add_argument("--epochs", type=int, default=40, help="training epochs per fold")
    parser.add_argument("--batch-size", type=int, default=16, help="images per optimiser step")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (AdamW, cosine schedule)")
    parser.add_argument("--size", type=int, default=256, help="network input size in pixels")
    parser.add_argument("--channels", type=int, default=16, help="UNet first-level width")
    parser.add_argument("--encoder-bn-momentum", type=float, default=0.1,
                        help="FlexibleUNet encoder batch-norm momentum, as train segmentation (default: 0.1); the "
                             "FlexibleUNet rows measured before this option were trained with MONAI's own 0.01: give "
                             "--encoder-bn-momentum 0.01 to repeat them")
    parser.add_argument("--augment", type=float, default=1.0, help="augmentation strength (0 = none)")
    parser.add_argument("--no-normal", action="store_true", help="train on benign + malignant images only")
    parser.add_argument("--variant", help="name of this recipe's row and fold files (default: the architecture)")
    parser.add_argument("--split", choices=("duplicate-aware", "random"), default="duplicate-aware",
                        help="folds: BreastUSAI's duplicate-aware ones (default), or drawn image by image at random as "
                             "most published BUSI results are (near-duplicates may straddle folds; benchmarks/"
                             "random_split.py) - to measure what the honest split costs; give it its own --variant")
    parser.add_argument("--warmup-epochs", type=int, default=0,
                        help="progressive resizing: first train this many epochs at --warmup-size, then --epochs at --size "
                             "from those weights (train segmentation --weights) (default: 0, off)")
    parser.add_argument("--warmup-size", type=int, default=128, help="input size of the warm-up stage (default: 128)")
    parser.add_argument("--warmup-lr", type=float, default=1e-3, help="peak learning rate of the warm-up stage (default: 1e-3)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--out", default=str(RESULT),
                        help="pooled result JSON (the README table is rendered from it)")
    parser.add_argument("--combine", action="store_true", help="only pool the finished fold files into the summary")
    parser.add_argument("--reevaluate", action="store_true",
                        help="score every finished fold file again (best and last epoch) from its run in --work, any "
                             "recipe (no training), then pool")
    parser.add_argument("--score-last-epoch", action="store_true",
                        help="add the final epoch's Dice to every finished fold file that lacks it and whose run is "
                             "in --work (any recipe; no training), then pool; new folds get it anyway")
    parser.add_argument("--rescore-only", nargs="+", metavar="VARIANT",
                        help="with --reevaluate / --score-last-epoch: only these recipes' fold files (row names, e.g. "
                             "unet-128px-120ep; default: every recipe)")
    return parser


def main() -> int:
    parser = build_parser()
    args = parser.parse_args()
    if args.split != "duplicate-aware" and not args.variant:  # before BUSI is imported, not after
        parser.error("--split random needs its own --variant (its folds are not the duplicate-aware ones)")
    if args.combine:
        combine(Path(args.out).with_suffix(""), Path(args.out))
        return 0

    from BreastUSAITraining.segmentation.train import SegmentationOptions, train_segmentation
    from BreastUSAITraining.training import TrainingSettings

    work, honest_dataset = prepare_busi_run(args.work, args.busi, args.threads)
    folds_dir = Path(args.out).with_suffix("")
    if args.score_last_epoch or args.reevaluate:
        for fold_file in sorted(folds_dir.glob("*_fold*.json")):
            bundle = work / f"seg_{fold_file.stem}"
            if not bundle.is_dir() or (args.rescore_only and fold_file.stem.rsplit("_fold", 1)[0] not in args.rescore_only):
                continue
            record = json.loads(fold_file.read_text())
            dataset_dir = split_dataset(work, honest_dataset, record["config"].get("split"))
            if args.reevaluate:
                reevaluate(fold_file, bundle, dataset_dir, args.device)
            if args.reevaluate or "dice_last_epoch" not in record:
                score_last_epoch(fold_file, bundle, dataset_dir, args.device)
        combine(folds_dir, Path(args.out))
        return 0
    for arch in args.archs:
        config = recipe_config(arch, args)
        dataset_dir = split_dataset(work, honest_dataset, config.get("split"))
        name = config.get("variant", arch)
        for fold in args.folds:
            fold_file = folds_dir / f"{name}_fold{fold}.json"
            if fold_done(fold_file, config):
                print(f"{name} fold {fold}: done before, skipped")
                continue
            started = time.perf_counter()
            bundle = work / f"seg_{name}_fold{fold}"
            recipe = {"arch": arch, "val_fold": fold, "base_channels": args.channels, "augment": args.augment,
                      "include_normal": not args.no_normal, "encoder_bn_momentum": args.encoder_bn_momentum}
            warm = None
            if args.warmup_epochs:  # progressive resizing: many cheap epochs small, then a few at --size
                warm = work / f"seg_{name}_fold{fold}_warmup"
                if not (warm / "configs" / "metadata.json").is_file():
                    train_segmentation(dataset_dir, warm, SegmentationOptions(size=args.warmup_size, **recipe), TrainingSettings(
                        run_dir=work / f"seg_{name}_fold{fold}_warmup.run", epochs=args.warmup_epochs,
                        batch_size=args.batch_size, learning_rate=args.warmup_lr, device=args.device, resume=True,
                        progress=False))
            settings = TrainingSettings(run_dir=work / f"seg_{name}_fold{fold}.run", epochs=args.epochs,
                                        batch_size=args.batch_size, learning_rate=args.lr, device=args.device,
                                        resume=True, progress=False)
            train_segmentation(dataset_dir, bundle, SegmentationOptions(size=args.size, weights=str(warm) if warm else None,
                                                                        **recipe), settings)
            train_seconds = training_seconds(bundle) or time.perf_counter() - started
            rows = evaluate_fold(bundle, dataset_dir, fold, args.device)
            metadata = json.loads((bundle / "configs" / "metadata.json").read_text())
            record = {"config": config, "fold": fold, "machine": machine_info(),
                      "train_seconds": round(train_seconds, 1), "best_epoch": metadata["metrics"]["best_epoch"],
                      "device": metadata["training"]["device"], "images": rows,
                      "dice": summarise(rows, "dice"), "iou": summarise(rows, "iou"),
                      "dice_postprocessed": summarise(rows, "dice_postprocessed")}
            save_json(fold_file, record)
            score_last_epoch(fold_file, bundle, dataset_dir, args.device)
            print(f"{name} fold {fold}: Dice {record['dice']['mean']:.4f} "
                  f"(post {record['dice_postprocessed']['mean']:.4f}), {train_seconds / 60:.1f} min")
    combine(folds_dir, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
