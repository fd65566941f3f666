"""A MUP-Net bundle applied to one lesion: what a reader is shown (SPEC 3.3).

* the malignant probability and the call;
* per modality, the best-matching benign and malignant prototype (its source lesion and
  the bundle's image of the patch);
* the six contribution scores: similarity x last-layer weight to the prototype's own class
  for those six prototypes, normalised to sum to 1 in absolute value;
* per matched prototype, the similarity map upsampled to the crop (``maps``), to overlay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..bundle import Bundle
from ..classification.inference import calibration_temperature
from ..errors import InputFileError
from ..explain import save_plane_overlays
from ..families.family import ExplainOptions
from ..families.lesion import LesionInput, LesionOutcome, call_words, timed
from ..planes.lesion_crops import crops_of_lesion
from ..segmentation.inference import network_from_bundle
from ..statistics.calibration import apply_temperature
from . import network as _network  # noqa: F401 (importing it registers the family's network)

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
        uncalibrated = float(torch.softmax(logits.float(), 1)[0, 1])
        probability = float(apply_temperature(uncalibrated, self.temperature)) if self.temperature != 1.0 else uncalibrated
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
                    "prediction": call_words(probability, self.threshold),
                    **({"uncalibrated_probability": round(uncalibrated, 4)} if self.temperature != 1.0 else {}),
                    "prototypes": matched,
                    "contribution_scores": [round(v / total, 4) for v in raw],
                    "contribution_order": [f"{m}:{c}" for m in net.modalities for c in CLASSES]}
        return document, maps_out

    # -- the family's predictor interface (families.LesionPredictor) ---------------------------
    @property
    def kinds(self) -> list[str]:
        return list(self.modalities)

    def check_image(self, image) -> None:
        if not image.is_2d:
            raise InputFileError(image.source, f"MUP-Net model {self.bundle.name} reads 2D images; this is a volume")

    def predict(self, lesion: LesionInput, explain: bool = False, options: ExplainOptions | None = None) -> LesionOutcome:
        """Probability, the matched prototype of each class and modality with its contribution score,
        and (kept for the writer) every matched prototype's similarity map on the lesion's crops."""
        seconds: dict[str, float] = {}
        with timed(seconds, "classify"):
            x, pictures = crops_of_lesion(lesion, self.kinds, self.size, self.margin)
            document, maps = self.explain(x)
        probability = document.pop("malignant_probability")
        document.pop("prediction")
        return LesionOutcome(self.bundle.name, self.bundle.task, probability, self.threshold, document=document,
                             explanation=(pictures, maps) if explain else None, seconds=seconds)

    def write_explanation(self, folder: Path, lesion: LesionInput, outcome: LesionOutcome, options: ExplainOptions,
                          facts: dict[str, Any]) -> None:
        """``prototypes_<lesion>.png``: each matched prototype's similarity map on the lesion's crop."""
        if not options.overlays or outcome.explanation is None:
            return
        pictures, maps = outcome.explanation
        crops = {key: pictures[key.split(":")[0]] for key in maps}
        titles = {}
        for key in maps:
            modality, class_name = key.split(":")
            match = outcome.document["prototypes"][modality][class_name]
            titles[key] = f"{class_name} prototype {match['prototype']} ({match['contribution_normalised']:+.2f})"
        sheet = save_plane_overlays(folder / f"prototypes_{lesion.main.lesion.lesion_id}.png", crops, maps, titles)
        facts.setdefault("overlays", []).append(sheet.name)
