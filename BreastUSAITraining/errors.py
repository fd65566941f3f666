"""The error types a user can meet.

Every problem caused by input (a file, a dataset, a command-line value) raises a
subclass of :class:`BreastUSAIError`. The command line turns those into a message on
stderr and exit code 2; anything else escaping is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class BreastUSAIError(Exception):
    """Base class of every error caused by the user's input."""


class InputFileError(BreastUSAIError):
    """A file could not be used: it is missing, truncated, corrupt, of the wrong kind
    or shape, or holds invalid values.

    The message always starts with the file's path, then says the problem, e.g.
    ``/data/case1.nrrd: truncated or corrupt pixel data (...)``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class Violation:
    """One broken rule of the dataset contract.

    ``where`` names the item (e.g. ``training[3] (case benign_004, lesion lesion_2)``),
    ``field`` the offending field (``images.us_bmode``), ``problem`` what is wrong.
    """

    where: str
    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.problem}"


class DatasetError(BreastUSAIError):
    """A dataset breaks the contract; ``violations`` lists every broken rule."""

    def __init__(self, path: str | Path, violations: list[Violation]) -> None:
        self.path = str(path)
        self.violations = list(violations)
        shown = "\n".join(f"  - {v}" for v in self.violations[:50])
        more = len(self.violations) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{self.path}: {len(self.violations)} violation(s) of the dataset contract:\n{shown}{tail}"
        )


class UsageError(BreastUSAIError):
    """A command-line value is not acceptable (exit code 2, like argparse's own errors)."""
