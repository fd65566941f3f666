"""Reader-study reads recorded in Slicer (SPEC 3.7): the reader opens a lesion (the clock
starts), gives the BI-RADS and optionally a benign / malignant call, and the read is appended
to a reads CSV - the file ``python -m BreastUSAITraining reader-study`` analyses. Rows already
in the file (and columns the recorder does not fill, e.g. pathology) are kept as they are.

While a read *without AI* is open the AI must stay hidden (``aiAllowed`` is False), so the
first read is not seen through the model's eyes. Each write replaces the whole CSV atomically;
a read that breaks the study (same reader, lesion and mode twice; a reader in two groups; a
BI-RADS that is not a final assessment) is refused and nothing is written.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Callable

from BreastUSAITraining.atomic import write_text_atomic
from BreastUSAITraining.readerstudy.reads import MODES, READ_BIRADS, Read, delimiter_of, read_reads

COLUMNS = ("reader", "group", "case_id", "lesion_id", "mode", "birads", "call", "seconds")


def datasetCaseOf(image_path: str | Path) -> tuple[str, list[str]] | None:
    """(case_id, its lesion ids) of an image file inside a dataset (dataset.json in the image's
    folder or one of the two above it); None when the file is not part of a dataset."""
    from BreastUSAITraining.dataset import load_dataset

    image = Path(image_path).resolve()
    for folder in list(image.parents)[:3]:
        if (folder / "dataset.json").is_file():
            dataset = load_dataset(folder)
            mine = [item for item in dataset.items
                    if image in {dataset.path(relative).resolve() for relative in item.images.values()}]
            return (mine[0].case_id, [item.lesion_id or "" for item in mine]) if mine else None
    return None


class ReadRecorder:
    """One reads CSV; one open read at a time. ``clock`` gives seconds (tests pass their own)."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.clock = clock
        self.pending: dict | None = None
        self._started = 0.0

    def recorded(self) -> list[Read]:
        """The reads already in the file (checked as ``reader-study`` checks them)."""
        return read_reads(self.path) if self.path.exists() else []

    def start(self, reader: str, case_id: str, lesion_id: str, mode: str, group: str = "") -> None:
        """Open a read of one lesion; its time counts from now."""
        reader, case_id, lesion_id, group = reader.strip(), case_id.strip(), lesion_id.strip(), group.strip()
        if not reader or not case_id:
            raise ValueError("Enter the reader's name or code and the case before starting a read.")
        if mode not in MODES:
            raise ValueError(f"The reading mode must be one of {', '.join(MODES)}, not {mode!r}.")
        if self.pending is not None:
            raise ValueError(f"A read of {self.pending['case_id']} is still open: finish or cancel it first.")
        for read in self.recorded():
            if (read.reader, read.case_id, read.lesion_id, read.mode) == (reader, case_id, lesion_id, mode):
                raise ValueError(f"{reader} has already read {'/'.join(filter(None, (case_id, lesion_id)))} {mode} "
                                 f"(in {self.path}).")
            if read.reader == reader and read.group != group:
                raise ValueError(f"{reader} is in group {read.group!r} in {self.path}, not {group!r}.")
        self.pending = {"reader": reader, "group": group, "case_id": case_id, "lesion_id": lesion_id, "mode": mode}
        self._started = self.clock()

    def aiAllowed(self) -> bool:
        """False while a read without AI is open: AI results must not be shown then."""
        return self.pending is None or self.pending["mode"] != "without_ai"

    def cancel(self) -> None:
        self.pending = None

    def finish(self, birads: str, call: str = "") -> dict:
        """Close the open read with the reader's BI-RADS (and call) and append it; returns the row."""
        if self.pending is None:
            raise ValueError("No read is open: start one first.")
        birads = birads.strip().upper()
        if birads not in READ_BIRADS:
            raise ValueError(f"BI-RADS must be a final assessment ({', '.join(READ_BIRADS)}), not {birads!r}.")
        call = call.strip().lower()
        if call not in ("", "benign", "malignant"):
            raise ValueError(f"The call must be benign, malignant or empty (from the BI-RADS), not {call!r}.")
        seconds = max(self.clock() - self._started, 0.1)
        row = {**self.pending, "birads": birads, "call": call, "seconds": f"{seconds:.1f}"}
        self.recorded()  # the file as it stands must be a valid reads file before it grows
        text = self.path.read_text(encoding="utf-8-sig") if self.path.exists() else ""
        delimiter = delimiter_of(text.partition("\n")[0]) if text.strip() else ","
        header = ([c.strip() for c in next(csv.reader([text.splitlines()[0]], delimiter=delimiter))] if text.strip()
                  else list(COLUMNS))
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{self.path} has no {', '.join(missing)} column(s): record into a new reads file.")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=header, restval="", delimiter=delimiter, lineterminator="\n")
        if not text.strip():
            writer.writeheader()
        else:
            buffer.write(text if text.endswith("\n") else text + "\n")
        writer.writerow(row)
        write_text_atomic(self.path, buffer.getvalue())
        self.pending = None
        return row
