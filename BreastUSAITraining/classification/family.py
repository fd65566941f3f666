"""The three-plane (ABVS) / single-plane (2D) lesion classifier family (SPEC 3.2, seed 004)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..families.family import ModelFamily, TrainingDefaults
from .options import BACKBONES, PLANE_SETS, PlaneClassifierOptions


class PlaneClassifierFamily(ModelFamily):
    name = task = "abvs-planes"
    words = "three-plane / single-plane classifier"
    result_key = "classification"
    help = "three-plane ResNet classifier (ABVS) / single-plane on 2D crops"
    description = ("Train the seed-004 classifier: one ResNet per plane (transverse T, sagittal S, coronal C), features "
                   "added (T+S) then concatenated (C), FC halving the width, 2 classes. On ABVS data planes come from each "
                   "lesion's mask; on 2D data (e.g. BUSI) the same code trains a single-plane classifier on lesion crops.")
    defaults = TrainingDefaults(epochs=30, batch_size=16, lr=1e-3, optimiser="sgd")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--planes", choices=PLANE_SETS, default="TSC",
                            help="planes to fuse (default: TSC; 2D datasets always use T)")
        parser.add_argument("--backbone", choices=BACKBONES, default="resnet50",
                            help="ResNet per plane, random init (default: resnet50, as the paper)")
        parser.add_argument("--width", type=float, default=1.0, metavar="X",
                            help="channel multiplier of every ResNet (0.25 makes a three-plane ResNet-18 about 16 times "
                                 "smaller, for small demonstration models) (default: 1)")
        parser.add_argument("--size", type=int, default=224, metavar="PX", help="plane crop size (default: 224)")
        parser.add_argument("--frames", type=int, default=3, metavar="K", help="frames per plane per lesion (default: 3)")
        parser.add_argument("--margin", type=float, default=0.3, metavar="F",
                            help="crop margin as a fraction of the lesion box's shortest side (default: 0.3)")
        parser.add_argument("--weights", metavar="FILE",
                            help="initial weights (a state_dict .pt/.safetensors file) instead of random init")
        parser.add_argument("--no-oversample", action="store_true", help="do not oversample the minority class")
        parser.add_argument("--no-augment", action="store_true", help="train without augmentation (for ablations)")
        parser.add_argument("--no-tta", action="store_true", help="store no left-right flip test-time augmentation in the bundle")

    def train(self, args, settings) -> Path | None:
        from .train import train_plane_classifier

        options = PlaneClassifierOptions(planes=args.planes, backbone=args.backbone, size=args.size, frames=args.frames,
                                         margin=args.margin, val_fold=args.val_fold, weights=args.weights,
                                         oversample=not args.no_oversample, augment=not args.no_augment,
                                         flip_tta=not args.no_tta, width=args.width)
        return train_plane_classifier(args.data, args.out, options, settings)

    def load_predictor(self, bundle, device) -> Any:
        from .inference import PlaneClassifier

        return PlaneClassifier(bundle, device)


FAMILY = PlaneClassifierFamily()
