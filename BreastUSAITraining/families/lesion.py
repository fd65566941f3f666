"""What every classifier family is given and gives back, and the one rule that turns a
probability into a call.

A :class:`LesionInput` is one lesion as images of it (image kind -> the image and the lesion's
mask on that image's grid), with its clinical record; ``predict`` builds it from the input and
its ``--companion`` images, ``evaluate`` from a dataset's files, the Slicer module from its
scene nodes. Every family's predictor turns it into one :class:`LesionOutcome`. Torch-free.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from ..errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from ..imagefiles import ImageData

MALIGNANT_WORDS = ("benign", "malignant")
RISK_WORDS = ("low risk", "high risk")


def is_positive(probability: float, threshold: float) -> bool:
    """The one call rule of every family, front end and evaluation: a lesion whose (reported,
    4-decimal) probability is **at or above** the model's threshold is called positive
    (malignant, or high risk). ``threshold_metrics`` in :mod:`..statistics` uses the same rule."""
    return round(float(probability), 4) >= threshold


def call_words(probability: float, threshold: float, words: tuple[str, str] = MALIGNANT_WORDS) -> str:
    """``words[1]`` when :func:`is_positive`, else ``words[0]``."""
    return words[1] if is_positive(probability, threshold) else words[0]


@dataclass
class LesionView:
    """One image of a lesion: the image (grey or colour as its kind wants) and the lesion on
    its grid (a :class:`~..lesions.Lesion`: box mask + offset, never empty)."""

    image: "ImageData"
    lesion: Any


@dataclass
class LesionInput:
    """One lesion as every family reads it.

    ``views``: image kind (``us_bmode``, ``abvs``, ``mg_cc`` ...) -> :class:`LesionView`;
    ``primary``: the kind of the image the lesion was found or drawn on; ``clinical``: the
    lesion's clinical record (name -> value); ``birads``: the reader's BI-RADS, if given."""

    name: str
    views: dict[str, LesionView]
    primary: str
    clinical: dict[str, Any] = field(default_factory=dict)
    birads: str | None = None

    def view(self, kind: str, fallback_to_main: bool = False) -> LesionView:
        """The lesion's ``kind`` image, or a usage error naming what is missing. With
        ``fallback_to_main`` (a model that reads one image) the image the lesion was found on
        stands in when no image of ``kind`` is given: ``predict``'s INPUT is the image to read."""
        if kind not in self.views and fallback_to_main:
            return self.main
        if kind not in self.views:
            raise UsageError(f"lesion {self.name}: the model needs a {kind} image of it; it has "
                             f"{', '.join(self.views) or 'none'} (predict: --companion {kind}=IMAGE[,SEG])")
        return self.views[kind]

    @property
    def main(self) -> LesionView:
        return self.views[self.primary]


@dataclass
class LesionOutcome:
    """One model's opinion of one lesion.

    ``probability`` of the positive class (malignant; ``high risk`` for DLR_LH), ``call`` made
    with the bundle's own ``threshold`` by :func:`is_positive`; ``malignancy`` is False for
    a model that scores something else than malignancy (it then never heads a lesion's result);
    ``document``: the family's result.json entry (probabilities per plane, matched prototypes
    with contribution scores ...); ``explanation``: heatmaps / similarity maps kept in memory
    for the writer; ``columns``: extra per-lesion columns for ``evaluate``'s predictions.csv;
    ``seconds``: time per stage."""

    model: str
    task: str
    probability: float
    threshold: float
    words: tuple[str, str] = MALIGNANT_WORDS
    malignancy: bool = True
    document: dict[str, Any] = field(default_factory=dict)
    explanation: Any = None
    columns: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def positive(self) -> bool:
        return is_positive(self.probability, self.threshold)

    @property
    def call(self) -> str:
        return call_words(self.probability, self.threshold, self.words)

    def result_entry(self) -> dict[str, Any]:
        """The result.json entry: the family's document with the probability and call of the one rule."""
        entry = dict(self.document)
        probability = round(float(self.probability), 4)
        entry.update({"probability": probability, "prediction": self.call, "threshold": round(self.threshold, 4)})
        if self.malignancy:
            entry["malignant_probability"] = probability
        return entry


@contextmanager
def timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    """Add the time spent in the block to ``seconds[stage]``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - started
