"""``reader-study``: analyse a study and write its folder whole."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..atomic import atomic_directory, write_json_atomic, write_text_atomic
from ..errors import UsageError
from .analysis import reader_study
from .reads import read_reads
from .report import plot_study, study_markdown
from .truth import ai_probabilities, lesion_labels


def _json_ready(value: Any) -> Any:
    """NaN (a figure that cannot be computed, e.g. a specificity without benign lesions) -> null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def run_reader_study(reads_csv: str | Path, out: str | Path, data_dir: str | Path | None = None,
                     ai_predictions: str | Path | None = None, ai_threshold: float = 0.5) -> dict[str, Any]:
    """Analyse the study and write ``out`` whole (or not at all); returns the JSON document."""
    if not 0 < ai_threshold < 1:
        raise UsageError(f"--ai-threshold must be within (0, 1), got {ai_threshold}")
    reads = read_reads(reads_csv)
    labels = lesion_labels(reads, reads_csv, data_dir)
    ai = ai_probabilities(ai_predictions, sorted(labels)) if ai_predictions is not None else None
    document = reader_study(reads, labels, ai, ai_threshold)
    document["source"] = {"reads": Path(reads_csv).name, "dataset": str(data_dir) if data_dir else None,
                          "ai_predictions": str(ai_predictions) if ai_predictions else None}
    with atomic_directory(out, overwrite=True) as staging:
        write_json_atomic(staging / "reader_study.json", _json_ready(document))
        write_text_atomic(staging / "reader_study.md", study_markdown(document, Path(reads_csv).name))
        plot_study(staging / "reader_study.png", document)
    return document

