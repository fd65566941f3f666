"""Foundation figures: reading, writing, importing and generating data.

Each stage runs in its own Python process so that its peak resident memory is its
own. Usage:

    python benchmarks/foundation.py [--busi ../shared/data/busi] [--out benchmarks/results/foundation.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
STAGES = ("abvs_full_render", "abvs_full_nrrd_io", "phantom_all_16", "busi_import", "busi_validate_deep")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def stage_abvs_full_render(work: Path, busi: Path) -> dict:
    import numpy as np

    from BreastUSAITraining.phantom.abvs import render_abvs
    from BreastUSAITraining.phantom.lesion_traits import sample_traits

    traits = [sample_traits(np.random.default_rng(1), True, 30), sample_traits(np.random.default_rng(2), False, 30)]
    start = time.perf_counter()
    volume = render_abvs(5, traits, "full")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "shape_kji": list(volume.array.shape), "volume_mb": volume.array.nbytes / 1e6,
            "slices_per_second": volume.array.shape[0] / seconds}


def stage_abvs_full_nrrd_io(work: Path, busi: Path) -> dict:
    import numpy as np

    from BreastUSAITraining.imagefiles import ImageData, read_volume, write_nrrd
    from BreastUSAITraining.phantom.abvs import render_abvs
    from BreastUSAITraining.phantom.lesion_traits import sample_traits

    volume = render_abvs(5, [sample_traits(np.random.default_rng(1), True, 30)], "full")
    image = ImageData(volume.array, volume.geometry, "bench")
    path = work / "abvs_full.nrrd"
    start = time.perf_counter()
    write_nrrd(image, path, compress=True)
    write_seconds = time.perf_counter() - start
    start = time.perf_counter()
    again = read_volume(path)
    read_seconds = time.perf_counter() - start
    assert np.array_equal(again.array, volume.array) and again.geometry.is_close(volume.geometry)
    return {"write_seconds": write_seconds, "read_seconds": read_seconds, "file_mb": path.stat().st_size / 1e6,
            "geometry_kept": True}


def stage_phantom_all_16(work: Path, busi: Path) -> dict:
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    start = time.perf_counter()
    dataset = generate_phantom_dataset(work / "phantom", PhantomSettings(kind="all", cases=16, seed=0), progress=False)
    return {"seconds": time.perf_counter() - start, "items": len(dataset.items)}


def stage_busi_import(work: Path, busi: Path) -> dict:
    from BreastUSAITraining.dataset.busi import import_busi

    start = time.perf_counter()
    report = import_busi(busi, work / "busi", progress=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "images": report.images, "images_per_second": report.images / seconds,
            "per_label": report.per_label, "lesions": report.lesions}


def stage_busi_validate_deep(work: Path, busi: Path) -> dict:
    from BreastUSAITraining.dataset.busi import import_busi
    from BreastUSAITraining.dataset.validate import validate_dataset_folder

    import_busi(busi, work / "busi", progress=False)
    start = time.perf_counter()
    violations = validate_dataset_folder(work / "busi", deep=True)
    return {"seconds": time.perf_counter() - start, "violations": len(violations)}


def run_stage(name: str, busi: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        result = globals()[f"stage_{name}"](Path(tmp), busi)
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busi", default=str(HERE.parent.parent / "shared" / "data" / "busi"), help="BUSI source folder")
    parser.add_argument("--out", default=str(HERE / "results" / "foundation.json"), help="result JSON to write")
    parser.add_argument("--stage", choices=STAGES, help="run one stage in this process (used internally)")
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, Path(args.busi))))
        return 0
    from machine import machine_info

    results = {"machine": machine_info(), "stages": {}}
    for name in STAGES:
        print(f"running {name} ...", flush=True)
        completed = subprocess.run([sys.executable, __file__, "--stage", name, "--busi", args.busi],
                                   capture_output=True, text=True, check=True)
        results["stages"][name] = json.loads(completed.stdout.strip().splitlines()[-1])
        print(f"  {results['stages'][name]}", flush=True)
    from BreastUSAITraining.atomic import write_json_atomic

    write_json_atomic(args.out, results)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
