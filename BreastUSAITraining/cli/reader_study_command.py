"""``reader-study``: radiologists' reads without and with AI, compared as the papers do."""

from __future__ import annotations

import argparse
import math

from ..readerstudy.reads import BIOPSY_FROM, READ_BIRADS
from .common import add_output_folder, check_output_folder

HELP = f"""\
Analyse a reader study: every reader's BI-RADS (and optionally benign / malignant call and reading
time) for the same lesions without AI and with AI, scored against pathology (seed 004 Table 5).

The reads CSV (comma, semicolon or tab separated) has one row per reader, lesion and mode, with the columns
  reader      reader's name or code (required)
  case_id     the lesion's case, as in dataset.json (required)
  lesion_id   the lesion within the case (may be empty when the case has one lesion)
  mode        without_ai or with_ai (required)
  birads      {', '.join(READ_BIRADS)} (required)
  call        benign or malignant (empty: malignant from BI-RADS {BIOPSY_FROM} up)
  seconds     reading time in seconds
  group       reader group, e.g. junior / middle / senior (pooled rows per group)
  pathology   benign or malignant (else the truth comes from --data)

Writes OUT/reader_study.json (every figure), reader_study.md (Table 5: reading time, sensitivity,
specificity, accuracy and BI-RADS AUC per reader, group and all readers, without and with AI, with
P1 = McNemar / DeLong of the reader without AI against the AI model and P2 = McNemar / DeLong /
paired t-test of with against without AI; Fleiss' kappa between readers) and reader_study.png."""


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("reader-study", help="readers without and with AI: Table 5 of the ABVS paper",
                            description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reads", metavar="READS_CSV", help="the reads, one row per reader, lesion and mode")
    add_output_folder(p, "output folder")
    p.add_argument("--data", metavar="DIR",
                   help="dataset whose dataset.json gives each lesion's pathology (when the CSV has no pathology "
                        "column; when it has one, both must agree)")
    p.add_argument("--ai", metavar="PREDICTIONS_CSV",
                   help="the AI model's probabilities for the same lesions: the predictions.csv that evaluate "
                        "wrote; adds the model's own figures and P1")
    p.add_argument("--ai-threshold", type=float, default=0.5, metavar="P",
                   help="AI probability from which the model calls a lesion malignant (default: 0.5)")
    p.set_defaults(handler=run_reader_study_command)


def run_reader_study_command(args: argparse.Namespace) -> int:
    from ..readerstudy import run_reader_study

    check_output_folder(args.out, args.overwrite)
    document = run_reader_study(args.reads, args.out, args.data, args.ai, args.ai_threshold)
    pooled = document["all_readers"]
    without, with_ai = pooled["without_ai"], pooled["with_ai"]

    def value(number: float) -> str:
        return "n/a" if math.isnan(number) else f"{number:.3f}"

    def figures(part) -> str:
        return f"sensitivity {value(part['sensitivity'])}, specificity {value(part['specificity'])}" if part else "no reads"

    print(f"{len(document['readers'])} reader(s), {document['lesions']} lesions: without AI {figures(without)}; "
          f"with AI {figures(with_ai)} -> {args.out}")
    return 0
