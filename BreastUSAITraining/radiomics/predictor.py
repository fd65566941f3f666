"""A deep-radiomics bundle applied to one lesion: probability (+ Grad-CAM of its CNN)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..bundle import Bundle
from ..errors import InputFileError
from ..explain.gradcam import class_activation_maps
from ..segmentation.inference import network_from_bundle
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
