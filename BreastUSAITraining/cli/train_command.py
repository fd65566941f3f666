"""``train segmentation | abvs-planes``: dataset folder -> model bundle."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from ..training import TrainingSettings

HELP = """\
Train a model from a dataset folder (the contract exported by the Slicer module or made by
`dataset import-busi` / `phantom`) and write a model bundle. Checkpoints and logs (CSV,
TensorBoard, a PNG of the curves) go to --run-dir; a killed run continues with --resume.
Several processes / GPUs: torchrun --nproc_per_node=N -m BreastUSAITraining train ..."""


def _common(parser: argparse.ArgumentParser, epochs: int, batch: int, lr: float, optimiser: str) -> None:
    parser.add_argument("--data", required=True, metavar="DIR", help="dataset folder (holding dataset.json)")
    parser.add_argument("--out", required=True, metavar="BUNDLE", help="model bundle folder to write")
    parser.add_argument("--run-dir", metavar="DIR", help="checkpoints and logs (default: BUNDLE.run beside the bundle)")
    parser.add_argument("--val-fold", default="0", metavar="K|none",
                        help="fold used for validation and model selection; the other folds train (default: 0; "
                             "'none' trains on everything and keeps the last epoch)")
    parser.add_argument("--keep", choices=("best", "last"), default="best",
                        help="which epoch's weights become the bundle: best = the highest validation metric; last = the "
                             "final epoch, whatever its score - use it when the validation fold is also the test fold of "
                             "a cross-validation, so nothing is chosen on test data (default: best)")
    parser.add_argument("--epochs", type=int, default=epochs, metavar="N", help=f"training epochs (default: {epochs})")
    parser.add_argument("--batch-size", type=int, default=batch, metavar="B", help=f"samples per step and process (default: {batch})")
    parser.add_argument("--lr", type=float, default=lr, metavar="LR", help=f"initial learning rate (default: {lr:g})")
    parser.add_argument("--weight-decay", type=float, default=1e-4, metavar="W", help="weight decay (default: 1e-4)")
    parser.add_argument("--optimiser", choices=("adamw", "adam", "sgd"), default=optimiser,
                        help=f"optimiser; sgd uses Nesterov momentum 0.9 (default: {optimiser})")
    parser.add_argument("--scheduler", choices=("cosine", "step", "none"), default="cosine",
                        help="learning-rate schedule over the epochs (default: cosine)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed; same seed, same data, same result on CPU (default: 0)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto: CUDA when present, else CPU (default: auto)")
    parser.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA (CPU never uses it)")
    parser.add_argument("--workers", type=int, default=0, metavar="N", help="data-loading worker processes (default: 0)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its last checkpoint")
    parser.add_argument("--max-steps-per-epoch", type=int, metavar="N", help="cap the steps of each epoch (quick trials)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing bundle at --out")


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("train", help="train a model and write a bundle", description=HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="train_command", metavar="MODEL", required=True)

    seg = sub.add_parser("segmentation", help="lesion segmentation (MONAI UNet / FlexibleUNet)",
                         description="Train a lesion segmentation network (SPEC 3.1): 2D on images or ABVS transverse "
                                     "slices, or 3D on ABVS volumes. Loss Dice + cross-entropy; validation by mean Dice.")
    _common(seg, epochs=40, batch=16, lr=1e-3, optimiser="adamw")
    seg.add_argument("--arch", choices=("unet", "flexunet-effb0"), default="unet",
                     help="MONAI UNet, or FlexibleUNet with an EfficientNet-b0 encoder (random init) (default: unet)")
    seg.add_argument("--encoder-bn-momentum", type=float, default=0.1, metavar="M",
                     help="flexunet-effb0 only: batch-norm momentum of the EfficientNet encoder's running statistics "
                          "(MONAI's own 0.01 leaves them hundreds of steps behind the weights: a short training then "
                          "finds no lesion) (default: 0.1)")
    seg.add_argument("--spatial", choices=("2d", "3d"), default="2d", help="2D slices or 3D patches (default: 2d)")
    seg.add_argument("--size", type=int, default=256, metavar="PX", help="2D input size, a multiple of 32 (default: 256)")
    seg.add_argument("--patch", default="32,64,64", metavar="K,J,I", help="3D patch in voxels, multiples of 16 (default: 32,64,64)")
    seg.add_argument("--channels", type=int, default=16, metavar="C", help="UNet width of the first level; 16 keeps CPU inference of a full ABVS volume fast (default: 16)")
    seg.add_argument("--modality", metavar="NAME", help="which image of multimodal cases (default: each case's primary image)")
    seg.add_argument("--no-normal", action="store_true", help="leave lesion-free images out of training")
    seg.add_argument("--augment", type=float, default=1.0, metavar="X", help="augmentation strength, 0 = none (default: 1)")
    seg.add_argument("--weights", metavar="BUNDLE|FILE",
                     help="start from these weights instead of random init: a segmentation bundle with the same --arch, "
                          "--spatial and --channels (e.g. one trained at a smaller --size, for progressive resizing: many "
                          "cheap epochs at 128 px, then a few at 256 px) or a state_dict .pt/.safetensors file")
    seg.add_argument("--threshold", type=float, default=0.5, metavar="P", help="probability threshold stored for inference (default: 0.5)")
    seg.add_argument("--min-size-mm", type=float, default=4.0, metavar="MM",
                     help="smallest lesion kept at inference, mm3 (mm2 on 2D images) (default: 4)")
    seg.set_defaults(handler=run_segmentation)

    planes = sub.add_parser("abvs-planes", help="three-plane ResNet classifier (ABVS) / single-plane on 2D crops",
                            description="Train the seed-004 classifier: one ResNet per plane (transverse T, sagittal S, "
                                        "coronal C), features added (T+S) then concatenated (C), FC halving the width, "
                                        "2 classes. On ABVS data planes come from each lesion's mask; on 2D data "
                                        "(e.g. BUSI) the same code trains a single-plane classifier on lesion crops.")
    _common(planes, epochs=30, batch=16, lr=1e-3, optimiser="sgd")
    planes.add_argument("--planes", choices=("T", "S", "C", "TS", "TSC"), default="TSC",
                        help="planes to fuse (default: TSC; 2D datasets always use T)")
    planes.add_argument("--backbone", choices=("resnet18", "resnet34", "resnet50"), default="resnet50",
                        help="ResNet per plane, random init (default: resnet50, as the paper)")
    planes.add_argument("--width", type=float, default=1.0, metavar="X",
                        help="channel multiplier of every ResNet (0.25 makes a three-plane ResNet-18 about 16 times smaller, "
                             "for small demonstration models) (default: 1)")
    planes.add_argument("--size", type=int, default=224, metavar="PX", help="plane crop size (default: 224)")
    planes.add_argument("--frames", type=int, default=3, metavar="K", help="frames per plane per lesion (default: 3)")
    planes.add_argument("--margin", type=float, default=0.3, metavar="F",
                        help="crop margin as a fraction of the lesion box's shortest side (default: 0.3)")
    planes.add_argument("--weights", metavar="FILE", help="initial weights (a state_dict .pt/.safetensors file) instead of random init")
    planes.add_argument("--no-oversample", action="store_true", help="do not oversample the minority class")
    planes.add_argument("--no-augment", action="store_true", help="train without augmentation (for ablations)")
    planes.add_argument("--no-tta", action="store_true", help="store no left-right flip test-time augmentation in the bundle")
    planes.set_defaults(handler=run_abvs_planes)

    mup = sub.add_parser("mupnet", help="MUP-Net interpretable prototype network (B-mode, Doppler, elastography)",
                         description="Train MUP-Net (Commun Med 2024): a ResNet per modality, 1 x 1 prototypes split by "
                                     "class, log-similarity with top-k pooling, last layer +1 / -0.5; loss CE + 0.8 cluster "
                                     "- 0.08 separation + 1e-4 L1; warm-up, joint epochs, push (BI-RADS-constrained: "
                                     "benign from 3/4A, malignant from 4C/5, elastography 3 vs 5, never 4B; pathology alone "
                                     "when BI-RADS is missing) followed by last-layer training. The bundle holds every "
                                     "prototype's source patch as an image.")
    _common(mup, epochs=40, batch=40, lr=3e-3, optimiser="adam")
    mup.add_argument("--modalities", default="", metavar="M,M",
                     help="us_bmode, us_doppler, us_elastography (default: every one the dataset has)")
    mup.add_argument("--prototypes", type=int, default=10, metavar="N", help="prototypes per modality, half per class (default: 10)")
    mup.add_argument("--backbone", choices=("resnet18", "resnet34", "resnet50"), default="resnet18", help="(default: resnet18)")
    mup.add_argument("--size", type=int, default=224, metavar="PX", help="lesion crop size (default: 224)")
    mup.add_argument("--warmup", type=int, default=10, metavar="E", help="warm-up epochs, backbones frozen (default: 10)")
    mup.add_argument("--push-every", type=int, default=10, metavar="E", help="push every E epochs and at the end (default: 10)")
    mup.add_argument("--top-k", type=int, default=5, metavar="K", help="similarity pooling: mean of the top K cells (default: 5)")
    mup.add_argument("--no-augment", action="store_true", help="train without augmentation")
    mup.set_defaults(handler=run_mupnet)

    dl = sub.add_parser("dlum", help="DL-UM ultrasound + mammography fusion (or DL-U / DL-M)",
                        description="Train DL-UM (Breast Cancer Res 2025): VGG19-like branches for the US and MG lesion ROIs "
                                    "(ROI widened by 30% of its shortest side), a deep-supervision head on every block, "
                                    "concat fusion; focal loss on every head + mean absolute disagreement of the branches; "
                                    "model selection by the lowest validation loss. DL-U / DL-M: one branch.")
    _common(dl, epochs=30, batch=16, lr=1e-4, optimiser="adam")
    dl.add_argument("--variant", choices=("dlum", "dlu", "dlm"), default="dlum", help="both branches, US only or MG only (default: dlum)")
    dl.add_argument("--mg-view", choices=("mg_cc", "mg_mlo"), default="mg_cc", help="mammography view (default: mg_cc)")
    dl.add_argument("--width", type=float, default=1.0, metavar="X", help="filter-count multiplier, 1 = VGG19 widths (default: 1)")
    dl.add_argument("--size", type=int, default=224, metavar="PX", help="ROI size (default: 224)")
    dl.add_argument("--no-augment", action="store_true", help="train without augmentation")
    dl.set_defaults(handler=run_dlum)

    dr = sub.add_parser("dlr", help="deep radiomics with clinical data: CLDLR, DLR_LH, DLR_BM",
                        description="Train a deep-radiomics model on grey B-mode lesion ROIs. --kind cldlr (Sci Rep 2024): "
                                    "VGG11, its penultimate FC features + the clinical variables -> calibrated RBF-SVM. "
                                    "--kind lh / bm (QIMS 2025): ResNet50 with a 128-d embedding, then an MLP on embedding "
                                    "+ age; lh learns BI-RADS 2/3 vs 4/5, bm benign vs malignant among BI-RADS 4A. Missing "
                                    "clinical values are imputed from training and flagged by indicator columns.")
    _common(dr, epochs=40, batch=16, lr=5e-3, optimiser="adam")
    dr.add_argument("--kind", choices=("cldlr", "lh", "bm"), required=True, help="which model")
    dr.add_argument("--arch", choices=("vgg11", "resnet18", "resnet50"), help="CNN (default: vgg11 for cldlr, resnet50 for lh / bm)")
    dr.add_argument("--width", type=float, default=1.0, metavar="X", help="VGG filter multiplier (default: 1)")
    dr.add_argument("--size", type=int, default=224, metavar="PX", help="ROI size (default: 224)")
    dr.add_argument("--no-augment", action="store_true", help="train without augmentation")
    dr.set_defaults(handler=run_dlr)


def _val_fold(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--val-fold must be a fold number or 'none', got {text!r}") from None


def settings_from(args: argparse.Namespace) -> TrainingSettings:
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not args.overwrite:
        raise UsageError(f"{out} already exists; add --overwrite to replace the bundle")
    run_dir = Path(args.run_dir) if args.run_dir else out.with_name(out.name + ".run")
    settings = TrainingSettings(
        run_dir=run_dir, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
        weight_decay=args.weight_decay, optimiser=args.optimiser, scheduler=args.scheduler, seed=args.seed,
        device=args.device, amp=not args.no_amp, num_workers=args.workers, resume=args.resume,
        progress=not args.quiet, max_steps_per_epoch=args.max_steps_per_epoch, keep=args.keep,
    )
    problems = settings.problems()
    if problems:
        raise UsageError("; ".join(problems))
    return settings


def run_segmentation(args: argparse.Namespace) -> int:
    from ..segmentation.train import SegmentationOptions, train_segmentation

    try:
        patch = tuple(int(v) for v in args.patch.split(","))
    except ValueError:
        raise UsageError(f"--patch must be three integers K,J,I, got {args.patch!r}") from None
    if len(patch) != 3:
        raise UsageError(f"--patch must be three integers K,J,I, got {args.patch!r}")
    options = SegmentationOptions(arch=args.arch, spatial=args.spatial, size=args.size, base_channels=args.channels,
                                  patch_kji=patch, val_fold=_val_fold(args.val_fold), include_normal=not args.no_normal,
                                  modality=args.modality, augment=args.augment, threshold=args.threshold, weights=args.weights,
                                  min_size_mm=args.min_size_mm, encoder_bn_momentum=args.encoder_bn_momentum)
    path = train_segmentation(args.data, args.out, options, settings_from(args))
    if path is not None:
        print(f"Segmentation bundle: {path}")
    return 0


def run_abvs_planes(args: argparse.Namespace) -> int:
    from ..classification.train import PlaneClassifierOptions, train_plane_classifier

    options = PlaneClassifierOptions(planes=args.planes, backbone=args.backbone, size=args.size, frames=args.frames,
                                     margin=args.margin, val_fold=_val_fold(args.val_fold), weights=args.weights,
                                     oversample=not args.no_oversample, augment=not args.no_augment,
                                     flip_tta=not args.no_tta, width=args.width)
    path = train_plane_classifier(args.data, args.out, options, settings_from(args))
    if path is not None:
        print(f"Classifier bundle: {path}")
    return 0


def run_mupnet(args: argparse.Namespace) -> int:
    from ..mupnet.train import MUPNetOptions, train_mupnet

    modalities = [m.strip() for m in args.modalities.split(",") if m.strip()]
    options = MUPNetOptions(modalities=modalities, prototypes=args.prototypes, backbone=args.backbone, size=args.size,
                            warmup_epochs=args.warmup, push_every=args.push_every, top_k=args.top_k,
                            val_fold=_val_fold(args.val_fold), augment=not args.no_augment)
    print(f"MUP-Net bundle: {train_mupnet(args.data, args.out, options, settings_from(args))}")
    return 0


def run_dlum(args: argparse.Namespace) -> int:
    from ..dlum.train import DLUMOptions, train_dlum

    options = DLUMOptions(variant=args.variant, mg_view=args.mg_view, width=args.width, size=args.size,
                          val_fold=_val_fold(args.val_fold), augment=not args.no_augment)
    path = train_dlum(args.data, args.out, options, settings_from(args))
    if path is not None:
        print(f"{args.variant.upper()} bundle: {path}")
    return 0


def run_dlr(args: argparse.Namespace) -> int:
    from ..radiomics.train import DLROptions, train_dlr

    options = DLROptions(kind=args.kind, arch=args.arch, width=args.width, size=args.size,
                         val_fold=_val_fold(args.val_fold), augment=not args.no_augment)
    path = train_dlr(args.data, args.out, options, settings_from(args))
    if path is not None:
        print(f"{args.kind} bundle: {path}")
    return 0
