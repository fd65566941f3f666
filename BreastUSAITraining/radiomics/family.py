"""The deep-radiomics family with clinical data: CLDLR, DLR_LH, DLR_BM (SPEC 3.5, seeds 001 and 003)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..families.family import ModelFamily, TrainingDefaults
from ..families.lesion import LesionInput, LesionOutcome
from .labels import KINDS
from .options import ARCHS, DLROptions


class RadiomicsFamily(ModelFamily):
    name = task = "dlr"
    words = "deep radiomics with clinical data"
    result_key = "radiomics"
    decisions = ("restratification",)
    help = "deep radiomics with clinical data: CLDLR, DLR_LH, DLR_BM"
    description = ("Train a deep-radiomics model on grey B-mode lesion ROIs. --kind cldlr (Sci Rep 2024): VGG11, its "
                   "penultimate FC features + the clinical variables -> calibrated RBF-SVM. --kind lh / bm (QIMS 2025): "
                   "ResNet50 with a 128-d embedding, then an MLP on embedding + age; lh learns BI-RADS 2/3 vs 4/5, bm "
                   "benign vs malignant among BI-RADS 4A. Missing clinical values are imputed from training and flagged "
                   "by indicator columns.")
    defaults = TrainingDefaults(epochs=40, batch_size=16, lr=5e-3, optimiser="adam")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--kind", choices=KINDS, required=True, help="which model")
        parser.add_argument("--arch", choices=ARCHS, help="CNN (default: vgg11 for cldlr, resnet50 for lh / bm)")
        parser.add_argument("--width", type=float, default=1.0, metavar="X", help="VGG filter multiplier (default: 1)")
        parser.add_argument("--size", type=int, default=224, metavar="PX", help="ROI size (default: 224)")
        parser.add_argument("--no-augment", action="store_true", help="train without augmentation")

    def train(self, args, settings) -> Path | None:
        from .train import train_dlr

        options = DLROptions(kind=args.kind, arch=args.arch, width=args.width, size=args.size,
                             val_fold=args.val_fold, augment=not args.no_augment)
        return train_dlr(args.data, args.out, options, settings)

    def load_predictor(self, bundle, device) -> Any:
        from .predictor import RadiomicsPredictor

        return RadiomicsPredictor(bundle, device)

    def evaluation_items(self, predictor, dataset, split, folds) -> list[dict[str, Any]]:
        """CLDLR: labelled lesions; DLR_LH: lesions labelled low / high risk by BI-RADS; DLR_BM: BI-RADS 4A."""
        from ..dataset.loader import lesion_dicts
        from .labels import select

        return select(lesion_dicts(dataset, split, folds=folds, modalities=predictor.kinds,
                                   labelled_only=predictor.kind != "lh"), predictor.kind)

    def combine(self, outcomes: list[LesionOutcome], lesion: LesionInput) -> dict[str, Any] | None:
        """DLR_LH + DLR_BM on one lesion: the two-stage BI-RADS 4A re-stratification (QIMS 2025)."""
        from .restratify import restratify_4a

        risk = {o.document.get("kind"): o.probability for o in outcomes}
        if "lh" not in risk or "bm" not in risk:
            return None
        decision = restratify_4a(lesion.birads, risk["lh"], risk["bm"])
        return {"key": "restratification", "task": "restratify", "title": "BI-RADS 4A re-stratification (DLR_LH + DLR_BM)",
                "birads_given": lesion.birads, "decision": decision.decision,
                "suggested_birads": decision.suggested_birads, "biopsy": decision.biopsy, "reason": decision.reason,
                "probability": round(risk["bm"], 4)}


FAMILY = RadiomicsFamily()
