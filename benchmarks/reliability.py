"""Reliability and security, measured (issue 6): fuzzed inputs, killed runs, tampered and
hostile model files, hostile datasets, patient privacy, and load.

    python benchmarks/reliability.py [--fuzz 2500] [--training-kills 20] [--predict-kills 10]
        [--export-kills 10] [--load-inputs 500] [--seed 0] [--work DIR] [--out JSON]
    python benchmarks/reliability.py --quick     # the small version make test runs

Every category reports how many cases were tried and how many held, with the failures
(each reproducible: fuzz cases by --seed and case number). The result goes to
``results/reliability.json`` and the README table (``render_readme_tables.py``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from fold_files import save_json  # noqa: E402
from machine import machine_info  # noqa: E402

RESULT = HERE / "results" / "reliability.json"
QUICK = {"fuzz": 40, "training_kills": 2, "predict_kills": 2, "export_kills": 2, "load_inputs": 40, "writer_rounds": 1}
FULL = {"fuzz": 2500, "training_kills": 20, "predict_kills": 10, "export_kills": 10, "load_inputs": 500, "writer_rounds": 3}


def _phantom_inputs(work: Path, count: int) -> list[Path]:
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    folder = work / f"load_phantoms_{count}"
    if not (folder / "dataset.json").is_file():
        generate_phantom_dataset(folder, PhantomSettings(kind="us2d", cases=count, image_size=64, seed=9), progress=False)
    return sorted((folder / "images").glob("*.nrrd"))[:count]


def run_suite(counts: dict, seed: int, work: Path, progress: bool = True) -> dict:
    from reliability_suite import fuzz, hostile, kills, load, privacy
    from reliability_suite.seeds import write_all_seeds

    work.mkdir(parents=True, exist_ok=True)
    seeds = write_all_seeds(work / "seeds")
    categories: dict[str, dict] = {}
    timings: dict[str, float] = {}

    def timed(name, function, *args, **kwargs):
        started = time.perf_counter()
        if progress:
            print(f"[reliability] {name} ...", flush=True)
        result = function(*args, **kwargs)
        timings[name] = round(time.perf_counter() - started, 1)
        return result

    fuzzed = timed("fuzz", fuzz.run_fuzz, seeds, counts["fuzz"], seed, work / "fuzz", progress=progress)
    categories["fuzzed inputs"] = {"tried": fuzzed["tried"], "held": fuzzed["held"], "details": fuzzed}

    training = timed("training kills", kills.killed_training, seeds["dataset"], work / "kills", counts["training_kills"],
                     seed=seed)
    inputs = _phantom_inputs(work, max(counts["load_inputs"], 8))
    predicted = timed("predict kills", kills.killed_predict, inputs[:6], [seeds["bundle"]], work / "kills",
                      counts["predict_kills"], seed=seed)
    exported = timed("export kills", kills.killed_export, seeds["dataset"], work / "kills", counts["export_kills"], seed=seed)
    categories["killed runs"] = {"tried": training["kills"] + predicted["kills"] + exported["kills"],
                                 "held": training["held"] + predicted["held"] + exported["held"],
                                 "details": {"training": training, "predict": predicted, "export": exported}}

    models = timed("hostile models", hostile.model_scenarios, seeds["bundle"], work / "hostile", inputs)
    categories["tampered / hostile models"] = {"tried": len(models), "held": sum(r["held"] for r in models), "details": models}
    datasets = timed("hostile datasets", hostile.dataset_scenarios, seeds["dataset"], work / "hostile")
    categories["hostile datasets"] = {"tried": len(datasets), "held": sum(r["held"] for r in datasets), "details": datasets}

    exported_privacy = timed("privacy (Slicer export)", privacy.slicer_export_privacy, work / "privacy")
    imported_privacy = timed("privacy (dataset import-images)", privacy.import_privacy, work / "privacy")
    categories["privacy"] = {"tried": 2, "held": int(exported_privacy["held"]) + int(imported_privacy["held"]),
                             "details": {"slicer_export": exported_privacy, "dataset_import": imported_privacy}}

    memory = timed("load: memory", load.predict_memory, inputs[: counts["load_inputs"]], [seeds["bundle"]], work / "load",
                   warmup=max(10, counts["load_inputs"] // 10))
    writers = timed("load: two writers", load.two_writers, inputs[:12], [seeds["bundle"]], work / "load",
                    rounds=counts["writer_rounds"])
    categories["load"] = {"tried": 2, "held": int(memory["held"]) + int(writers["held"]),
                          "details": {"memory": memory, "two_writers": writers}}
    return {"machine": machine_info(), "seed": seed, "counts": counts, "seconds": timings, "categories": categories,
            "all_held": all(c["tried"] == c["held"] for c in categories.values())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small counts (what make test runs)")
    parser.add_argument("--fuzz", type=int, help=f"mutated files (default {FULL['fuzz']})")
    parser.add_argument("--training-kills", type=int, help=f"SIGKILLs during training (default {FULL['training_kills']})")
    parser.add_argument("--predict-kills", type=int, help=f"SIGKILLs during predict (default {FULL['predict_kills']})")
    parser.add_argument("--export-kills", type=int, help=f"SIGKILLs during the Slicer export (default {FULL['export_kills']})")
    parser.add_argument("--load-inputs", type=int, help=f"images predicted in one process (default {FULL['load_inputs']})")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (a failure reproduces with it)")
    parser.add_argument("--work", help="work folder (default: a temporary folder, removed at the end)")
    parser.add_argument("--out", default=str(RESULT), help="result JSON (default: benchmarks/results/reliability.json)")
    args = parser.parse_args()
    counts = dict(QUICK if args.quick else FULL)
    for key in counts:
        value = getattr(args, key, None)
        if value is not None:
            counts[key] = value
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="breastusai-reliability-"))
    try:
        result = run_suite(counts, args.seed, work)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    save_json(Path(args.out), result)
    for name, category in result["categories"].items():
        print(f"{name:28s} tried {category['tried']:5d}  held {category['held']:5d}")
    print(f"all held: {result['all_held']}  ->  {args.out}")
    return 0 if result["all_held"] else 1


if __name__ == "__main__":
    sys.exit(main())
