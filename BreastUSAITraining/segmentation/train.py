"""``train segmentation``: dataset -> trained lesion-segmentation bundle."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..bundle import load_bundle, save_bundle
from ..bundle.bundle import read_state_dict
from ..dataset import load_dataset
from ..dataset.loader import case_dicts
from ..errors import InputFileError, UsageError
from ..networks import network_config
from ..training import TrainingSettings, train
from ..training.bundle_facts import resolve_val_fold, run_log_files, training_facts
from .options import SegmentationOptions  # noqa: E402,F401 (re-exported)
from .samples import build_2d_samples, build_3d_samples
from .task import SegmentationTask

log = logging.getLogger(__name__)


def select_cases(data_dir: str | Path, options: SegmentationOptions) -> tuple[Any, list[dict], list[dict]]:
    """(dataset, training cases, validation cases) of the fold split."""
    dataset = load_dataset(data_dir)
    options.val_fold = resolve_val_fold(dataset, options.val_fold)
    excluded = [options.val_fold] if options.val_fold is not None else None
    training = case_dicts(dataset, "training", exclude_folds=excluded, modality=options.modality)
    validation = case_dicts(dataset, "training", folds=[options.val_fold], modality=options.modality) if excluded else []
    if not options.include_normal:
        training = [c for c in training if c["segments"]]
    if not any(c["segments"] for c in training):
        raise UsageError(f"{data_dir}: no training case with a lesion segment"
                         + (f" for modality {options.modality}" if options.modality else ""))
    kinds = {c["modality"] for c in training}
    if options.spatial == "3d" and kinds != {"abvs"}:
        raise UsageError(f"--spatial 3d needs ABVS volumes; {data_dir} has {', '.join(sorted(kinds))} (use --modality abvs)")
    return dataset, training, validation


def initial_weights(path: str | Path, network: dict[str, Any]) -> dict[str, Any]:
    """Weights to start from: a segmentation bundle (verified; its network must be
    ``network`` - the input size may differ, the UNet is fully convolutional, so a model
    trained at 128 px can go on at 256 px) or a plain state_dict file."""
    path = Path(path)
    if not path.is_dir():
        return read_state_dict(path)
    bundle = load_bundle(path, "segmentation")
    if _weights_layout(bundle.inference.get("network")) != _weights_layout(network):
        raise InputFileError(path, f"bundle network {bundle.inference.get('network')} differs from the one trained here "
                                   f"({network}): give the same --arch, --spatial and --channels")
    return dict(bundle.state_dict)


def _weights_layout(network: Any) -> Any:
    """A network description without what does not shape the weights (the encoder's batch-norm
    momentum), so weights move between bundles that differ only there."""
    if not isinstance(network, dict):
        return network
    arguments = {k: v for k, v in dict(network.get("arguments", {})).items() if k != "encoder_bn_momentum"}
    return {**network, "arguments": arguments}


def train_segmentation(data_dir: str | Path, out: str | Path, options: SegmentationOptions,
                       settings: TrainingSettings) -> Path | None:
    """Train and write the bundle (rank 0 only; other ranks return None)."""
    problems = options.problems()
    if problems:
        raise UsageError("; ".join(problems))
    dataset, training, validation = select_cases(data_dir, options)
    if options.spatial == "2d":
        train_samples = build_2d_samples(training, options.size, seed=settings.seed, progress=settings.progress)
        val_samples = build_2d_samples(validation, options.size, seed=settings.seed + 1, progress=settings.progress)
    else:
        train_samples = build_3d_samples(training, progress=settings.progress)
        val_samples = build_3d_samples(validation, progress=settings.progress)
        for sample in train_samples + val_samples:
            if any(s < p for s, p in zip(sample["image"].shape[1:], options.patch_kji)):
                raise UsageError(f"case {sample['case_id']}: volume {sample['image'].shape[1:]} is smaller than --patch {options.patch_kji}")
    modalities = sorted({c["modality"] for c in training})
    task = SegmentationTask(train_samples, val_samples, options.arch, 2 if options.spatial == "2d" else 3,
                            options.base_channels, options.augment, options.patch_kji,
                            {"dataset": dataset.name, "val_fold": options.val_fold, "modalities": modalities,
                             "size": options.size, "initial_weights": Path(options.weights).name if options.weights else "random"},
                            options.encoder_bn_momentum if options.arch == "flexunet-effb0" else None)
    if options.weights:
        task.initial_weights = initial_weights(options.weights, network_config("segmentation", **task.network_arguments()))
        try:
            task.build_model()
        except RuntimeError as error:
            raise InputFileError(options.weights, f"weights do not fit the network ({str(error)[:300]})") from None
    result = train(task, settings)
    if not result.is_main:
        return None
    selection = {"val_fold": options.val_fold, "training_cases": len(training), "validation_cases": len(validation),
                 "training_samples": len(train_samples), "validation_samples": len(val_samples),
                 "modalities": modalities, "normal_images_in_training": sum(1 for c in training if not c["segments"]),
                 "initial_weights": Path(options.weights).name if options.weights else "random"}
    best = next((row for row in result.history if row["epoch"] == result.best_epoch), {})
    metadata = {
        "task": "segmentation",
        "name": f"lesion-segmentation-{options.arch}-{options.spatial}",
        "version": "1.0",
        "description": f"Breast lesion segmentation, MONAI {options.arch} ({options.spatial}), trained by BreastUSAI",
        "inputs": {"image": {"modalities": modalities, "channels": 1, "colour": "grey",
                             "intensity": "percentile 0.5-99.5 to [0, 1] per image (2D) / per volume (3D)"}},
        "outputs": {"segments": "one per lesion", "classes": ["background", "lesion"]},
        "metrics": {"validation_dice": result.best_metric,
                    "validation_iou": best.get("val_iou"), "best_epoch": result.best_epoch},
        "training": training_facts(result, settings, dataset, selection),
    }
    inference = {
        "network": network_config("segmentation", **task.network_arguments()),
        "spatial": options.spatial,
        "input_size": [options.size, options.size] if options.spatial == "2d" else list(options.patch_kji),
        "intensity": {"method": "percentile", "low": 0.5, "high": 99.5},
        "postprocessing": {"threshold": options.threshold, "min_size_mm": options.min_size_mm,
                           "min_voxels": options.min_voxels, "flip_tta": True},
    }
    path = save_bundle(out, result.model.state_dict(), metadata, inference, run_log_files(settings.run_dir))
    log.info("segmentation bundle written to %s (validation Dice %s)", path, result.best_metric)
    return path
