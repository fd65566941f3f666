"""``train mupnet``: dataset -> MUP-Net bundle with its prototype images."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ..bundle import save_bundle
from ..errors import UsageError
from ..networks import network_config
from ..planes.lesion_crops import channels_of
from ..training import TrainingSettings, train
from ..training.bundle_facts import run_log_files, training_facts
from ..training.crop_training import crop_training_data
from .network import MUPNet
from .options import MUPNET_MODALITIES, MUPNetOptions  # noqa: E402,F401 (re-exported)
from .task import MUPNetTask

log = logging.getLogger(__name__)


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def prototype_images(model: MUPNet, samples: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Per prototype: where it came from, and two PNGs (the patch, and the source crop with the patch boxed)."""
    records, files = [], {}
    offsets = np.cumsum([0] + model.channels)
    for j in range(len(model.prototype_class)):
        modality = model.modality_of(j)
        m = model.modalities.index(modality)
        source = int(model.prototype_source[j])
        record: dict[str, Any] = {"index": j, "modality": modality, "class": ["benign", "malignant"][int(model.prototype_class[j])]}
        if source < 0:
            record["pushed"] = False
            records.append(record)
            continue
        sample = samples[source]
        crop = sample["x"][offsets[m] : offsets[m + 1]]
        rgb = np.repeat(crop, 3, axis=0) if crop.shape[0] == 1 else crop
        rgb = np.ascontiguousarray(np.transpose(rgb, (1, 2, 0)))
        r0, c0, r1, c1 = (int(v) for v in model.prototype_box[j])
        patch_name, source_name = f"prototypes/{modality}_{j:02d}_patch.png", f"prototypes/{modality}_{j:02d}_source.png"
        files[patch_name] = _png(rgb[r0 : r1 + 1, c0 : c1 + 1])
        boxed = Image.fromarray(rgb)
        ImageDraw.Draw(boxed).rectangle([c0, r0, c1, r1], outline=(255, 255, 0), width=max(1, rgb.shape[0] // 112))
        buffer = io.BytesIO()
        boxed.save(buffer, format="PNG")
        files[source_name] = buffer.getvalue()
        record.update(pushed=True, source_case=sample["case_id"], source_lesion=sample["lesion_id"],
                      source_birads=sample["birads"], source_pathology=sample["pathology"],
                      feature_cell=[int(v) for v in model.prototype_cell[j]], box_in_crop=[r0, c0, r1, c1],
                      patch_image=patch_name, source_image=source_name)
        records.append(record)
    return records, files


def train_mupnet(data_dir: str | Path, out: str | Path, options: MUPNetOptions, settings: TrainingSettings) -> Path:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UsageError("MUP-Net trains in one process (its warm-up and push phases change which parameters learn); "
                         "run it without torchrun")

    def modalities_of(dataset) -> list[str]:
        present = {m for item in dataset.items for m in item.images}
        chosen = options.modalities or [m for m in MUPNET_MODALITIES if m in present]
        if not chosen:
            raise UsageError(f"{data_dir}: no ultrasound image (B-mode, Doppler or elastography) for MUP-Net")
        return chosen

    data = crop_training_data(data_dir, options, modalities_of,
                              "MUP-Net needs benign and malignant lesions with all of {modalities}", settings.progress)
    dataset, modalities, train_samples, val_samples = data.dataset, data.modalities, data.train_samples, data.val_samples
    arguments = {"modalities": modalities, "channels": [channels_of(m) for m in modalities],
                 "prototypes_per_modality": options.prototypes, "backbone": options.backbone,
                 "prototype_dim": options.prototype_dim, "top_k": options.top_k}
    warmup = min(options.warmup_epochs, max(settings.epochs - 1, 0))
    task = MUPNetTask(train_samples, val_samples, arguments, settings.epochs, warmup, options.push_every,
                      oversample=options.oversample, augment=options.augment,
                      description={"dataset": dataset.name, "val_fold": options.val_fold, "size": options.size})
    result = train(task, settings)
    records, files = prototype_images(result.model, train_samples)
    birads_known = sum(1 for s in train_samples if s["birads"])
    constraint = {"rule": "B-mode / Doppler: benign from BI-RADS 3/4A, malignant from 4C/5; elastography: 3 vs 5; "
                          "never 4B",
                  "lesions_with_birads": f"{birads_known} of {len(train_samples)}",
                  "applied": task.push_report,
                  "fallback": any("pathology only" in c["rule"] for classes in task.push_report.values() for c in classes.values())}
    if birads_known == 0:
        constraint["note"] = "BI-RADS missing for every training lesion: prototypes were pushed by pathology alone"
    metadata = {
        "task": "mupnet",
        "name": f"mupnet-{'-'.join(m.replace('us_', '') for m in modalities)}-{options.backbone}",
        "version": "1.0",
        "description": "MUP-Net interpretable multimodal prototype network (Commun Med 2024), trained by BreastUSAI",
        "inputs": {"modalities": modalities, "channels": arguments["channels"], "size": [options.size, options.size],
                   "margin": options.margin, "intensity": "grey: percentile 0.5-99.5 per crop; colour: /255"},
        "outputs": {"classes": ["benign", "malignant"], "explanation": "matched prototypes, six contribution scores, "
                                                                        "similarity maps"},
        "metrics": {"validation_auc": result.best_metric, "best_epoch": result.best_epoch, "push_epochs": task.push_epochs},
        "prototypes": records,
        "push_constraint": constraint,
        "training": training_facts(result, settings, dataset, {"val_fold": options.val_fold, "modalities": modalities,
                                                                "training_lesions": len(train_samples),
                                                                "validation_lesions": len(val_samples)}),
    }
    inference = {"network": network_config("mupnet", **arguments), "size": options.size, "margin": options.margin,
                 "modalities": modalities, "threshold": 0.5}
    extra = {**run_log_files(settings.run_dir), **files}
    path = save_bundle(out, result.model.state_dict(), metadata, inference, extra)
    log.info("MUP-Net bundle written to %s (validation AUC %s)", path, result.best_metric)
    return path
