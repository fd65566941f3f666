"""``predict --clinical name=value`` and ``--birads``: the lesion's clinical record for the
deep-radiomics models (CLDLR, DLR_LH / DLR_BM), typed and checked against the schema.
Values left out are missing, which the models' clinical encoder handles explicitly."""

from __future__ import annotations

import json
from typing import Any

from ..dataset.schema import BIRADS_CATEGORIES, CLINICAL_VARIABLES, clinical_problem
from ..errors import UsageError


def parse_clinical(texts: list[str]) -> dict[str, Any]:
    """``["age=52", "palpable=true", "shape=irregular"]`` -> {"age": 52, "palpable": True, "shape": "irregular"}."""
    record: dict[str, Any] = {}
    for text in texts:
        name, sep, raw = text.partition("=")
        if not sep or not name:
            raise UsageError(f"--clinical must be NAME=VALUE, got {text!r}")
        variable = CLINICAL_VARIABLES.get(name)
        if variable is not None and variable.kind == "category":
            value: Any = raw
        else:
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
        problem = clinical_problem(name, value)
        if problem:
            raise UsageError(f"--clinical {name}: {problem}")
        record[name] = value
    return record


def parse_birads(text: str | None) -> str | None:
    if text is None:
        return None
    category = text.strip().upper()
    if category not in BIRADS_CATEGORIES:
        raise UsageError(f"--birads must be one of {', '.join(BIRADS_CATEGORIES)}, got {text!r}")
    return category
