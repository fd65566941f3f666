"""``evaluate`` and ``compare``."""

from __future__ import annotations

import argparse
import json
import sys

from .common import add_device, add_output_folder, add_threads, check_output_folder


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "evaluate", help="metrics and figures of a bundle on a labelled split",
        description="Run a bundle on a labelled split of a dataset, lesions located by their ground-truth masks. "
                    "Classifiers: predictions.csv, metrics.json (AUC with 95% bootstrap CI, accuracy, sensitivity, "
                    "specificity, PPV, NPV, F1 and confusion matrix at 0.5 and at Youden's threshold, Brier score, "
                    "calibration, net benefit) and roc.png, confusion.png, calibration.png, decision_curve.png. "
                    "Segmentation models: Dice and IoU per case at the image's own resolution. A warning (and "
                    "data_overlap in metrics.json) says when the split holds the model's own training folds, or the "
                    "validation fold that chose its epoch (train --keep best).")
    p.add_argument("--model", required=True, metavar="BUNDLE", help="the model bundle")
    p.add_argument("--data", required=True, metavar="DIR", help="dataset folder")
    p.add_argument("--split", default="test", metavar="test|fold:K|all",
                   help="the dataset's test split, one cross-validation fold, or every training item (default: test)")
    add_output_folder(p, "evaluation folder to write")
    add_device(p)
    add_threads(p)
    p.set_defaults(handler=run_evaluate)

    c = commands.add_parser(
        "compare", help="DeLong and McNemar tests between two evaluations",
        description="Compare two evaluation folders of the same lesions: paired DeLong test of the AUCs and McNemar's "
                    "test of the calls at 0.5 (exact when fewer than 25 pairs disagree); ROC curves on one plot.")
    c.add_argument("results_a", metavar="RESULTS_A", help="evaluation folder of model A")
    c.add_argument("results_b", metavar="RESULTS_B", help="evaluation folder of model B")
    add_output_folder(c, "write compare.json and roc_compare.png here", required=False)
    c.set_defaults(handler=run_compare)

    r = commands.add_parser(
        "restratify", help="the two-stage BI-RADS 4A re-stratification with DLR_LH and DLR_BM",
        description="For every BI-RADS 4A lesion of a split: DLR_LH low and DLR_BM benign -> downgrade to BI-RADS 3 "
                    "(follow-up, no biopsy); high and malignant -> upgrade; otherwise keep 4A. Writes "
                    "restratification.csv (probabilities, decision, reason) and summary.json (biopsies avoided, "
                    "missed cancers, 4A malignancy rate before and after).")
    r.add_argument("--lh", required=True, metavar="BUNDLE", help="DLR_LH bundle (train dlr --kind lh)")
    r.add_argument("--bm", required=True, metavar="BUNDLE", help="DLR_BM bundle (train dlr --kind bm)")
    r.add_argument("--data", required=True, metavar="DIR", help="dataset folder")
    r.add_argument("--split", default="test", metavar="test|fold:K|all", help="(default: test)")
    add_output_folder(r, "output folder")
    add_device(r)
    add_threads(r)
    r.set_defaults(handler=run_restratify)


def run_evaluate(args: argparse.Namespace) -> int:
    from ..evaluation import evaluate_bundle

    check_output_folder(args.out, args.overwrite)

    document = evaluate_bundle(args.model, args.data, args.split, args.out, args.device, progress=not args.quiet)
    if "auc" in document:
        ci = document["auc_ci95"]
        half = document["at_0.5"]
        print(f"{document['model']['name']} on {document['split']}: {document['lesions']} lesions, AUC {document['auc']:.3f} "
              f"(95% CI {ci[0]:.3f}-{ci[1]:.3f}), sensitivity {half['sensitivity']:.3f}, specificity {half['specificity']:.3f} "
              f"-> {args.out}")
    else:
        print(f"{document['model']['name']} on {document['split']}: {document['dice']['n']} cases, "
              f"Dice {document['dice']['mean']:.3f} (SD {document['dice']['sd']:.3f}) -> {args.out}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from ..evaluation import compare_evaluations

    check_output_folder(args.out, args.overwrite)

    document = compare_evaluations(args.results_a, args.results_b, args.out)
    if args.quiet:
        print(json.dumps(document))
        return 0
    for warning in document["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    d = document["delong"]
    print(f"{document['shared_lesions']} shared lesions: AUC {d['auc_a']:.3f} ({document['a']['model']}) vs "
          f"{d['auc_b']:.3f} ({document['b']['model']}), difference {d['difference']:+.3f} "
          f"(95% CI {d['ci95'][0]:+.3f} to {d['ci95'][1]:+.3f}), DeLong p = {d['p_value']:.3g}; "
          f"McNemar at 0.5 p = {document['mcnemar_at_0.5']['p_value']:.3g}")
    return 0


def run_restratify(args: argparse.Namespace) -> int:
    from ..radiomics.restratify_run import restratify_split

    check_output_folder(args.out, args.overwrite)

    s = restratify_split(args.lh, args.bm, args.data, args.split, args.out, args.device, progress=not args.quiet)
    print(f"{s['lesions_4a']} BI-RADS 4A lesions ({s['malignant']} malignant): {s['decisions']['downgrade']} downgraded "
          f"({100 * s['biopsies_avoided_fraction']:.1f}% biopsies avoided, {s['missed_malignancies']} cancer(s) among them), "
          f"{s['decisions']['keep']} kept, {s['decisions']['upgrade']} upgraded -> {args.out}")
    return 0
