"""Reader studies without and with AI (SPEC 3.7; seed 004 Table 5): reads from a CSV file,
truth from the file or a dataset, optionally the AI model's probabilities, and the paper's
comparisons written to a folder (``reader_study.json``, ``reader_study.md``, ``reader_study.png``).

* :mod:`.reads`    - the reads CSV, checked row by row
* :mod:`.truth`    - each lesion's pathology; the AI probabilities from ``evaluate``'s predictions.csv
* :mod:`.analysis` - the figures and tests
* :mod:`.report`   - Table 5 in markdown and the figure
* :mod:`.run`      - the whole study: analyse and write the folder

Names are imported on first use (scipy only then), so ``reads`` stays light for the CLI.
"""

from typing import Any

_WHERE = {"run_reader_study": "run", "read_reads": "reads", "lesion_labels": "truth", "ai_probabilities": "truth",
          "reader_study": "analysis"}
__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(name)
