"""``dataset import-busi | import-busbra | merge | import-images | validate | summary``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import DatasetError, UsageError

HELP = """\
Work with datasets in the BreastUSAI contract (a folder with dataset.json, images/ and
segmentations/; see README "Dataset contract")."""


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("dataset", help="import, validate and summarise datasets", description=HELP)
    sub = p.add_subparsers(dest="dataset_command", metavar="SUBCOMMAND", required=True)

    imp = sub.add_parser(
        "import-busi",
        help="convert the BUSI breast ultrasound dataset into the contract",
        description=(
            "Convert BUSI (Al-Dhabyani et al., Data in Brief 2020) into a dataset folder: images as NRRD, "
            "lesion masks as .seg.nrrd (one segment per lesion), normal images as lesion-free items, "
            "duplicate groups (manifest dup_group) kept inside one fold, label-conflict groups train-only."
        ),
    )
    imp.add_argument("source", metavar="SRC", help="BUSI folder holding manifest.csv, images/ and masks/")
    imp.add_argument("--out", required=True, metavar="DIR", help="dataset folder to create (must not exist or be empty)")
    imp.add_argument("--folds", type=int, default=5, metavar="K", help="cross-validation folds (default: 5)")
    imp.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the fold assignment (default: 0)")
    imp.add_argument("--overwrite", action="store_true", help="replace --out if it already holds files")
    imp.set_defaults(handler=run_import_busi)

    bra = sub.add_parser(
        "import-busbra",
        help="convert the BUS-BRA breast ultrasound dataset into the contract",
        description=(
            "Convert BUS-BRA (Gomez-Flores et al., Medical Physics 2024) into a dataset folder: one lesion item per "
            "image (NRRD + .seg.nrrd), BI-RADS and biopsy pathology kept, the two views of a patient's lesion tied by "
            "patient_id and dup_group (one fold), the authors' official patient folds kept (fold k -> k-1). Rows whose "
            "size disagrees with the PNG are reported by file and the files trusted; a missing image or mask stops "
            "the import naming the file."
        ),
    )
    bra.add_argument("source", metavar="SRC", help="BUS-BRA folder holding bus_data.csv, Images/ and Masks/")
    bra.add_argument("--out", required=True, metavar="DIR", help="dataset folder to create (must not exist or be empty)")
    bra.add_argument("--overwrite", action="store_true", help="replace --out if it already holds files")
    bra.set_defaults(handler=run_import_busbra)

    mrg = sub.add_parser(
        "merge",
        help="merge dataset folders (e.g. BUSI + BUS-BRA) into one, leaving held-out cases out",
        description=(
            "Write the union of two or more dataset folders: each source's files under <site>/ (hard links where "
            "possible), items with their folds, patients and duplicate groups unchanged, the site of every case "
            "recorded in dataset.json ('sites'). Case ids must be unique across sources. --hold-out leaves the "
            "listed cases out together with every image linked to them (same patient or duplicate group)."
        ),
    )
    mrg.add_argument("sources", metavar="DIR", nargs="+", help="dataset folders to merge (two or more)")
    mrg.add_argument("--out", required=True, metavar="DIR", help="merged dataset folder to create")
    mrg.add_argument("--hold-out", metavar="FILE",
                     help="text file of case ids to leave out, one per line ('#' starts a comment)")
    mrg.add_argument("--name", metavar="TEXT", help="name of the merged dataset (default: the sources' names joined)")
    mrg.add_argument("--overwrite", action="store_true", help="replace --out if it already holds files")
    mrg.set_defaults(handler=run_merge)

    ims = sub.add_parser(
        "import-images",
        help="convert a folder of images (DICOM, NRRD, PNG, ...) into an anonymous dataset",
        description=(
            "Convert every image under SRC (recursive; for --kind abvs a folder of DICOM files is one series) into a "
            "dataset folder. Cases become case_0001..., patients (same DICOM PatientID) patient_0001...; only voxels "
            "and geometry are written: no file name, no DICOM tag (names, ids, dates, institutions never reach the "
            "dataset). Optional masks and labels make lesion items; --mapping keeps the source -> case link in a CSV "
            "that must lie outside the dataset."
        ),
    )
    ims.add_argument("source", metavar="SRC", help="folder of images")
    ims.add_argument("--out", required=True, metavar="DIR", help="dataset folder to create (must not exist or be empty)")
    ims.add_argument("--kind", required=True, choices=("abvs", "us_bmode", "us_doppler", "us_elastography", "mg_cc", "mg_mlo"),
                     help="what the images are")
    ims.add_argument("--masks", metavar="DIR", help="lesion masks: <image stem>.seg.nrrd or <image stem>_mask.<ext>")
    ims.add_argument("--labels", metavar="CSV", help="CSV with columns file, pathology (benign/malignant/normal) and "
                                                     "optionally birads")
    ims.add_argument("--mapping", metavar="CSV", help="write source file -> case / patient pseudonym here (outside --out)")
    ims.add_argument("--folds", type=int, default=5, metavar="K", help="cross-validation folds (default: 5)")
    ims.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the fold assignment (default: 0)")
    ims.add_argument("--overwrite", action="store_true", help="replace --out if it already holds files")
    ims.set_defaults(handler=run_import_images)

    val = sub.add_parser(
        "validate",
        help="check a dataset folder against the contract",
        description=(
            "Check dataset.json and the files it names: fields and values, paths inside the folder, files "
            "present, segments present, one patient / duplicate group per fold and split. Every violation is "
            "listed with its item and field. Exit code 0 when valid, 2 otherwise."
        ),
    )
    val.add_argument("folder", metavar="DIR", help="dataset folder (holding dataset.json)")
    val.add_argument("--deep", action="store_true",
                     help="also read every image and segmentation whole, with the readers and limits of training "
                          "(corrupt or truncated pixel data, NaN / infinite voxels, implausible sizes, data files outside "
                          "the folder), and check each mask lies on its image grid; about 3 s for BUSI (626 images, measured on this 2-core machine)")
    val.add_argument("--json", action="store_true", help="print the result as JSON")
    val.set_defaults(handler=run_validate)

    summ = sub.add_parser(
        "summary",
        help="count images, lesions, classes, duplicate groups and folds",
        description="Summarise a valid dataset: images and lesions per pathology, splits, modalities, "
                    "duplicate groups, BI-RADS, clinical completeness and the class balance of every fold.",
    )
    summ.add_argument("folder", metavar="DIR", help="dataset folder (holding dataset.json)")
    summ.add_argument("--json", action="store_true", help="print the summary as JSON")
    summ.set_defaults(handler=run_summary)


def run_import_busi(args: argparse.Namespace) -> int:
    from ..dataset.busi import import_busi

    if args.folds < 2:
        raise UsageError(f"--folds must be at least 2, got {args.folds}")
    report = import_busi(args.source, args.out, n_folds=args.folds, seed=args.seed,
                         overwrite=args.overwrite, progress=not args.quiet)
    labels = ", ".join(f"{n} {k}" for k, n in sorted(report.per_label.items()))
    print(f"Imported {report.images} BUSI images ({labels}; {report.lesions} lesions, "
          f"{report.train_only} train-only) -> {report.out}")
    return 0


def run_import_busbra(args: argparse.Namespace) -> int:
    from ..dataset.busbra import import_busbra

    report = import_busbra(args.source, args.out, overwrite=args.overwrite, progress=not args.quiet)
    labels = ", ".join(f"{n} {k}" for k, n in sorted(report.per_label.items()))
    print(f"Imported {report.images} BUS-BRA images of {report.patients} patients ({labels}; "
          f"{report.folds} official folds) -> {report.out}")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def read_case_list(path: str) -> set[str]:
    """Case ids of a hold-out file: one per line, blank lines and '#' comments ignored."""
    from ..errors import InputFileError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(path, f"cannot read the case list ({error})") from None
    return {line.split("#", 1)[0].strip() for line in text.splitlines()} - {""}


def run_merge(args: argparse.Namespace) -> int:
    from ..dataset.merge import merge_datasets

    if len(args.sources) < 2:
        raise UsageError("merge needs at least two dataset folders")
    hold_out = read_case_list(args.hold_out) if args.hold_out else set()
    report = merge_datasets(args.sources, args.out, hold_out, name=args.name, overwrite=args.overwrite)
    sites = ", ".join(f"{n} from {tag}" for tag, n in report.items_per_site.items())
    print(f"Merged {sites} -> {report.out}; {len(report.held_out_cases)} held-out case(s) left out")
    return 0


def run_import_images(args: argparse.Namespace) -> int:
    from ..dataset.import_images import import_images

    if args.folds < 2:
        raise UsageError(f"--folds must be at least 2, got {args.folds}")
    report = import_images(args.source, args.out, args.kind, args.masks, args.labels, args.mapping, n_folds=args.folds,
                           seed=args.seed, overwrite=args.overwrite, progress=not args.quiet)
    print(f"Imported {report.images} images of {report.patients} patient(s), {report.lesions} lesion(s) -> {report.out}")
    for problem in report.skipped:
        print(f"skipped: {problem}")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from ..dataset.validate import validate_dataset_folder

    violations = validate_dataset_folder(args.folder, deep=args.deep)
    if args.json:
        print(json.dumps({"valid": not violations, "violations": [v.__dict__ for v in violations]}, indent=2))
        return 0 if not violations else 2
    if violations:
        raise DatasetError(args.folder, violations)
    print(f"{args.folder}: valid ({'deep' if args.deep else 'structure and files'} check)")
    return 0


def run_summary(args: argparse.Namespace) -> int:
    from ..dataset import load_dataset
    from ..dataset.summary import format_summary, summarise

    summary = summarise(load_dataset(args.folder))
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0
