"""The MUP-Net interpretable prototype family (SPEC 3.3, seed 000)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..families.family import ModelFamily, TrainingDefaults
from .options import BACKBONES, MUPNetOptions


class MUPNetFamily(ModelFamily):
    name = task = "mupnet"
    words = "MUP-Net prototype classifier"
    result_key = "prototype_explanations"
    help = "MUP-Net interpretable prototype network (B-mode, Doppler, elastography)"
    description = ("Train MUP-Net (Commun Med 2024): a ResNet per modality, 1 x 1 prototypes split by class, "
                   "log-similarity with top-k pooling, last layer +1 / -0.5; loss CE + 0.8 cluster - 0.08 separation + "
                   "1e-4 L1; warm-up, joint epochs, push (BI-RADS-constrained: benign from 3/4A, malignant from 4C/5, "
                   "elastography 3 vs 5, never 4B; pathology alone when BI-RADS is missing) followed by last-layer "
                   "training. The bundle holds every prototype's source patch as an image.")
    defaults = TrainingDefaults(epochs=40, batch_size=40, lr=3e-3, optimiser="adam")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--modalities", default="", metavar="M,M",
                            help="us_bmode, us_doppler, us_elastography (default: every one the dataset has)")
        parser.add_argument("--prototypes", type=int, default=10, metavar="N",
                            help="prototypes per modality, half per class (default: 10)")
        parser.add_argument("--backbone", choices=BACKBONES, default="resnet18", help="(default: resnet18)")
        parser.add_argument("--size", type=int, default=224, metavar="PX", help="lesion crop size (default: 224)")
        parser.add_argument("--warmup", type=int, default=10, metavar="E", help="warm-up epochs, backbones frozen (default: 10)")
        parser.add_argument("--push-every", type=int, default=10, metavar="E", help="push every E epochs and at the end (default: 10)")
        parser.add_argument("--top-k", type=int, default=5, metavar="K", help="similarity pooling: mean of the top K cells (default: 5)")
        parser.add_argument("--no-augment", action="store_true", help="train without augmentation")

    def train(self, args, settings) -> Path | None:
        from .train import train_mupnet

        modalities = [m.strip() for m in args.modalities.split(",") if m.strip()]
        options = MUPNetOptions(modalities=modalities, prototypes=args.prototypes, backbone=args.backbone, size=args.size,
                                warmup_epochs=args.warmup, push_every=args.push_every, top_k=args.top_k,
                                val_fold=args.val_fold, augment=not args.no_augment)
        return train_mupnet(args.data, args.out, options, settings)

    def load_predictor(self, bundle, device) -> Any:
        from .explain import PrototypeExplainer

        return PrototypeExplainer(bundle, device)


FAMILY = MUPNetFamily()
