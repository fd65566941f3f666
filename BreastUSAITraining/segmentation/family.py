"""The lesion-segmentation family (SPEC 3.1) as the registry knows it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..families.family import SEGMENTATION, ModelFamily, TrainingDefaults
from .options import SEGMENTATION_ARCHS, SPATIAL, SegmentationOptions, augment_strength


class SegmentationFamily(ModelFamily):
    name = task = "segmentation"
    words = "lesion segmentation"
    role = SEGMENTATION
    help = "lesion segmentation (MONAI UNet / FlexibleUNet)"
    description = ("Train a lesion segmentation network (SPEC 3.1): 2D on images or ABVS transverse slices, or 3D on "
                   "ABVS volumes. Loss Dice + cross-entropy; validation by mean Dice.")
    defaults = TrainingDefaults(epochs=40, batch_size=16, lr=1e-3, optimiser="adamw")

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--arch", choices=SEGMENTATION_ARCHS, default="unet",
                            help="MONAI UNet, or FlexibleUNet with an EfficientNet-b0 encoder (random init) (default: unet)")
        parser.add_argument("--encoder-bn-momentum", type=float, default=0.1, metavar="M",
                            help="flexunet-effb0 only: batch-norm momentum of the EfficientNet encoder's running statistics "
                                 "(MONAI's own 0.01 leaves them hundreds of steps behind the weights: a short training then "
                                 "finds no lesion) (default: 0.1)")
        parser.add_argument("--spatial", choices=SPATIAL, default="2d", help="2D slices or 3D patches (default: 2d)")
        parser.add_argument("--size", type=int, default=256, metavar="PX", help="2D input size, a multiple of 32 (default: 256)")
        parser.add_argument("--patch", default="32,64,64", metavar="K,J,I",
                            help="3D patch in voxels, multiples of 16 (default: 32,64,64)")
        parser.add_argument("--channels", type=int, default=16, metavar="C",
                            help="UNet width of the first level; 16 keeps CPU inference of a full ABVS volume fast (default: 16)")
        parser.add_argument("--modality", metavar="NAME", help="which image of multimodal cases (default: each case's primary image)")
        parser.add_argument("--no-normal", action="store_true", help="leave lesion-free images out of training")
        parser.add_argument("--augment", type=augment_strength, default=1.0, metavar="X|flips",
                            help="augmentation strength: flips, small rotations / scaling / shifts, gain, contrast, blur and "
                                 "noise, scaled by X; 0 = none; 'flips' = left-right flips only (default: 1)")
        parser.add_argument("--weights", metavar="BUNDLE|FILE",
                            help="start from these weights instead of random init: a segmentation bundle with the same "
                                 "--arch, --spatial and --channels (e.g. one trained at a smaller --size, for progressive "
                                 "resizing: many cheap epochs at 128 px, then a few at 256 px) or a state_dict "
                                 ".pt/.safetensors file")
        parser.add_argument("--threshold", type=float, default=0.5, metavar="P",
                            help="probability threshold stored for inference (default: 0.5)")
        parser.add_argument("--min-size-mm", type=float, default=4.0, metavar="MM",
                            help="smallest lesion kept at inference, mm3 (mm2 on 2D images) (default: 4)")

    def options(self, args: argparse.Namespace, val_fold: int | None) -> SegmentationOptions:
        try:
            patch = tuple(int(v) for v in args.patch.split(","))
        except ValueError:
            raise UsageError(f"--patch must be three integers K,J,I, got {args.patch!r}") from None
        if len(patch) != 3:
            raise UsageError(f"--patch must be three integers K,J,I, got {args.patch!r}")
        return SegmentationOptions(arch=args.arch, spatial=args.spatial, size=args.size, base_channels=args.channels,
                                   patch_kji=patch, val_fold=val_fold, include_normal=not args.no_normal,
                                   modality=args.modality, augment=args.augment, threshold=args.threshold,
                                   weights=args.weights, min_size_mm=args.min_size_mm,
                                   encoder_bn_momentum=args.encoder_bn_momentum)

    def train(self, args, settings) -> Path | None:
        from .train import train_segmentation

        return train_segmentation(args.data, args.out, self.options(args, args.val_fold), settings)

    def load_predictor(self, bundle, device) -> Any:
        from .inference import LesionSegmenter

        return LesionSegmenter(bundle, device)


FAMILY = SegmentationFamily()
