"""``phantom``: write a deterministic synthetic dataset."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from ..phantom.presets import ABVS_SIZES, KINDS

HELP = """\
Generate a synthetic (phantom) dataset in the BreastUSAI dataset contract: images with
their geometry (.nrrd), lesion masks (.seg.nrrd, one segment per lesion) and
dataset.json with pathology, BI-RADS, clinical fields, a patient-grouped test split
and cross-validation folds. The same seed always gives the same files.

Kinds:
  us2d        B-mode images (benign and malignant lesions, ~10% lesion-free images)
  multimodal  B-mode + colour Doppler + elastography of each lesion (MUP-Net inputs)
  mg          B-mode + mammography CC and MLO crops of each lesion (DL-UM inputs)
  abvs        ABVS 3D volumes with one or two lesions each
  all         every 2D modality per lesion, plus ABVS cases

Phantoms are for tests and demonstrations; never report accuracy on them."""


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "phantom", help="generate a synthetic dataset (tests, demo)", description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", required=True, metavar="DIR", help="dataset folder to create (must not exist or be empty)")
    p.add_argument("--kind", choices=KINDS, default="us2d", help="which images to generate (default: us2d)")
    p.add_argument("--cases", type=int, default=20, metavar="N",
                   help="number of lesions (2D kinds: one image each; abvs: lesions spread over volumes); "
                        "with --kind all, N multimodal lesions plus N ABVS lesions (default: 20)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed; same seed, same dataset (default: 0)")
    p.add_argument("--image-size", type=int, default=256, metavar="PX",
                   help="2D image height in pixels (width is 1.2x); mammography crops are PX square (default: 256)")
    p.add_argument("--abvs-size", choices=tuple(ABVS_SIZES), default="small",
                   help="ABVS volume preset: small 80x48x32 voxels (tests), medium 200x120x80, "
                        "full 843x546x318 at 0.2x0.11x0.5 mm (the scanner's 147 MB volume) (default: small)")
    p.add_argument("--malignant-fraction", type=float, default=0.4, metavar="F",
                   help="share of malignant lesions, 0..1 (default: 0.4)")
    p.add_argument("--test-fraction", type=float, default=0.2, metavar="F",
                   help="share of patients put in the test split, 0..1 exclusive (default: 0.2)")
    p.add_argument("--folds", type=int, default=5, metavar="K", help="cross-validation folds over training patients (default: 5)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it already holds files")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..phantom import PhantomSettings, generate_phantom_dataset

    settings = PhantomSettings(
        kind=args.kind, cases=args.cases, seed=args.seed, image_size=args.image_size, abvs_size=args.abvs_size,
        malignant_fraction=args.malignant_fraction, test_fraction=args.test_fraction, n_folds=args.folds,
    )
    problems = settings.problems()
    if problems:
        raise UsageError("; ".join(problems))
    dataset = generate_phantom_dataset(args.out, settings, overwrite=args.overwrite, progress=not args.quiet)
    cases = len({item.case_id for item in dataset.items})
    print(f"Phantom dataset ({args.kind}, seed {args.seed}): {len(dataset.items)} items in {cases} cases -> {args.out}")
    return 0
