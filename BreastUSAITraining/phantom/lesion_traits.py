"""What a phantom lesion is like: morphology, echo, vascularity, stiffness, and the
BI-RADS category and clinical record a radiologist would write for it.

Benign lesions are cysts or fibroadenoma-like masses: oval, wider-than-tall
(parallel), circumscribed, with posterior enhancement. Malignant lesions are mostly
irregular, spiculated, often taller-than-wide, hypoechoic and heterogeneous, with
an echogenic halo and posterior shadowing. The classes overlap on purpose (some
benign lesions look suspicious and some cancers look benign), so a classifier
cannot be perfect and the BI-RADS spread is realistic. Every value comes from the
seeded ``numpy.random.Generator`` passed in: same seed, same lesion.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class LesionTraits:
    """One lesion's appearance (sizes in mm) and clinical context."""

    malignant: bool
    kind: str                    # "cyst" | "fibroadenoma" | "carcinoma"
    diameter_mm: float           # largest diameter (lateral axis unless taller than wide)
    aspect: float                # depth extent / lateral extent (> 1: taller than wide)
    elevation_ratio: float       # elevational extent / lateral extent (3D)
    lobulation: float            # amplitude of low-order boundary undulation (0 smooth)
    spicules: int                # number of thin radial spikes
    spicule_length: float        # spike length as a fraction of the radius
    echo: float                  # mean echogenicity inside (0 anechoic .. 1 bright)
    heterogeneity: float         # relative texture inside
    posterior: float             # posterior factor: > 1 enhancement, < 1 shadowing, 1 none
    halo: float                  # echogenic rim brightness factor (1: none)
    calcifications: int          # number of bright calcification specks
    adler_grade: int             # Doppler vascularity 0..3
    elasticity_score: int        # Tsukuba 1 (soft) .. 5 (hard)
    shape_seed: int              # seeds the boundary pattern (same across modalities)
    age: float
    menopause: bool
    family_history: bool
    palpable: bool
    laterality: str              # "left" | "right"
    birads: str = field(default="3")

    # --------------------------------------------------- BI-RADS lexicon terms
    @property
    def shape(self) -> str:
        if self.lobulation >= 0.12 or self.spicules > 0:
            return "irregular"
        return "round" if abs(self.aspect - 1.0) < 0.12 else "oval"

    @property
    def orientation(self) -> str:
        return "not_parallel" if self.aspect > 1.0 else "parallel"

    @property
    def margin(self) -> str:
        if self.spicules > 0:
            return "spiculated"
        if self.lobulation < 0.07:
            return "circumscribed"
        if self.lobulation < 0.12:
            return "microlobulated"
        return "angular" if self.malignant else "indistinct"

    @property
    def echo_pattern(self) -> str:
        if self.kind == "cyst":
            return "anechoic"
        return "heterogeneous" if self.heterogeneity > 0.25 else "hypoechoic"

    @property
    def posterior_features(self) -> str:
        if self.posterior > 1.05:
            return "enhancement"
        if self.posterior < 0.95:
            return "shadowing"
        return "none"

    def suspicious_features(self) -> int:
        """Count of features that raise suspicion (ACR BI-RADS ultrasound lexicon)."""
        return sum(
            [
                self.shape == "irregular",
                self.orientation == "not_parallel",
                self.margin not in ("circumscribed",),
                self.posterior_features == "shadowing",
                self.calcifications > 0 and self.malignant_like_calcs,
                self.adler_grade >= 2,
                self.elasticity_score >= 4,
            ]
        )

    @property
    def malignant_like_calcs(self) -> bool:
        return self.kind == "carcinoma"

    def clinical(self) -> dict:
        """The clinical record in the dataset contract's variables."""
        return {
            "age": round(self.age, 1),
            "max_diameter_mm": round(self.diameter_mm * max(1.0, self.aspect), 1),
            "menopause": self.menopause,
            "family_history": self.family_history,
            "palpable": self.palpable,
            "doppler_flow": self.adler_grade,
            "elasticity_score": self.elasticity_score,
            "calcification": self.calcifications > 0,
            "shape": self.shape,
            "orientation": self.orientation,
            "margin": self.margin,
            "echo_pattern": self.echo_pattern,
            "posterior_features": self.posterior_features,
            "laterality": self.laterality,
        }


#: Suspicious-feature count -> BI-RADS category (5 or more features: category 5).
_BIRADS_BY_SCORE = {0: "3", 1: "4A", 2: "4A", 3: "4B", 4: "4C"}
_BIRADS_ORDER = ["2", "3", "4A", "4B", "4C", "5"]


def _assess_birads(rng: np.random.Generator, traits: LesionTraits) -> str:
    """A reader's BI-RADS call: simple cysts 2, then by suspicious-feature count, with reader noise."""
    if traits.kind == "cyst":
        return "2" if rng.random() < 0.85 else "3"
    score = traits.suspicious_features()
    category = _BIRADS_BY_SCORE.get(score, "5")
    if rng.random() < 0.2:  # readers disagree by one step now and then
        index = _BIRADS_ORDER.index(category) + (1 if rng.random() < 0.5 else -1)
        category = _BIRADS_ORDER[int(np.clip(index, 1, len(_BIRADS_ORDER) - 1))]
    return category


def sample_traits(rng: np.random.Generator, malignant: bool, max_diameter_mm: float = 30.0) -> LesionTraits:
    """Draw one lesion of the given class (``max_diameter_mm`` bounds it to the field of view)."""
    if malignant:
        kind = "carcinoma"
        looks_benign = rng.random() < 0.15  # circumscribed cancers exist (e.g. mucinous, medullary)
        diameter = float(np.clip(rng.lognormal(np.log(16.0), 0.35), 6.0, max_diameter_mm))
        aspect = float(rng.uniform(0.6, 0.9) if looks_benign else rng.uniform(0.75, 1.5))
        lobulation = float(rng.uniform(0.02, 0.08) if looks_benign else rng.uniform(0.1, 0.3))
        spicules = 0 if looks_benign or rng.random() < 0.35 else int(rng.integers(4, 13))
        echo = float(rng.uniform(0.1, 0.24))
        heterogeneity = float(rng.uniform(0.15, 0.45))
        posterior = float(rng.uniform(0.3, 0.7)) if rng.random() < 0.7 else (1.0 if rng.random() < 0.7 else 1.15)
        halo = float(rng.uniform(1.2, 1.6)) if rng.random() < 0.6 else 1.0
        calcifications = int(rng.integers(3, 12)) if rng.random() < 0.45 else 0
        adler = int(rng.choice([0, 1, 2, 3], p=[0.1, 0.25, 0.35, 0.3]))
        elasticity = int(rng.choice([2, 3, 4, 5], p=[0.08, 0.17, 0.4, 0.35]))
        age = float(np.clip(rng.normal(56.0, 11.0), 28.0, 90.0))
        family = bool(rng.random() < 0.18)
    else:
        kind = "cyst" if rng.random() < 0.2 else "fibroadenoma"
        looks_suspicious = kind == "fibroadenoma" and rng.random() < 0.15
        diameter = float(np.clip(rng.lognormal(np.log(11.0), 0.4), 4.0, max_diameter_mm))
        aspect = float(rng.uniform(0.45, 0.85) if not looks_suspicious else rng.uniform(0.8, 1.15))
        lobulation = float(rng.uniform(0.0, 0.06) if not looks_suspicious else rng.uniform(0.08, 0.2))
        spicules = 0
        echo = 0.03 if kind == "cyst" else float(rng.uniform(0.2, 0.36))
        heterogeneity = 0.02 if kind == "cyst" else float(rng.uniform(0.05, 0.2))
        posterior = float(rng.uniform(1.3, 1.7)) if kind == "cyst" else (float(rng.uniform(1.05, 1.3)) if rng.random() < 0.6 else 1.0)
        halo = 1.0
        calcifications = int(rng.integers(1, 3)) if kind == "fibroadenoma" and rng.random() < 0.08 else 0
        adler = int(rng.choice([0, 1, 2, 3], p=[0.45, 0.35, 0.15, 0.05])) if kind != "cyst" else 0
        elasticity = 1 if kind == "cyst" else int(rng.choice([1, 2, 3, 4], p=[0.15, 0.45, 0.3, 0.1]))
        age = float(np.clip(rng.normal(43.0, 12.0), 18.0, 85.0))
        family = bool(rng.random() < 0.08)
    menopause = bool(rng.random() < 1.0 / (1.0 + np.exp(-(age - 50.0) / 2.5)))
    traits = LesionTraits(
        malignant=malignant,
        kind=kind,
        diameter_mm=diameter,
        aspect=aspect,
        elevation_ratio=float(rng.uniform(0.8, 1.2)),
        lobulation=lobulation,
        spicules=spicules,
        spicule_length=float(rng.uniform(0.15, 0.4)),
        echo=echo,
        heterogeneity=heterogeneity,
        posterior=posterior,
        halo=halo,
        calcifications=calcifications,
        adler_grade=adler,
        elasticity_score=elasticity,
        shape_seed=int(rng.integers(0, 2**31 - 1)),
        age=age,
        menopause=menopause,
        family_history=family,
        palpable=bool(rng.random() < np.clip((diameter - 8.0) / 25.0, 0.05, 0.9)),
        laterality="left" if rng.random() < 0.5 else "right",
    )
    return replace(traits, birads=_assess_birads(rng, traits))
