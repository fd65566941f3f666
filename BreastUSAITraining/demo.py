"""The main job on the embedded default (``make demo``).

At this stage: generate a phantom dataset of every modality, validate it (deep
check), summarise it and draw an overview. Later stages add training, prediction and
the report.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from .atomic import write_json_atomic, write_text_atomic
from .dataset import load_dataset
from .dataset.summary import format_summary, summarise
from .dataset.validate import validate_dataset_folder
from .errors import DatasetError, InputFileError
from .phantom import PhantomSettings, generate_phantom_dataset
from .reports.dataset_overview import plot_dataset_overview

log = logging.getLogger(__name__)

#: A demo output folder carries this file; only such folders are ever replaced.
MARKER = ".breastusai-demo"


def _prepare(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise InputFileError(out, "demo output path exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise InputFileError(out, "folder holds other files; choose an empty or new --out folder for the demo")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("created by python -m BreastUSAITraining demo\n")


def run_demo(out: str | Path, cases: int = 16, seed: int = 0, progress: bool = True) -> dict:
    """Run the demo into ``out``; returns a dict of what was produced (also saved as JSON)."""
    out = Path(out).resolve()
    started = time.perf_counter()
    _prepare(out)
    data_dir = out / "phantom_dataset"
    print(f"[1/3] Generating phantom data (all modalities, {cases} lesions + {cases} ABVS lesions, seed {seed}) ...")
    generate_phantom_dataset(data_dir, PhantomSettings(kind="all", cases=cases, seed=seed), progress=progress)
    print("[2/3] Validating the dataset (deep check: every file and geometry) ...")
    violations = validate_dataset_folder(data_dir, deep=True)
    if violations:
        raise DatasetError(data_dir, violations)
    dataset = load_dataset(data_dir)
    print("[3/3] Summarising ...")
    summary = summarise(dataset)
    text = format_summary(summary)
    write_text_atomic(out / "dataset_summary.txt", text + "\n")
    write_json_atomic(out / "dataset_summary.json", summary)
    overview = plot_dataset_overview(dataset, out / "dataset_overview.png")
    print(text)
    result = {
        "output": str(out),
        "dataset": str(data_dir),
        "summary": str(out / "dataset_summary.txt"),
        "overview_png": str(overview),
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_json_atomic(out / "demo_result.json", result)
    print(f"\nDemo finished in {result['seconds']} s. Output: {out}")
    print(json.dumps({k: v for k, v in result.items() if k != "seconds"}, indent=2))
    return result
