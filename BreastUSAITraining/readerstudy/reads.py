"""The reads of a reader study (SPEC 3.7; seed 004 Table 5), read from a CSV file and checked.

One row per reader, lesion and reading mode::

    reader,group,case_id,lesion_id,mode,birads,call,seconds,pathology
    R1,junior,AB-0002-R1,lesion_1,without_ai,4A,,41.2,malignant
    R1,junior,AB-0002-R1,lesion_1,with_ai,4C,,17.0,malignant

Comma-, semicolon- or tab-separated (as spreadsheets save it). Required: ``reader``, ``case_id``, ``mode`` (``without_ai`` or ``with_ai``), ``birads`` (1, 2, 3,
4A, 4B, 4C or 5: a final assessment). Optional: ``lesion_id`` (empty when a case has one
lesion), ``group`` (e.g. junior / middle / senior), ``call`` (benign / malignant; empty: malignant
from BI-RADS 4A up, the biopsy threshold), ``seconds`` (reading time, > 0), ``pathology`` (benign /
malignant; otherwise the truth comes from a dataset's ``dataset.json``).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFileError

MODES = ("without_ai", "with_ai")
#: final BI-RADS assessments in order (0 = incomplete, 6 = known cancer and an unsubdivided 4 are
#: not reads a study can score)
READ_BIRADS = ("1", "2", "3", "4A", "4B", "4C", "5")
BIOPSY_FROM = "4A"
REQUIRED = ("reader", "case_id", "mode", "birads")


@dataclass(frozen=True)
class Read:
    """One reader's assessment of one lesion in one mode; ``line`` is its line in the CSV."""

    reader: str
    group: str
    case_id: str
    lesion_id: str
    mode: str
    birads: str
    malignant_call: bool
    seconds: float | None
    pathology: str | None
    line: int

    @property
    def lesion(self) -> tuple[str, str]:
        return self.case_id, self.lesion_id

    @property
    def birads_rank(self) -> int:
        """Position on the ordered BI-RADS scale (1 -> 0 ... 5 -> 6): the reader's score for an ROC."""
        return READ_BIRADS.index(self.birads)


def _seconds(path: Path, line: int, text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputFileError(path, f"line {line}: seconds must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise InputFileError(path, f"line {line}: seconds must be a positive finite reading time, got {text!r}")
    return value


def _birads(path: Path, line: int, text: str) -> str:
    value = text.upper().removeprefix("BI-RADS").strip()
    if value in READ_BIRADS:
        return value
    hint = {"4": "; give the subcategory 4A, 4B or 4C", "0": "; 0 is an incomplete assessment",
            "6": "; 6 is a known cancer, not a read"}.get(value, "")
    raise InputFileError(path, f"line {line}: birads must be one of {', '.join(READ_BIRADS)}, got {text!r}{hint}")


def _choice(path: Path, line: int, column: str, text: str, allowed: tuple[str, ...]) -> str:
    value = text.lower()
    if value not in allowed:
        raise InputFileError(path, f"line {line}: {column} must be one of {', '.join(allowed)}, got {text!r}")
    return value


def delimiter_of(header_line: str) -> str:
    """The CSV delimiter of a header line: comma, or the semicolon / tab that spreadsheets
    write in many locales."""
    return max((",", ";", "\t"), key=header_line.count)


def read_reads(path: str | Path) -> list[Read]:
    """Every read of the CSV, checked; raises :class:`InputFileError` naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such reads file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
        table = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter_of(text.partition("\n")[0]))
        columns = [c.strip() for c in (table.fieldnames or [])]
        rows = list(table)
    except (UnicodeDecodeError, csv.Error) as error:
        raise InputFileError(path, f"not a readable CSV file ({error})") from None
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputFileError(path, f"missing column(s) {', '.join(missing)} (it has: {', '.join(columns) or 'none'})")
    reads, seen = [], {}
    for line, raw in enumerate(rows, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        for column in ("reader", "case_id"):
            if not row[column]:
                raise InputFileError(path, f"line {line}: empty {column}")
        mode = _choice(path, line, "mode", row["mode"], MODES)
        birads = _birads(path, line, row["birads"])
        call = row.get("call", "")
        malignant = (_choice(path, line, "call", call, ("benign", "malignant")) == "malignant" if call
                     else READ_BIRADS.index(birads) >= READ_BIRADS.index(BIOPSY_FROM))
        pathology = row.get("pathology", "")
        read = Read(reader=row["reader"], group=row.get("group", ""), case_id=row["case_id"],
                    lesion_id=row.get("lesion_id", ""), mode=mode, birads=birads, malignant_call=malignant,
                    seconds=_seconds(path, line, row.get("seconds", "")),
                    pathology=_choice(path, line, "pathology", pathology, ("benign", "malignant")) if pathology else None,
                    line=line)
        key = (read.reader, read.lesion, read.mode)
        if key in seen:
            raise InputFileError(path, f"line {line}: reader {read.reader} read {'/'.join(filter(None, read.lesion))} "
                                       f"{mode} twice (also line {seen[key]})")
        seen[key] = line
        reads.append(read)
    if not reads:
        raise InputFileError(path, "no reads (the file has a header only)")
    groups = {}
    for read in reads:
        if groups.setdefault(read.reader, read.group) != read.group:
            raise InputFileError(path, f"line {read.line}: reader {read.reader} is in group {read.group!r} here "
                                       f"and {groups[read.reader]!r} before")
    return reads
