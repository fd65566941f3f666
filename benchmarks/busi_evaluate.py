"""``evaluate`` and ``compare`` on real data: the fold-0 bundles of the BUSI benchmarks
(MUP-Net from busi_mupnet.py, the plain ResNet-18 from busi_classification.py) evaluated
on their held-out fold, then compared lesion for lesion (DeLong, McNemar). The output
folders are the reports the tool writes (metrics JSON, predictions CSV, ROC with CI band,
confusion, calibration and decision-curve PNGs).

    python benchmarks/busi_evaluate.py [--work DIR] [--fold 0]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
OUT = HERE / "results" / "busi_evaluate"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "breastusai-bench"),
                        help="the --work folder of busi_mupnet.py / busi_classification.py (bundles, imported BUSI)")
    parser.add_argument("--fold", type=int, default=0, help="held-out fold whose bundles are evaluated")
    args = parser.parse_args()
    from BreastUSAITraining.cli.main import main as cli

    work = Path(args.work)
    bundles = {"mupnet": work / f"mupnet_fold{args.fold}", "resnet18": work / f"cls_full_fold{args.fold}"}
    missing = [str(p) for p in bundles.values() if not p.is_dir()]
    if missing:
        print(f"run busi_mupnet.py and busi_classification.py first; missing: {', '.join(missing)}", file=sys.stderr)
        return 2
    shutil.rmtree(OUT, ignore_errors=True)
    for name, bundle in bundles.items():
        code = cli(["evaluate", "--model", str(bundle), "--data", str(work / "busi_dataset"), "--split", f"fold:{args.fold}",
                    "--out", str(OUT / f"{name}_fold{args.fold}"), "-q"])
        if code:
            return code
    return cli(["compare", str(OUT / f"mupnet_fold{args.fold}"), str(OUT / f"resnet18_fold{args.fold}"), "--out",
                str(OUT / f"compare_fold{args.fold}"), "-q"])


if __name__ == "__main__":
    sys.exit(main())
