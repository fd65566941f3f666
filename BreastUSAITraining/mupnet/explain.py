"""A MUP-Net bundle applied to one lesion: what a reader is shown (SPEC 3.3).

* the malignant probability and the call;
* per modality, the best-matching benign and malignant prototype (its source lesion and
  the bundle's image of the patch);
* the six contribution scores: similarity x last-layer weight to the prototype's own class
  for those six prototypes, normalised to sum to 1 in absolute value;
* per matched prototype, the similarity map upsampled to the crop (``maps``), to overlay.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..bundle import Bundle
from ..classification.inference import calibration_temperature
from ..errors import InputFileError
from ..segmentation.inference import network_from_bundle
from ..statistics.calibration import apply_temperature

CLASSES = ("benign", "malignant")


class PrototypeExplainer:
    """Probability and prototype explanation from a ``mupnet`` bundle."""

    def __init__(self, bundle: Bundle, device: torch.device) -> None:
        if bundle.task != "mupnet":
            raise InputFileError(bundle.root, f"bundle is a {bundle.task!r} model, not MUP-Net")
        self.bundle, self.device = bundle, device
        self.prototypes = {p["index"]: p for p in bundle.metadata.get("prototypes", [])}
        self.network = network_from_bundle(bundle, device)
        self.modalities = list(bundle.inference["modalities"])
        self.size, self.margin = int(bundle.inference["size"]), float(bundle.inference["margin"])
        self.threshold = float(bundle.inference.get("threshold", 0.5))
        self.temperature = calibration_temperature(bundle.inference)

    def explain(self, x: np.ndarray) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``x`` (C_total, S, S) float in [0, 1] -> (explanation document, {"modality:class": (S, S) map in [0, 1]}
        of each matched prototype)."""
        net = self.network
        tensor = torch.as_tensor(x, dtype=torch.float32, device=self.device)[None]
        with torch.no_grad():
            logits, _, maps, scores = net(tensor, with_details=True)
        raw = float(torch.softmax(logits.float(), 1)[0, 1])
        probability = float(apply_temperature(raw, self.temperature)) if self.temperature != 1.0 else raw
        weights = net.last_layer.weight.detach().float().cpu().numpy()
        scores_np = scores[0].float().cpu().numpy()
        classes = net.prototype_class.cpu().numpy()
        matched, raw, maps_out = {}, [], {}
        for m_index, modality in enumerate(net.modalities):
            matched[modality] = {}
            span = range(m_index * net.per_modality, (m_index + 1) * net.per_modality)
            for cls, name in enumerate(CLASSES):
                own = [j for j in span if classes[j] == cls]
                best = max(own, key=lambda j: scores_np[j])
                contribution = float(scores_np[best] * weights[cls, best])
                raw.append(contribution)
                info = self.prototypes.get(best, {})
                matched[modality][name] = {
                    "prototype": best, "similarity": round(float(scores_np[best]), 4), "contribution": contribution,
                    "source_case": info.get("source_case"), "source_birads": info.get("source_birads"),
                    "patch_image": info.get("patch_image"), "source_image": info.get("source_image"),
                }
                up = F.interpolate(maps[:, best : best + 1].float(), size=(self.size, self.size), mode="bilinear",
                                   align_corners=False)[0, 0].cpu().numpy()
                low, high = up.min(), up.max()
                maps_out[f"{modality}:{name}"] = ((up - low) / (high - low) if high > low else np.zeros_like(up)).astype(np.float32)
        total = sum(abs(v) for v in raw) or 1.0
        k = 0
        for modality in net.modalities:
            for name in CLASSES:
                matched[modality][name]["contribution_normalised"] = round(raw[k] / total, 4)
                matched[modality][name]["contribution"] = round(matched[modality][name]["contribution"], 4)
                k += 1
        document = {"malignant_probability": round(probability, 4),
                    "prediction": "malignant" if probability > self.threshold else "benign",
                    **({"uncalibrated_probability": round(raw, 4)} if self.temperature != 1.0 else {}),
                    "prototypes": matched,
                    "contribution_scores": [round(v / total, 4) for v in raw],
                    "contribution_order": [f"{m}:{c}" for m in net.modalities for c in CLASSES]}
        return document, maps_out
