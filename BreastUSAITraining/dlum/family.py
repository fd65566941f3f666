"""The DL-UM ultrasound + mammography fusion family, with DL-U / DL-M (SPEC 3.4, seed 002)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..families.family import ModelFamily, TrainingDefaults
from .options import MG_VIEWS, VARIANTS, DLUMOptions


class DLUMFamily(ModelFamily):
    name = task = "dlum"
    words = "DL-UM ultrasound + mammography fusion"
    result_key = "fusion_classification"
    help = "DL-UM ultrasound + mammography fusion (or DL-U / DL-M)"
    description = ("Train DL-UM (Breast Cancer Res 2025): VGG19-like branches for the US and MG lesion ROIs (ROI widened "
                   "by 30% of its shortest side), a deep-supervision head on every block, concat fusion; focal loss on "
                   "every head + mean absolute disagreement of the branches; model selection by the lowest validation "
                   "loss. DL-U / DL-M: one branch.")
    defaults = TrainingDefaults(epochs=30, batch_size=16, lr=1e-4, optimiser="adam")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--variant", choices=tuple(VARIANTS), default="dlum",
                            help="both branches, US only or MG only (default: dlum)")
        parser.add_argument("--mg-view", choices=MG_VIEWS, default="mg_cc", help="mammography view (default: mg_cc)")
        parser.add_argument("--width", type=float, default=1.0, metavar="X",
                            help="filter-count multiplier, 1 = VGG19 widths (default: 1)")
        parser.add_argument("--size", type=int, default=224, metavar="PX", help="ROI size (default: 224)")
        parser.add_argument("--no-augment", action="store_true", help="train without augmentation")

    def train(self, args, settings) -> Path | None:
        from .train import train_dlum

        options = DLUMOptions(variant=args.variant, mg_view=args.mg_view, width=args.width, size=args.size,
                              val_fold=args.val_fold, augment=not args.no_augment)
        return train_dlum(args.data, args.out, options, settings)

    def load_predictor(self, bundle, device) -> Any:
        from .explain import FusionExplainer

        return FusionExplainer(bundle, device)


FAMILY = DLUMFamily()
