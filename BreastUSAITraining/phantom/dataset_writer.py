"""Write a phantom dataset in the contract (images, .seg.nrrd, dataset.json).

Kinds:

* ``us2d``       - B-mode images, one lesion each, plus ~10% lesion-free (normal) images
* ``multimodal`` - B-mode + colour Doppler + elastography of each lesion (MUP-Net inputs)
* ``mg``         - B-mode + mammography CC and MLO crops of each lesion (DL-UM inputs)
* ``abvs``       - ABVS volumes, one per patient breast, holding one or two lesions
* ``all``        - every 2D modality for each lesion, plus ABVS cases

Patients sometimes have two lesions, so grouping by patient matters; a stratified
share of patients goes to the test split and the rest into cross-validation folds.
Phantoms feed tests and the demo only; they are never used for accuracy claims.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..atomic import atomic_directory
from ..dataset.contract import Dataset, LesionItem, save_dataset
from ..dataset.folds import assign_folds, assign_test_split, link_groups
from ..errors import InputFileError
from ..geometry import Geometry
from ..imagefiles import ImageData, Segment, SegmentationData, write_nrrd, write_segmentation
from .abvs import max_lesion_diameter_mm as abvs_max_diameter
from .abvs import render_abvs
from .doppler import render_doppler
from .elastography import render_elastography
from .lesion_traits import LesionTraits, sample_traits
from .mammography import render_mammogram
from .presets import ABVS_SIZES, KINDS
from .ultrasound2d import max_lesion_diameter_mm as us_max_diameter
from .ultrasound2d import render_bmode

log = logging.getLogger(__name__)

_KIND_PREFIX = {"us2d": "US", "multimodal": "MM", "mg": "MG", "all": "MX", "abvs": "AB"}
_KIND_CODE = {"us2d": 1, "multimodal": 2, "mg": 3, "all": 4, "abvs": 5}
_MODALITIES_2D = {
    "us2d": ("us_bmode",),
    "multimodal": ("us_bmode", "us_doppler", "us_elastography"),
    "mg": ("us_bmode", "mg_cc", "mg_mlo"),
    "all": ("us_bmode", "us_doppler", "us_elastography", "mg_cc", "mg_mlo"),
}
LESION_COLOURS = {True: (0.89, 0.10, 0.11), False: (0.30, 0.69, 0.29)}


@dataclass(frozen=True)
class PhantomSettings:
    """What to generate. Sizes: 2D images are ``image_size`` rows x 1.2 ``image_size``
    columns of ``pixel_mm``; mammography crops ``image_size`` square of ``mg_pixel_mm``;
    ABVS volumes use the preset ``abvs_size`` (small | medium | full)."""

    kind: str = "us2d"
    cases: int = 20
    seed: int = 0
    image_size: int = 256
    pixel_mm: float = 0.15
    mg_pixel_mm: float = 0.1
    abvs_size: str = "small"
    malignant_fraction: float = 0.4
    normal_fraction: float = 0.1
    test_fraction: float = 0.2
    n_folds: int = 5

    def problems(self) -> list[str]:
        found = []
        if self.kind not in KINDS:
            found.append(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.cases < 1:
            found.append(f"cases must be at least 1, got {self.cases}")
        if not 32 <= self.image_size <= 2048:
            found.append(f"image size must be 32..2048 pixels, got {self.image_size}")
        if self.abvs_size not in ABVS_SIZES:
            found.append(f"ABVS size must be one of {', '.join(ABVS_SIZES)}, got {self.abvs_size!r}")
        if not 0.0 <= self.malignant_fraction <= 1.0:
            found.append("malignant fraction must be within 0..1")
        if not 0.0 < self.test_fraction < 1.0:
            found.append("test fraction must be strictly between 0 and 1")
        if self.n_folds < 2:
            found.append("need at least 2 folds")
        return found


@dataclass
class _PlannedLesion:
    patient: int
    index_in_patient: int
    malignant: bool | None  # None: a normal (lesion-free) image


def _plan(rng: np.random.Generator, settings: PhantomSettings, allow_normal: bool) -> list[_PlannedLesion]:
    """Which patient each case belongs to and its class (first two cases: benign, malignant)."""
    planned: list[_PlannedLesion] = []
    patient = 0
    while len(planned) < settings.cases:
        patient += 1
        lesions = 2 if rng.random() < 0.15 else 1
        for index in range(min(lesions, settings.cases - len(planned))):
            n = len(planned)
            if n < 2:
                malignant: bool | None = n == 1
            elif allow_normal and rng.random() < settings.normal_fraction:
                malignant = None
            else:
                malignant = bool(rng.random() < settings.malignant_fraction)
            planned.append(_PlannedLesion(patient, index, malignant))
    return planned


def _case_rng(settings: PhantomSettings, kind: str, index: int) -> np.random.Generator:
    return np.random.default_rng([settings.seed, _KIND_CODE[kind], index])


def _write_2d(
    folder: Path, case_id: str, modality: str, image: np.ndarray, mask: np.ndarray | None,
    spacing_mm: float, traits: LesionTraits | None,
) -> tuple[str, str | None]:
    """Write one 2D image (and its lesion segmentation); return relative paths."""
    array = image[np.newaxis]
    geometry = Geometry((spacing_mm, spacing_mm, 1.0))
    image_rel = f"images/{case_id}_{modality}.nrrd"
    write_nrrd(ImageData(array, geometry, image_rel, {"modality": modality}), folder / image_rel)
    if mask is None:
        return image_rel, None
    seg_rel = f"segmentations/{case_id}_{modality}.seg.nrrd"
    segments = []
    if traits is not None:
        tags = {"pathology": "malignant" if traits.malignant else "benign", "birads": traits.birads}
        segments.append(Segment("lesion_1", mask[np.newaxis], LESION_COLOURS[traits.malignant], tags=tags))
    write_segmentation(folder / seg_rel, SegmentationData(segments, geometry, array.shape[:3], seg_rel))
    return image_rel, seg_rel


def _lesion_item(case_id: str, patient_id: str, lesion_id: str, traits: LesionTraits, images, segmentation) -> LesionItem:
    return LesionItem(
        case_id=case_id,
        patient_id=patient_id,
        lesion_id=lesion_id,
        images=images,
        segmentation=segmentation,
        segment=lesion_id,
        pathology="malignant" if traits.malignant else "benign",
        birads=traits.birads,
        clinical=traits.clinical(),
    )


def _generate_2d(folder: Path, settings: PhantomSettings, kind: str, progress: bool) -> list[LesionItem]:
    modalities = _MODALITIES_2D[kind]
    height, width = settings.image_size, int(round(settings.image_size * 1.2))
    plan = _plan(np.random.default_rng([settings.seed, _KIND_CODE[kind]]), settings, allow_normal=kind == "us2d")
    prefix = _KIND_PREFIX[kind]
    items: list[LesionItem] = []
    for index, lesion in enumerate(tqdm(plan, desc=f"Phantom {kind}", unit="case", disable=not progress)):
        rng = _case_rng(settings, kind, index)
        patient_id = f"{prefix}-{lesion.patient:04d}"
        case_id = f"{patient_id}-{'abcdefgh'[lesion.index_in_patient]}"
        if lesion.malignant is None:
            plane = render_bmode(rng, None, height, width, settings.pixel_mm)
            image_rel, seg_rel = _write_2d(folder, case_id, "us_bmode", plane.image, plane.mask, settings.pixel_mm, None)
            items.append(LesionItem(case_id=case_id, patient_id=patient_id, images={"us_bmode": image_rel},
                                    segmentation={"us_bmode": seg_rel}, pathology="normal", birads="1"))
            continue
        limit = min(us_max_diameter(height, width, settings.pixel_mm), 0.6 * settings.image_size * settings.mg_pixel_mm)
        traits = sample_traits(rng, lesion.malignant, max_diameter_mm=limit)
        plane = render_bmode(rng, traits, height, width, settings.pixel_mm)
        images, segmentation = {}, {}
        images["us_bmode"], segmentation["us_bmode"] = _write_2d(
            folder, case_id, "us_bmode", plane.image, plane.mask, settings.pixel_mm, traits)
        if "us_doppler" in modalities:
            images["us_doppler"], _ = _write_2d(folder, case_id, "us_doppler", render_doppler(rng, plane, traits), None, settings.pixel_mm, traits)
            segmentation["us_doppler"] = segmentation["us_bmode"]
        if "us_elastography" in modalities:
            images["us_elastography"], _ = _write_2d(folder, case_id, "us_elastography", render_elastography(rng, plane, traits), None, settings.pixel_mm, traits)
            segmentation["us_elastography"] = segmentation["us_bmode"]
        for view in ("cc", "mlo"):
            modality = f"mg_{view}"
            if modality in modalities:
                mg, mask = render_mammogram(rng, traits, settings.image_size, settings.mg_pixel_mm, view)
                images[modality], segmentation[modality] = _write_2d(folder, case_id, modality, mg, mask, settings.mg_pixel_mm, traits)
        items.append(_lesion_item(case_id, patient_id, "lesion_1", traits, images, segmentation))
    return items


def _generate_abvs(folder: Path, settings: PhantomSettings, progress: bool) -> list[LesionItem]:
    plan = _plan(np.random.default_rng([settings.seed, _KIND_CODE["abvs"]]), settings, allow_normal=False)
    # one volume per patient breast: a patient's second lesion shares the volume half the time
    volumes: list[list[tuple[int, _PlannedLesion]]] = []
    for index, lesion in enumerate(plan):
        rng = _case_rng(settings, "abvs", index)
        if lesion.index_in_patient > 0 and rng.random() < 0.5:
            volumes[-1].append((index, lesion))
        else:
            volumes.append([(index, lesion)])
    items: list[LesionItem] = []
    limit = abvs_max_diameter(settings.abvs_size)
    for volume_lesions in tqdm(volumes, desc="Phantom abvs", unit="volume", disable=not progress):
        first_index, first = volume_lesions[0]
        traits = [sample_traits(_case_rng(settings, "abvs", i), bool(l.malignant), max_diameter_mm=limit) for i, l in volume_lesions]
        side = traits[0].laterality
        patient_id = f"AB-{first.patient:04d}"
        case_id = f"{patient_id}-{'R' if side == 'right' else 'L'}{first.index_in_patient + 1}"
        rendered = render_abvs(settings.seed * 100003 + first_index, traits, settings.abvs_size, side, progress=progress and settings.abvs_size == "full")
        image_rel = f"images/{case_id}_abvs.nrrd"
        seg_rel = f"segmentations/{case_id}_abvs.seg.nrrd"
        write_nrrd(ImageData(rendered.array, rendered.geometry, image_rel, {"modality": "abvs"}), folder / image_rel)
        segments = []
        for n, (t, mask) in enumerate(zip(rendered.traits, rendered.masks), start=1):
            tags = {"pathology": "malignant" if t.malignant else "benign", "birads": t.birads}
            segments.append(Segment(f"lesion_{n}", mask, LESION_COLOURS[t.malignant], tags=tags))
        write_segmentation(folder / seg_rel, SegmentationData(segments, rendered.geometry, rendered.array.shape, seg_rel))
        for n, t in enumerate(rendered.traits, start=1):
            clinical = t.clinical()
            clinical["laterality"] = side
            item = _lesion_item(case_id, patient_id, f"lesion_{n}", t, {"abvs": image_rel}, {"abvs": seg_rel})
            item.clinical = clinical
            items.append(item)
    return items


def generate_phantom_dataset(
    out: str | Path, settings: PhantomSettings, overwrite: bool = False, progress: bool = True
) -> Dataset:
    """Generate a phantom dataset folder ``out`` (built aside, moved into place when complete)."""
    problems = settings.problems()
    if problems:
        raise ValueError("; ".join(problems))
    out = Path(out)
    try:
        with atomic_directory(out, overwrite=overwrite) as staging:
            items: list[LesionItem] = []
            if settings.kind in _MODALITIES_2D:
                items += _generate_2d(staging, settings, settings.kind, progress)
            if settings.kind in ("abvs", "all"):
                items += _generate_abvs(staging, settings, progress)
            groups = len(link_groups(items))
            if groups >= 5:
                items = assign_test_split(items, settings.test_fraction, seed=settings.seed)
                training_groups = len(link_groups([i for i in items if i.split == "training"]))
                items = assign_folds(items, n_folds=min(settings.n_folds, max(training_groups, 2)), seed=settings.seed)
            else:
                log.info("only %d patient group(s): no test split or folds assigned", groups)
            dataset = Dataset(
                staging,
                f"BreastUSAI phantom ({settings.kind}, seed {settings.seed})",
                items,
                description=(
                    "Synthetic breast ultrasound / mammography phantoms made by BreastUSAITraining's deterministic "
                    "generator. For tests and demonstrations only - never for accuracy claims."
                ),
                reference="BreastUSAI phantom generator",
                extra={"phantom": {k: v for k, v in settings.__dict__.items()}},
            )
            save_dataset(dataset)
    except FileExistsError as error:
        raise InputFileError(out, str(error)) from None
    dataset.root = out
    return dataset
