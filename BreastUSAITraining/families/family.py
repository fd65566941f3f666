"""What one model family gives the rest of BreastUSAI. Subclass :class:`ModelFamily`, override
what differs, and register one instance (:func:`.registry.register_family`): the ``train``
subcommand, ``predict``, ``evaluate``, ``compare``, the Slicer module's model lists and the
benchmarks then know the family with no other edit.

Methods import torch and the family's own modules only when they run, so the registry, the
CLI's ``--help`` and the Slicer panel stay light.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .lesion import LesionInput, LesionOutcome

if TYPE_CHECKING:  # pragma: no cover
    from ..bundle import Bundle
    from ..dataset.contract import Dataset
    from ..training import TrainingSettings

SEGMENTATION, CLASSIFIER = "segmentation", "classifier"


@dataclass(frozen=True)
class TrainingDefaults:
    """The family's defaults for the options every ``train`` command shares."""

    epochs: int = 30
    batch_size: int = 16
    lr: float = 1e-3
    optimiser: str = "adam"


@dataclass
class ExplainOptions:
    """How ``predict`` writes explanations: CAM method, heatmap grid (auto | full | lesion), PNG overlays."""

    cam: str = "gradcam"
    heatmap_grid: str = "auto"
    overlays: bool = True


class LesionPredictor(Protocol):
    """A classifier family's bundle, loaded (weights checked) on a device."""

    bundle: "Bundle"
    threshold: float

    @property
    def kinds(self) -> list[str]:
        """Image kinds it reads of each lesion (the first is the one it is trained on)."""

    def check_image(self, image: Any) -> None:
        """Refuse an image it cannot read (a 2D image for a three-plane model ...) with InputFileError."""

    def predict(self, lesion: LesionInput, explain: bool = False, options: ExplainOptions | None = None) -> LesionOutcome:
        """One lesion -> one outcome (with the explanation kept in memory when ``explain``)."""

    def write_explanation(self, folder: Path, lesion: LesionInput, outcome: LesionOutcome, options: ExplainOptions,
                          facts: dict[str, Any]) -> None:
        """Write the explanation files of ``outcome`` into ``folder`` and name them in ``facts``."""


class ModelFamily:
    """One model family (segmentation, three-plane classifier, MUP-Net, DL-UM, deep radiomics ...)."""

    #: the ``train`` subcommand and the name users type
    name: str = ""
    #: the ``task`` its bundles record
    task: str = ""
    #: what it is, in a radiologist's words (model lists, messages)
    words: str = ""
    #: SEGMENTATION finds lesions; CLASSIFIER judges a found lesion
    role: str = CLASSIFIER
    #: where ``predict``'s result.json keeps its outcomes of a lesion (model name -> entry)
    result_key: str = "classification"
    #: result.json keys of the decisions :meth:`combine` draws from several outcomes of a lesion
    decisions: tuple[str, ...] = ()
    #: one line for ``train --help``; the subcommand's description
    help: str = ""
    description: str = ""
    defaults: TrainingDefaults = TrainingDefaults()

    # -- training ------------------------------------------------------------------------
    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """The family's own ``train`` options (the shared ones are added by the CLI)."""

    def train(self, args: argparse.Namespace, settings: "TrainingSettings") -> Path | None:
        """Train from the parsed options; the bundle path (None on a non-writing torchrun rank)."""
        raise NotImplementedError(f"{self.name}: no training")

    # -- running -------------------------------------------------------------------------
    def load_predictor(self, bundle: "Bundle", device: Any) -> Any:
        """The bundle ready to run: a :class:`LesionPredictor` (classifiers) or a lesion segmenter."""
        raise NotImplementedError(f"{self.name}: no predictor")

    def evaluation_items(self, predictor: LesionPredictor, dataset: "Dataset", split: str,
                         folds: list[int] | None) -> list[dict[str, Any]]:
        """The dataset's lesions this model is scored on (default: every labelled lesion that has
        all its image kinds). Items as :func:`~..dataset.loader.lesion_dicts` gives them."""
        from ..dataset.loader import lesion_dicts

        kinds = predictor.kinds
        if len(kinds) == 1:
            return [i for i in lesion_dicts(dataset, split, folds=folds) if i["modality"] == kinds[0]]
        return lesion_dicts(dataset, split, folds=folds, modalities=kinds)

    def combine(self, outcomes: list[LesionOutcome], lesion: LesionInput) -> dict[str, Any] | None:
        """A decision drawn from several of this family's outcomes of one lesion (e.g. the BI-RADS
        4A re-stratification from DLR_LH + DLR_BM), or None. The dict holds ``key`` (one of
        :attr:`decisions`), ``title`` (words for a results table), ``decision``, ``reason`` and
        whatever else the decision says (``probability``, ``suggested_birads``, ``biopsy`` ...)."""
        return None
