"""A plane-classifier bundle applied to one lesion: malignant probability per plane and
fused (mean over frames, seed 004), and Grad-CAM / Grad-CAM++ maps per plane."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..bundle import Bundle
from ..errors import InputFileError
from ..explain.gradcam import METHODS, class_activation_maps
from ..families.family import ExplainOptions
from ..families.lesion import LesionInput, LesionOutcome, call_words, timed
from ..imagefiles import ImageData
from ..imagefiles.colour import to_grey
from ..networks.three_plane import PLANE_NAMES
from ..planes import LesionPlanes, extract_planes
from ..segmentation.inference import network_from_bundle
from ..statistics.calibration import apply_temperature
from .explanation_files import write_plane_explanation

CAM_METHODS = METHODS


def calibration_temperature(inference: dict[str, Any]) -> float:
    """The temperature of a calibrated bundle (``inference["calibration"]``), 1 when uncalibrated."""
    calibration = inference.get("calibration") or {}
    temperature = float(calibration.get("temperature", 1.0))
    if not temperature > 0:
        raise ValueError(f"calibration temperature must be positive, got {temperature}")
    return temperature


class PlaneClassifier:
    """Benign / malignant probability of lesions from an ``abvs-planes`` bundle."""

    def __init__(self, bundle: Bundle, device: torch.device) -> None:
        if bundle.task != "abvs-planes":
            raise InputFileError(bundle.root, f"bundle is a {bundle.task!r} model, not a plane classifier")
        self.bundle, self.device = bundle, device
        self.network = network_from_bundle(bundle, device)
        config = bundle.inference
        self.planes, self.size = str(config["planes"]), int(config["size"])
        self.frames, self.margin = int(config["frames"]), float(config["margin"])
        self.modality = str(config.get("modality", "abvs"))
        self.threshold = float(config.get("threshold", 0.5))
        self.flip_tta = bool(config.get("flip_tta", False))
        self.temperature = calibration_temperature(config)

    def check_image(self, image: ImageData) -> None:
        """Refuse an image the model cannot read (a 2D image for a multi-plane ABVS model)."""
        if image.is_2d and self.planes != "T":
            raise InputFileError(image.source, f"model {self.bundle.name} needs an ABVS volume ({self.planes} planes); "
                                 "this is a 2D image")

    def lesion_planes(self, image: ImageData, mask: np.ndarray, mask_offset_kji: tuple[int, int, int] | None = None) -> LesionPlanes:
        """The lesion's frames; ``mask`` on the image grid, or a box of it at ``mask_offset_kji``."""
        grey = image.array if not image.is_colour else image.array.mean(axis=-1)
        planes = self.planes if not image.is_2d else "T"
        return extract_planes(grey, image.geometry, mask, planes, 1 if image.is_2d else self.frames, self.size, self.margin,
                              mask_offset_kji)

    def classify(self, planes: LesionPlanes, flip_tta: bool | None = None) -> dict[str, Any]:
        """Fused and per-plane malignant probability (means over frames) and per-frame values.

        ``flip_tta`` (default: the bundle's setting) also averages in the left-right mirrored frames.
        """
        x = torch.as_tensor(planes.stack(self.planes), device=self.device)
        views = [x, torch.flip(x, dims=[-1])] if (self.flip_tta if flip_tta is None else flip_tta) else [x]
        fused_p, plane_p = 0.0, 0.0
        with torch.no_grad(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            for view in views:
                fused, per_plane = self.network(view, with_planes=True)
                fused_p = fused_p + torch.softmax(fused.float(), dim=1)[:, 1].cpu().numpy() / len(views)
                plane_p = plane_p + torch.softmax(per_plane.float(), dim=2)[:, :, 1].cpu().numpy() / len(views)
        raw = float(fused_p.mean())
        probability = float(apply_temperature(raw, self.temperature)) if self.temperature != 1.0 else raw
        outcome = {
            "malignant_probability": round(probability, 4),
            "prediction": call_words(probability, self.threshold),
            "per_plane": {PLANE_NAMES[p]: round(float(plane_p[:, i].mean()), 4) for i, p in enumerate(self.planes)},
            "frames": [round(float(v), 4) for v in fused_p],
        }
        if self.temperature != 1.0:  # per_plane and frames stay the network's own, uncalibrated
            outcome["uncalibrated_probability"] = round(raw, 4)
        return outcome

    def explain(self, planes: LesionPlanes, method: str = "gradcam", frame: int = 0, class_index: int | None = 1) -> dict[str, np.ndarray]:
        """Per-plane class-activation map (size, size) in [0, 1] on ``frame`` for ``class_index``
        (1 malignant, 0 benign, None the predicted class), all planes from one backward pass.
        A plane with no positive evidence for the class gives zeros."""
        x = torch.as_tensor(planes.stack(self.planes)[frame : frame + 1], device=self.device)
        layers = {plane: f"branches.{plane}.layer4" for plane in self.planes}
        _, maps = class_activation_maps(self.network, x, layers, class_index, method)
        return {plane: m[0] for plane, m in maps.items()}

    # -- the family's predictor interface (families.LesionPredictor) ---------------------------
    @property
    def kinds(self) -> list[str]:
        return [self.modality]

    def predict(self, lesion: LesionInput, explain: bool = False, options: ExplainOptions | None = None) -> LesionOutcome:
        """The lesion's image of this model's kind (else the one it was found on) -> fused probability,
        one per plane and per frame; with ``explain`` the CAM of the called class on every plane."""
        view = lesion.view(self.modality, fallback_to_main=True)
        image = view.image
        if image.is_colour:
            image = ImageData(to_grey(image.array), image.geometry, image.source, dict(image.meta))
        self.check_image(image)
        seconds: dict[str, float] = {}
        with timed(seconds, "planes"):
            planes = self.lesion_planes(image, view.lesion.box_mask, view.lesion.offset_kji)
        with timed(seconds, "classify"):
            found = self.classify(planes)
        outcome = LesionOutcome(self.bundle.name, self.bundle.task, found["malignant_probability"], self.threshold,
                                document={"model_version": self.bundle.version, **found},
                                columns={f"probability_{plane}": value for plane, value in found["per_plane"].items()},
                                seconds=seconds)
        if explain:
            method = (options or ExplainOptions()).cam
            with timed(seconds, "explain"):
                maps = self.explain(planes, method, class_index=1 if outcome.positive else 0)
            outcome.explanation = (image, view.lesion, planes, maps)
        return outcome

    def write_explanation(self, folder: Path, lesion: LesionInput, outcome: LesionOutcome, options: ExplainOptions,
                          facts: dict[str, Any]) -> None:
        image, found, planes, maps = outcome.explanation
        facts["planes"] = planes.describe(image.geometry)
        write_plane_explanation(folder, image, found, planes, maps, outcome.result_entry(), self.bundle.name, options.cam,
                                options.heatmap_grid, options.overlays, facts)
