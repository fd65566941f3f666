"""Clinical variables of the dataset contract -> a numeric vector, with missing values handled
explicitly (SPEC 3.5).

* numbers (age, diameter, Adler grade, Tsukuba score): standardised with the training
  mean / SD; a missing value takes the training median and sets a "<name> missing" indicator;
* booleans: 0 / 1, missing -> the training mode and an indicator;
* categories (shape, margin, ...): one column per category seen in training; missing or
  unseen -> all zeros and an indicator.

The encoder is plain JSON (stored in the bundle's inference config), fitted on training
lesions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..dataset.schema import CLINICAL_VARIABLES

#: Variables CLDLR / DLR use by default (SPEC 3.5: age plus the clinical and BI-RADS lexicon terms).
DEFAULT_VARIABLES = ("age", "max_diameter_mm", "menopause", "family_history", "palpable", "doppler_flow",
                     "elasticity_score", "calcification", "shape", "orientation", "margin", "echo_pattern",
                     "posterior_features")


@dataclass
class ClinicalEncoder:
    variables: list[str]
    numeric: dict[str, dict[str, float]] = field(default_factory=dict)    # name -> mean, sd, median
    boolean: dict[str, float] = field(default_factory=dict)              # name -> mode (0 / 1)
    categories: dict[str, list[str]] = field(default_factory=dict)       # name -> categories seen

    @classmethod
    def fit(cls, records: list[dict[str, Any]], variables: list[str] | tuple[str, ...] = DEFAULT_VARIABLES) -> "ClinicalEncoder":
        unknown = [v for v in variables if v not in CLINICAL_VARIABLES and not v.startswith("x_")]
        if unknown:
            raise ValueError(f"unknown clinical variables: {', '.join(unknown)}")
        encoder = cls(list(variables))
        for name in variables:
            values = [r.get(name) for r in records if r.get(name) is not None]
            kind = CLINICAL_VARIABLES[name].kind if name in CLINICAL_VARIABLES else ("boolean" if values and isinstance(values[0], bool) else "number")
            if kind in ("number", "integer"):
                data = np.asarray(values, dtype=float) if values else np.zeros(1)
                encoder.numeric[name] = {"mean": float(data.mean()), "sd": float(data.std()) or 1.0, "median": float(np.median(data))}
            elif kind == "boolean":
                encoder.boolean[name] = float(np.mean(values) >= 0.5) if values else 0.0
            else:
                encoder.categories[name] = sorted({str(v) for v in values})
        return encoder

    @property
    def feature_names(self) -> list[str]:
        names = []
        for name in self.variables:
            if name in self.categories:
                names += [f"{name}={c}" for c in self.categories[name]]
            else:
                names.append(name)
            names.append(f"{name} missing")
        return names

    def transform(self, record: dict[str, Any]) -> np.ndarray:
        """One lesion's clinical dict -> float32 vector of ``len(feature_names)``."""
        out: list[float] = []
        for name in self.variables:
            value = record.get(name)
            missing = value is None
            if name in self.numeric:
                stats = self.numeric[name]
                number = stats["median"] if missing else float(value)
                out.append((number - stats["mean"]) / stats["sd"])
            elif name in self.boolean:
                out.append(self.boolean[name] if missing else float(bool(value)))
            else:
                out += [0.0 if missing else float(str(value) == c) for c in self.categories[name]]
            out.append(float(missing))
        return np.asarray(out, dtype=np.float32)

    def to_json(self) -> dict[str, Any]:
        return {"variables": self.variables, "numeric": self.numeric, "boolean": self.boolean, "categories": self.categories}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ClinicalEncoder":
        return cls(list(data["variables"]), dict(data["numeric"]), dict(data["boolean"]), {k: list(v) for k, v in data["categories"].items()})
