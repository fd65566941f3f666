"""A deep-radiomics bundle applied to one lesion: probability (+ Grad-CAM of its CNN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..bundle import Bundle
from ..errors import InputFileError
from ..explain.gradcam import class_activation_maps
from ..families.family import ExplainOptions
from ..families.lesion import MALIGNANT_WORDS, RISK_WORDS, LesionInput, LesionOutcome, timed
from ..planes.lesion_crops import crops_of_lesion
from ..segmentation.inference import network_from_bundle
from . import network as _network  # noqa: F401 (importing it registers the family's network)
from .clinical import ClinicalEncoder


class RadiomicsPredictor:
    def __init__(self, bundle: Bundle, device: torch.device) -> None:
        if bundle.task != "dlr":
            raise InputFileError(bundle.root, f"bundle is a {bundle.task!r} model, not a deep-radiomics model")
        self.bundle, self.device = bundle, device
        self.network = network_from_bundle(bundle, device)
        self.kind = bundle.inference["kind"]
        self.modalities = list(bundle.inference["modalities"])
        self.size, self.margin = int(bundle.inference["size"]), float(bundle.inference["margin"])
        self.encoder = ClinicalEncoder.from_json(bundle.inference["clinical_encoder"])

    def probability(self, crop: np.ndarray, clinical: dict[str, Any]) -> float:
        """Malignant (``lh``: high-risk) probability of one lesion crop (1, S, S) in [0, 1]."""
        x = torch.as_tensor(crop, dtype=torch.float32, device=self.device)[None]
        c = torch.as_tensor(self.encoder.transform(clinical or {}), device=self.device)[None]
        with torch.no_grad():
            return float(self.network(x, c)[0])

    def heatmap(self, crop: np.ndarray) -> np.ndarray:
        """Grad-CAM of the CNN for its predicted class, (S, S) in [0, 1]."""
        x = torch.as_tensor(crop, dtype=torch.float32, device=self.device)[None]
        _, maps = class_activation_maps(self.network.cnn, x, {"cnn": self.bundle.inference["cam_layer"]})
        return maps["cnn"][0]

    # -- the family's predictor interface (families.LesionPredictor) ---------------------------
    @property
    def threshold(self) -> float:
        return float(self.bundle.inference.get("threshold", 0.5))

    @property
    def kinds(self) -> list[str]:
        return list(self.modalities)

    def check_image(self, image) -> None:
        if not image.is_2d:
            raise InputFileError(image.source, f"deep-radiomics model {self.bundle.name} reads 2D images; this is a volume")

    def predict(self, lesion: LesionInput, explain: bool = False, options: ExplainOptions | None = None) -> LesionOutcome:
        """Probability from the lesion's grey ROI and its clinical record (missing values imputed and
        flagged); DLR_LH scores high risk (BI-RADS 4/5), not malignancy."""
        seconds: dict[str, float] = {}
        with timed(seconds, "classify"):
            x, _ = crops_of_lesion(lesion, self.kinds, self.size, self.margin)
            probability = self.probability(x, lesion.clinical)
        document = {"kind": self.kind, "clinical_given": sorted(lesion.clinical),
                    "clinical_missing": sorted(set(self.encoder.variables) - set(lesion.clinical))}
        high_risk = self.kind == "lh"
        return LesionOutcome(self.bundle.name, self.bundle.task, probability, self.threshold,
                             words=RISK_WORDS if high_risk else MALIGNANT_WORDS, malignancy=not high_risk,
                             document=document, seconds=seconds)

    def write_explanation(self, folder: Path, lesion: LesionInput, outcome: LesionOutcome, options: ExplainOptions,
                          facts: dict[str, Any]) -> None:
        """No explanation file (the CNN's Grad-CAM is :meth:`heatmap`)."""
