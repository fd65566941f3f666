"""A DL-UM bundle applied to one lesion: the final probability, every head's probability,
and the class-activation map of every block for both images (SPEC 3.4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..bundle import Bundle
from ..errors import InputFileError
from ..families.family import ExplainOptions
from ..families.lesion import LesionInput, LesionOutcome, call_words, timed
from ..planes.lesion_crops import crops_of_lesion
from ..segmentation.inference import network_from_bundle
from . import network as _network  # noqa: F401 (importing it registers the family's network)


class FusionExplainer:
    def __init__(self, bundle: Bundle, device: torch.device) -> None:
        if bundle.task != "dlum":
            raise InputFileError(bundle.root, f"bundle is a {bundle.task!r} model, not DL-UM")
        self.bundle, self.device = bundle, device
        self.network = network_from_bundle(bundle, device)
        self.modalities = list(bundle.inference["modalities"])
        self.size, self.margin = int(bundle.inference["size"]), float(bundle.inference["margin"])
        self.threshold = float(bundle.inference.get("threshold", 0.5))

    def explain(self, x: np.ndarray) -> tuple[dict[str, Any], dict[str, list[np.ndarray]]]:
        """``x`` (n_inputs, S, S) in [0, 1] -> (probabilities, {branch: 5 CAMs (S, S) in [0, 1]})."""
        net = self.network
        tensor = torch.as_tensor(x, dtype=torch.float32, device=self.device)[None]
        with torch.no_grad():
            final, block_logits, maps = net(tensor, with_details=True)
        probability = float(torch.sigmoid(final.float())[0])
        cams: dict[str, list[np.ndarray]] = {}
        for name in net.inputs:
            cams[name] = []
            for head, fmap in zip(net.branches[name].heads, maps[name]):
                with torch.no_grad():
                    cam = F.relu(torch.einsum("c,bchw->bhw", head.cam_weights(), fmap.float()))[:, None]
                cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0].cpu().numpy()
                span = cam.max() - cam.min()
                cams[name].append(((cam - cam.min()) / span if span > 0 else np.zeros_like(cam)).astype(np.float32))
        document = {
            "malignant_probability": round(probability, 4),
            "prediction": call_words(probability, self.threshold),
            "block_probabilities": {name: [round(float(torch.sigmoid(v.float())[0]), 4) for v in logits]
                                    for name, logits in block_logits.items()},
        }
        return document, cams

    # -- the family's predictor interface (families.LesionPredictor) ---------------------------
    @property
    def kinds(self) -> list[str]:
        return list(self.modalities)

    def check_image(self, image) -> None:
        if not image.is_2d:
            raise InputFileError(image.source, f"DL-UM model {self.bundle.name} reads 2D images; this is a volume")

    def predict(self, lesion: LesionInput, explain: bool = False, options: ExplainOptions | None = None) -> LesionOutcome:
        """Fused probability and every supervision head's probability; the block CAMs of both
        images kept as the explanation."""
        seconds: dict[str, float] = {}
        with timed(seconds, "classify"):
            x, _ = crops_of_lesion(lesion, self.kinds, self.size, self.margin)
            document, cams = self.explain(x)
        probability = document.pop("malignant_probability")
        document.pop("prediction")
        return LesionOutcome(self.bundle.name, self.bundle.task, probability, self.threshold, document=document,
                             explanation=cams if explain else None, seconds=seconds)

    def write_explanation(self, folder: Path, lesion: LesionInput, outcome: LesionOutcome, options: ExplainOptions,
                          facts: dict[str, Any]) -> None:
        """DL-UM's block CAMs stay in memory (the Slicer module shows them); no file."""
