"""``train dlr``: CLDLR (VGG11 deep features + clinical -> calibrated SVM) or DLR_LH / DLR_BM
(ResNet 128-d embedding + age -> MLP). Stage 1 trains the CNN on the shared engine; stage 2
fits the second-stage model on the training lesions' features; the bundle holds both."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from torch import nn

from ..bundle import save_bundle
from ..errors import UsageError
from ..networks import network_config
from ..statistics import auc
from ..training import TrainingSettings, train
from ..training.bundle_facts import run_log_files, training_facts
from ..training.crop_dataset import crop_augmentation, stack_crops
from ..training.crop_task import CropClassifierTask
from ..training.crop_training import crop_training_data
from .clinical import DEFAULT_VARIABLES, ClinicalEncoder
from .labels import select
from .network import DeepRadiomicsModel, RadiomicsCNN
from .options import DLROptions  # noqa: E402,F401 (re-exported)

log = logging.getLogger(__name__)


class RadiomicsCNNTask(CropClassifierTask):
    """Stage 1: the CNN on grey lesion ROIs, cross-entropy, validation AUC."""

    metric = "auc"

    def __init__(self, kind: str, train_samples: list[dict[str, Any]], val_samples: list[dict[str, Any]],
                 arguments: dict[str, Any], augment: bool, description: dict[str, Any]) -> None:
        super().__init__(train_samples, val_samples, crop_augmentation() if augment else None)
        self.name, self.arguments = f"dlr-{kind}", arguments
        self.augment, self.description = augment, description

    def build_model(self) -> nn.Module:
        return RadiomicsCNN(**self.arguments)

    def training_loss(self, model: nn.Module, batch: Any, device: torch.device) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(model(batch["image"].to(device)).float(), batch["label"].to(device))

    def fingerprint(self) -> dict[str, Any]:
        return {"task": self.name, **self.arguments, "augment": self.augment, "train": len(self.train_samples),
                "val": len(self.val_samples), **self.description}


@torch.no_grad()
def deep_features(cnn: RadiomicsCNN, samples: list[dict[str, Any]]) -> np.ndarray:
    cnn.eval()
    x = stack_crops(samples)
    return np.concatenate([cnn(x[i : i + 32], with_features=True)[1].numpy() for i in range(0, len(x), 32)])


def fit_svm(features: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """RBF-SVM with sigmoid (Platt) calibration on cross-validated decisions, as tensors."""
    gamma = 1.0 / (features.shape[1] * max(float(features.var()), 1e-12))
    folds = int(min(5, np.bincount(labels, minlength=2).min()))
    if folds < 2:
        raise UsageError("the SVM needs at least 2 lesions of each class in training")
    model = CalibratedClassifierCV(SVC(kernel="rbf", gamma=gamma, C=1.0), method="sigmoid", ensemble=False, cv=folds)
    model.fit(features, labels)
    fitted = model.calibrated_classifiers_[0]
    svc, calibrator = fitted.estimator, fitted.calibrators[0]
    return {"support_vectors": torch.as_tensor(svc.support_vectors_, dtype=torch.float32),
            "dual_coef": torch.as_tensor(svc.dual_coef_[0], dtype=torch.float32),
            "svm_params": torch.tensor([svc.intercept_[0], gamma, calibrator.a_, calibrator.b_], dtype=torch.float32)}


def fit_mlp(model: DeepRadiomicsModel, features: np.ndarray, labels: np.ndarray, steps: int = 400) -> None:
    torch.manual_seed(0)
    x, y = torch.as_tensor(features), torch.as_tensor(labels)
    optimiser = torch.optim.Adam(model.mlp.parameters(), lr=3e-3, weight_decay=1e-3)
    for _ in range(steps):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model.mlp(x), y).backward()
        optimiser.step()


def train_dlr(data_dir: str | Path, out: str | Path, options: DLROptions, settings: TrainingSettings) -> Path | None:
    need = {"cldlr": "benign and malignant lesions", "lh": "lesions assessed BI-RADS 2/3 and 4/5",
            "bm": "benign and malignant BI-RADS 4A lesions"}.get(options.kind, "")
    data = crop_training_data(data_dir, options, lambda _dataset: ["us_bmode"],
                              f"{options.kind} needs {need} (with B-mode images) in training", settings.progress,
                              labelled_only=options.kind != "lh", select=lambda items: select(items, options.kind))
    dataset, training, validation = data.dataset, data.training, data.validation
    train_samples, val_samples = data.train_samples, data.val_samples
    arguments = {"arch": options.network, "width": options.width}
    task = RadiomicsCNNTask(options.kind, train_samples, val_samples, arguments, options.augment,
                            {"dataset": dataset.name, "val_fold": options.val_fold, "size": options.size})
    result = train(task, settings)
    if not result.is_main:
        return None
    cnn = result.model
    variables = list(DEFAULT_VARIABLES) if options.kind == "cldlr" else ["age"]
    encoder = ClinicalEncoder.fit([i["clinical"] for i in training], variables)
    clinical_train = np.stack([encoder.transform(i["clinical"]) for i in training])
    raw = np.concatenate([deep_features(cnn, train_samples), clinical_train], axis=1)
    mean, scale = raw.mean(axis=0), raw.std(axis=0)
    scale[scale < 1e-6] = 1.0
    labels = np.array([s["label"] for s in train_samples])
    head = "svm" if options.kind == "cldlr" else "mlp"
    svm = fit_svm((raw - mean) / scale, labels) if head == "svm" else None
    model_arguments = {**arguments, "clinical_dim": int(clinical_train.shape[1]), "head": head,
                       "n_support": int(svm["support_vectors"].shape[0]) if svm else 1}
    model = DeepRadiomicsModel(**model_arguments)
    model.cnn.load_state_dict(cnn.state_dict())
    model.feature_mean.copy_(torch.as_tensor(mean))
    model.feature_scale.copy_(torch.as_tensor(scale))
    if svm:
        for name, value in svm.items():
            getattr(model, name).copy_(value)
    else:
        fit_mlp(model, ((raw - mean) / scale).astype(np.float32), labels)
    model.eval()
    figures: dict[str, Any] = {"validation_auc_cnn": result.best_metric, "best_epoch": result.best_epoch}
    if val_samples:
        val_labels = np.array([s["label"] for s in val_samples])
        clinical_val = np.stack([encoder.transform(i["clinical"]) for i in validation])
        x_val = stack_crops(val_samples)
        with torch.no_grad():
            combined = model(x_val, torch.as_tensor(clinical_val)).numpy()
        clinical_only = LogisticRegression(max_iter=1000).fit(clinical_train, labels).predict_proba(clinical_val)[:, 1]
        if 0 < val_labels.sum() < len(val_labels):
            figures.update(validation_auc_combined=auc(val_labels, combined), validation_auc_clinical_only=auc(val_labels, clinical_only))
    names = {"cldlr": "CLDLR (deep radiomics + clinical, SVM)", "lh": "DLR_LH (low vs high BI-RADS risk)",
             "bm": "DLR_BM (benign vs malignant among BI-RADS 4A)"}
    metadata = {
        "task": "dlr", "kind": options.kind, "name": f"dlr-{options.kind}-{options.network}", "version": "1.0",
        "description": f"{names[options.kind]}, trained by BreastUSAI",
        "inputs": {"modalities": ["us_bmode"], "size": [options.size, options.size], "margin": options.margin,
                   "clinical": encoder.feature_names},
        "outputs": {"classes": ["low risk", "high risk"] if options.kind == "lh" else ["benign", "malignant"]},
        "metrics": figures,
        "training": training_facts(result, settings, dataset, {"val_fold": options.val_fold, "training_lesions": len(train_samples),
                                                                "validation_lesions": len(val_samples)}),
    }
    inference = {"network": network_config("deep_radiomics", **model_arguments), "kind": options.kind,
                 "modalities": ["us_bmode"], "size": options.size, "margin": options.margin,
                 "clinical_encoder": encoder.to_json(), "threshold": 0.5, "cam_layer": cnn.cam_layer}
    path = save_bundle(out, model.state_dict(), metadata, inference, run_log_files(settings.run_dir))
    log.info("%s bundle written to %s (%s)", options.kind, path, figures)
    return path
