"""``predict``: run segmentation and classifier bundles on images."""

from __future__ import annotations

import argparse
import sys

from .common import EXIT_OK, EXIT_PARTLY_FAILED, EXIT_USAGE, add_device, add_output_folder, add_threads, check_output_folder

HELP = """\
Find lesions and classify them. Inputs are image files (NRRD, NIfTI, MetaImage, DICOM,
PNG/JPEG/TIFF/BMP) or folders (of such files, or one DICOM series). Without --model the
shipped models that fit each input run (see README "Shipped models"). Lesions come from a
segmentation model or from a drawn mask (--segmentation FILE, one input only); every
classifier bundle then gives a malignant probability per lesion, fused and per plane,
and the first one a Grad-CAM heatmap; a MUP-Net bundle shows the matched prototypes.
A model trained on phantom images only is named in a warning whenever it runs. Per input, OUT/<name>/ receives
result.json, lesions.seg.nrrd, heatmap_<lesion>.nrrd and PNG overlays, written whole or
not at all. Exit code 1 if some inputs failed and the others were done, 2 when no input could be
done or for a usage error."""


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("predict", help="segment and classify lesions in images", description=HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    p.add_argument("--model", dest="models", action="append", default=[], metavar="BUNDLE",
                   help="a model bundle; repeat for several (at most one segmentation model). Default: the shipped models "
                        "(Resources/Models, or $BREASTUSAI_MODELS) that fit each input - a 2D image gets lesion "
                        "segmentation + lesion classifier + B-mode MUP-Net, a volume the phantom ABVS pair")
    add_output_folder(p, "output folder (one sub-folder per input)")
    p.add_argument("--segmentation", metavar="SEG_NRRD",
                   help="use this .seg.nrrd's segments as the lesions (e.g. corrected in Slicer) instead of a segmentation model")
    p.add_argument("--companion", dest="companions", action="append", default=[], metavar="KIND=IMAGE[,SEG]",
                   help="another image of the input's lesions (us_doppler, us_elastography, mg_cc, mg_mlo), for multimodal "
                        "MUP-Net and DL-UM; without SEG it must be co-registered with the input (the lesion masks are "
                        "carried over through patient space), with SEG the segment named like the lesion is used; "
                        "repeat per image; one INPUT only")
    p.add_argument("--clinical", dest="clinical", action="append", default=[], metavar="NAME=VALUE",
                   help="the lesion's clinical data for deep-radiomics models (e.g. age=52, palpable=true, shape=irregular); "
                        "repeat per variable; what is left out counts as missing")
    p.add_argument("--birads", metavar="CATEGORY", help="the reader's BI-RADS; with DLR_LH and DLR_BM bundles a 4A lesion "
                                                        "gets the downgrade / keep / upgrade re-stratification")
    p.add_argument("--threshold", type=float, metavar="P", help="segmentation probability threshold (default: the bundle's)")
    p.add_argument("--expect-lesion", action="store_true",
                   help="the inputs are known to hold a lesion (annotating): when no region passes the threshold, return "
                        "the most probable one (where the probability is at least half its peak), flagged 'below threshold' "
                        "in result.json and in the segment's tags, instead of 'no lesion found'")
    p.add_argument("--ensemble", action="store_true",
                   help="with two or more plane-classifier models (e.g. one recipe trained with two seeds): the lesion's "
                        "probability is their mean, judged at their mean threshold; each model's own result is kept too")
    p.add_argument("--cam", choices=("gradcam", "gradcam++"), default="gradcam", help="heatmap method (default: gradcam)")
    p.add_argument("--heatmap-grid", choices=("auto", "full", "lesion"), default="auto",
                   help="heatmap on the full input grid, or on the lesion's box (a sub-grid with the input's spacing and "
                        "direction); auto: full up to 20 million voxels (default: auto)")
    p.add_argument("--no-overlays", action="store_true", help="skip the PNG overlays")
    p.add_argument("--dicom-out", action="store_true",
                   help="also write the lesions as a DICOM SEG (lesions.seg.dcm, one segment per lesion, referencing the "
                        "source image; patient and study identifiers copied from it for the same PACS) - DICOM inputs "
                        "only; for any other input result.json says why nothing was written")
    add_device(p)
    add_threads(p)
    p.add_argument("--progress", choices=("bar", "json", "none"), default=None,
                   help="bar for people, json lines on stdout for programs (default: bar, none with -q)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..predict import PredictOptions, predict_inputs

    check_output_folder(args.out, args.overwrite)

    progress = args.progress or ("none" if args.quiet else "bar")
    options = PredictOptions(models=args.models, out=args.out, device=args.device, segmentation=args.segmentation,
                             threshold=args.threshold, expect_lesion=args.expect_lesion, ensemble=args.ensemble, cam=args.cam, heatmap_grid=args.heatmap_grid, progress=progress,
                             overlays=not args.no_overlays, companions=args.companions, clinical=args.clinical,
                             birads=args.birads, dicom_out=args.dicom_out)
    results, failures = predict_inputs(args.inputs, options)
    if progress != "json":
        for document in results:
            lesions = document["lesions"]
            shown = ", ".join(f"{l['id']} p={l['malignant_probability']:.2f}" if "malignant_probability" in l else l["id"]
                              for l in lesions) or "no lesion found"
            print(f"{document['input']}: {shown} -> {document['output']}")
        for warning in sorted({w for document in results for w in document.get("warnings", [])}):
            print(f"warning: {warning}", file=sys.stderr)
    for path, message in failures:
        print(f"error: {message}", file=sys.stderr)
    if not failures:
        return EXIT_OK
    return EXIT_PARTLY_FAILED if results else EXIT_USAGE  # some inputs done / nothing could be done (an input error)
