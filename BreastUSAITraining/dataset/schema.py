"""What a dataset may contain: modalities, pathologies, BI-RADS and clinical variables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = "1.0"
DATASET_FILE = "dataset.json"

#: Image kinds of a lesion, in order of precedence for the "primary" image.
MODALITIES: dict[str, str] = {
    "abvs": "automated breast volume scan (3D ultrasound volume)",
    "us_bmode": "2D ultrasound, B-mode (grey)",
    "us_doppler": "2D ultrasound, colour Doppler (RGB)",
    "us_elastography": "2D ultrasound, strain / shear-wave elastography (RGB)",
    "mg_cc": "mammography, cranio-caudal view",
    "mg_mlo": "mammography, medio-lateral oblique view",
}

#: Pathology of an item. ``normal`` marks an image with no lesion (then no segment);
#: ``null`` in the JSON means unknown (not yet biopsied / followed up).
PATHOLOGIES = ("benign", "malignant", "normal")

#: Class index used by every classifier.
PATHOLOGY_LABELS = {"benign": 0, "malignant": 1}

#: ACR BI-RADS assessment categories (ultrasound and mammography), 4 with subcategories.
BIRADS_CATEGORIES = ("0", "1", "2", "3", "4", "4A", "4B", "4C", "5", "6")

SPLITS = ("training", "test")

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


@dataclass(frozen=True)
class ClinicalVariable:
    """One clinical variable: its type, allowed values and meaning."""

    name: str
    kind: str  # "number" | "integer" | "boolean" | "category"
    description: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not allowed (None when it is). ``None`` (missing) is allowed."""
        if value is None:
            return None
        if self.kind == "boolean":
            return None if isinstance(value, bool) else f"must be true/false, got {value!r}"
        if self.kind == "category":
            return None if value in self.choices else f"must be one of {', '.join(self.choices)}, got {value!r}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {value!r}"
        if self.kind == "integer" and not float(value).is_integer():
            return f"must be a whole number, got {value!r}"
        if value != value or value in (float("inf"), float("-inf")):
            return f"must be finite, got {value!r}"
        if self.minimum is not None and value < self.minimum:
            return f"must be >= {self.minimum:g} {self.unit}".rstrip() + f", got {value!r}"
        if self.maximum is not None and value > self.maximum:
            return f"must be <= {self.maximum:g} {self.unit}".rstrip() + f", got {value!r}"
        return None


def _variables(*variables: ClinicalVariable) -> dict[str, ClinicalVariable]:
    return {v.name: v for v in variables}


#: Clinical variables the papers use (seeds 001, 003, 004) with BI-RADS lexicon terms.
#: Researchers may add their own variables with an ``x_`` prefix (any JSON scalar).
CLINICAL_VARIABLES: dict[str, ClinicalVariable] = _variables(
    ClinicalVariable("age", "number", "age at examination", "years", 10, 110),
    ClinicalVariable("max_diameter_mm", "number", "largest lesion diameter on ultrasound", "mm", 0.5, 300),
    ClinicalVariable("menopause", "boolean", "post-menopausal"),
    ClinicalVariable("family_history", "boolean", "first-degree family history of breast cancer"),
    ClinicalVariable("palpable", "boolean", "lesion palpable on examination"),
    ClinicalVariable("doppler_flow", "integer", "Adler vascularity grade (0 none .. 3 marked)", "", 0, 3),
    ClinicalVariable("elasticity_score", "integer", "Tsukuba elasticity score (1 soft .. 5 hard)", "", 1, 5),
    ClinicalVariable("calcification", "boolean", "calcifications inside the lesion"),
    ClinicalVariable("shape", "category", "BI-RADS shape", choices=("oval", "round", "irregular")),
    ClinicalVariable("orientation", "category", "BI-RADS orientation", choices=("parallel", "not_parallel")),
    ClinicalVariable(
        "margin", "category", "BI-RADS margin",
        choices=("circumscribed", "indistinct", "angular", "microlobulated", "spiculated"),
    ),
    ClinicalVariable(
        "echo_pattern", "category", "BI-RADS echo pattern",
        choices=("anechoic", "hyperechoic", "complex", "hypoechoic", "isoechoic", "heterogeneous"),
    ),
    ClinicalVariable(
        "posterior_features", "category", "BI-RADS posterior features",
        choices=("none", "enhancement", "shadowing", "combined"),
    ),
    ClinicalVariable("laterality", "category", "breast side", choices=("left", "right")),
)

CUSTOM_CLINICAL_PREFIX = "x_"


def clinical_problem(name: str, value: Any) -> str | None:
    """Why a clinical entry is not allowed (None when it is)."""
    variable = CLINICAL_VARIABLES.get(name)
    if variable is not None:
        return variable.problem(value)
    if name.startswith(CUSTOM_CLINICAL_PREFIX):
        if value is None or isinstance(value, (bool, int, float, str)):
            return None
        return f"custom variable must be a number, true/false or text, got {type(value).__name__}"
    return f"unknown clinical variable (known: {', '.join(CLINICAL_VARIABLES)}; prefix custom ones with '{CUSTOM_CLINICAL_PREFIX}')"
