"""The ``predict`` pipeline, stage by stage, for every input:

load -> segment (a segmentation bundle, or a drawn ``--segmentation`` mask) -> planes ->
classify (every classifier bundle) -> explain (Grad-CAM of the first classifier) -> write.

Each input's results go to ``OUT/<input name>/``, built in a staging folder and moved
into place whole: a reader (or a killed run) sees the old complete folder or the new
complete folder, never a part. Files: ``result.json``, ``lesions.seg.nrrd``,
``heatmap_<lesion>.nrrd``, ``overlay_<lesion>.png`` (2D), ``planes_<lesion>.png``.
No path of the input is written, only its file name (folder names can hold patient names).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_directory, write_json_atomic
from ..bundle import Bundle, load_bundle
from ..bundle.bundle import read_metadata
from ..classification.inference import CAM_METHODS, PlaneClassifier
from ..dlum.explain import FusionExplainer
from ..errors import BreastUSAIError, InputFileError, UsageError
from ..explain import heatmap_from_planes, save_image_overlay, save_plane_overlays
from ..imagefiles import ImageData, read_image, read_segmentation, write_nrrd, write_segmentation
from ..mupnet.explain import PrototypeExplainer
from ..networks.three_plane import PLANE_NAMES
from ..radiomics.predictor import RadiomicsPredictor
from ..radiomics.restratify import restratify_4a
from ..segmentation.inference import LesionSegmenter
from ..segmentation.lesions import BELOW_THRESHOLD_TAG, Lesion, lesions_from_segmentation, lesions_to_segmentation
from ..shipped import image_kind, models_for_kind
from ..training.device import describe_device, resolve_device
from .clinical_args import parse_birads, parse_clinical
from .companions import Companion, lesion_crops, load_companions, parse_companions
from .inputs import expand_inputs, output_name
from .progress import ProgressReporter

log = logging.getLogger(__name__)

#: Above this many voxels a heatmap is written on the lesion's box (a sub-grid of the
#: input: same spacing and direction, origin on an input voxel) instead of the full grid.
FULL_GRID_HEATMAP_VOXELS = 20_000_000
MALIGNANT_COLOUR, BENIGN_COLOUR = (0.89, 0.10, 0.11), (0.30, 0.69, 0.29)


@dataclass
class PredictOptions:
    """What ``predict`` runs and where it writes."""

    models: list[str]
    out: str
    device: str = "auto"
    segmentation: str | None = None
    threshold: float | None = None
    expect_lesion: bool = False                           # the inputs are known to hold a lesion
    ensemble: bool = False                                # headline = mean of the plane classifiers' probabilities
    cam: str = "gradcam"
    heatmap_grid: str = "auto"
    progress: str = "bar"
    overlays: bool = True
    companions: list[str] = field(default_factory=list)  # "KIND=IMAGE[,SEG]": other images of the input's lesions
    clinical: list[str] = field(default_factory=list)    # "name=value": the lesion's clinical record (deep radiomics)
    birads: str | None = None                             # the reader's BI-RADS, for the 4A re-stratification


@dataclass
class Models:
    device: Any
    segmenter: LesionSegmenter | None
    classifiers: list[PlaneClassifier] = field(default_factory=list)
    prototype_models: list[PrototypeExplainer] = field(default_factory=list)
    fusion_models: list[FusionExplainer] = field(default_factory=list)
    radiomics_models: list[RadiomicsPredictor] = field(default_factory=list)

    def bundles(self) -> list[Bundle]:
        return (([self.segmenter.bundle] if self.segmenter else []) + [c.bundle for c in self.classifiers]
                + [p.bundle for p in self.prototype_models] + [f.bundle for f in self.fusion_models]
                + [r.bundle for r in self.radiomics_models])

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": b.name, "version": b.version, "task": b.task, "weights_sha256": b.metadata["weights_sha256"],
                 "validation": b.metadata.get("metrics", {})} for b in self.bundles()]


def _needs_companions(path: str, modalities: list[str], companion_kinds: set[str]) -> None:
    missing = [m for m in modalities if m != "us_bmode" and m not in companion_kinds]
    if "us_bmode" not in modalities or missing:
        raise UsageError(f"{path}: this model reads {', '.join(modalities)} images of each lesion; predict takes the "
                         "B-mode image as INPUT and the others as --companion KIND=IMAGE[,SEG]"
                         + (f" (missing: {', '.join(missing)})" if missing else ""))


def load_models(paths: list[str], device, companion_kinds: set[str] | None = None) -> Models:
    """Load and verify every bundle; one segmentation bundle at most. Multimodal MUP-Net and
    DL-UM need their other images as companions of the (B-mode) input."""
    companion_kinds = companion_kinds or set()
    segmenter, classifiers, prototype_models, fusion_models, radiomics_models = None, [], [], [], []
    for path in paths:
        task = read_metadata(path)["task"]
        bundle = load_bundle(path)
        if task == "segmentation":
            if segmenter is not None:
                raise UsageError(f"{path}: only one segmentation model can be given")
            segmenter = LesionSegmenter(bundle, device)
        elif task == "abvs-planes":
            classifiers.append(PlaneClassifier(bundle, device))
        elif task == "mupnet":
            explainer = PrototypeExplainer(bundle, device)
            _needs_companions(path, explainer.modalities, companion_kinds)
            prototype_models.append(explainer)
        elif task == "dlum":
            fusion = FusionExplainer(bundle, device)
            _needs_companions(path, fusion.modalities, companion_kinds)
            fusion_models.append(fusion)
        elif task == "dlr":
            radiomics = RadiomicsPredictor(bundle, device)
            _needs_companions(path, radiomics.modalities, companion_kinds)
            radiomics_models.append(radiomics)
        else:
            raise InputFileError(path, f"predict cannot run a {task!r} model")
    models = Models(device, segmenter, classifiers, prototype_models, fusion_models, radiomics_models)
    _distinct_names(models.bundles())
    return models


def _distinct_names(bundles: list[Bundle]) -> None:
    """Results are keyed by model name: two bundles of one recipe (e.g. two seeds) share a
    name, so each repeated name gets its folder's name added (in memory, not in the file)."""
    names = [b.name for b in bundles]
    for number, bundle in enumerate(bundles):
        if names.count(bundle.name) > 1:
            bundle.metadata["name"] = f"{names[number]} ({bundle.root.name})"
    renamed = [b.name for b in bundles]
    for number, bundle in enumerate(bundles):
        if renamed.count(bundle.name) > 1:
            bundle.metadata["name"] = f"{renamed[number]} #{number + 1}"


def _ensemble(classifiers: list[PlaneClassifier], outcomes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The mean malignant probability of the plane classifiers (an ensemble of networks, e.g.
    the same recipe trained with two seeds), judged at their mean threshold."""
    probability = float(np.mean([outcomes[c.bundle.name]["malignant_probability"] for c in classifiers]))
    threshold = float(np.mean([c.threshold for c in classifiers]))
    return {"models": [c.bundle.name for c in classifiers], "malignant_probability": round(probability, 4),
            "prediction": "malignant" if probability > threshold else "benign", "threshold": round(threshold, 4)}


def _lesion_tags(lesion: Lesion, result: dict[str, Any] | None) -> dict[str, str]:
    tags = dict(lesion.tags)
    if result is not None:
        tags["BreastUSAI.MalignantProbability"] = f"{result['malignant_probability']:.4f}"
        tags["BreastUSAI.Prediction"] = result["prediction"]
    return tags


def predict_one(path: Path, models: Models, options: PredictOptions, index: int, reporter: ProgressReporter,
                folder: Path, companions: dict[str, Companion] | None = None,
                image: ImageData | None = None) -> dict[str, Any]:
    """Run every stage on one input and write its folder; returns its result document.
    ``image`` is the input already read (when the models were chosen by its kind)."""
    timing: dict[str, float] = {}
    name = path.name

    def stage(label: str) -> float:
        reporter.stage(index, name, label)
        return time.perf_counter()

    started = stage("load")
    image = image if image is not None else read_image(path, colour="grey")
    if image.array.min() == image.array.max():
        raise InputFileError(path, "image is blank (every voxel has the same value): nothing to analyse")
    for classifier in models.classifiers:
        classifier.check_image(image)
    if (models.prototype_models or models.fusion_models or models.radiomics_models) and not image.is_2d:
        raise InputFileError(path, "MUP-Net, DL-UM and deep radiomics read 2D images; this is a volume")
    companions = companions or {}
    clinical = parse_clinical(options.clinical)
    timing["load"] = time.perf_counter() - started

    started = stage("segment")
    if options.segmentation:
        lesions = lesions_from_segmentation(read_segmentation(options.segmentation), image.geometry, image.shape_kji)
        source = {"kind": "mask file", "file": Path(options.segmentation).name}
    elif models.segmenter is not None:
        probability = models.segmenter.probability(image)
        lesions = models.segmenter.lesions(image, probability, options.threshold, options.expect_lesion)
        del probability
        source = {"kind": "segmentation model", "model": models.segmenter.bundle.name}
        if lesions and BELOW_THRESHOLD_TAG in lesions[0].tags:
            source["below_threshold"] = lesions[0].tags[BELOW_THRESHOLD_TAG]
    else:
        raise UsageError("no lesions to classify: give a segmentation model (--model) or a mask (--segmentation)")
    timing["segment"] = time.perf_counter() - started

    documents, extras, extras_mupnet = [], [], []
    timing.update(planes=0.0, classify=0.0, explain=0.0)
    for lesion in lesions:
        facts = lesion.describe(image.geometry)
        first: dict[str, Any] | None = None
        for number, classifier in enumerate(models.classifiers):
            started = stage("planes")
            planes = classifier.lesion_planes(image, lesion.box_mask, lesion.offset_kji)
            timing["planes"] += time.perf_counter() - started
            started = stage("classify")
            outcome = classifier.classify(planes)
            timing["classify"] += time.perf_counter() - started
            facts.setdefault("classification", {})[classifier.bundle.name] = {**outcome, "model_version": classifier.bundle.version}
            if number == 0:
                first = outcome
                facts["planes"] = planes.describe(image.geometry)
                started = stage("explain")
                explained = 1 if outcome["prediction"] == "malignant" else 0
                maps = classifier.explain(planes, options.cam, class_index=explained)
                box = heatmap_from_planes(image.shape_kji, image.geometry, lesion.bbox_ijk, planes, maps)
                timing["explain"] += time.perf_counter() - started
                extras.append((lesion, planes, maps, box, outcome, classifier, facts))
        if options.ensemble:
            first = facts["ensemble"] = _ensemble(models.classifiers, facts["classification"])
        for explainer in models.prototype_models:
            started = stage("classify")
            crop, pictures = lesion_crops(explainer.modalities, image, lesion, companions, explainer.size, explainer.margin)
            outcome, similarity_maps = explainer.explain(crop)
            timing["classify"] += time.perf_counter() - started
            facts.setdefault("prototype_explanations", {})[explainer.bundle.name] = outcome
            if first is None:
                first = outcome
            extras_mupnet.append((lesion, pictures, similarity_maps, outcome, explainer, facts))
        for fusion in models.fusion_models:
            started = stage("classify")
            crop, _ = lesion_crops(fusion.modalities, image, lesion, companions, fusion.size, fusion.margin)
            outcome, _ = fusion.explain(crop)
            timing["classify"] += time.perf_counter() - started
            facts.setdefault("fusion_classification", {})[fusion.bundle.name] = outcome
            if first is None:
                first = outcome
        risk: dict[str, float] = {}
        for radiomics in models.radiomics_models:
            started = stage("classify")
            crop, _ = lesion_crops(radiomics.modalities, image, lesion, companions, radiomics.size, radiomics.margin)
            probability = radiomics.probability(crop, clinical)
            timing["classify"] += time.perf_counter() - started
            risk[radiomics.kind] = probability
            outcome = {"kind": radiomics.kind, "probability": round(probability, 4),
                       "clinical_given": sorted(clinical), "clinical_missing": sorted(set(radiomics.encoder.variables) - set(clinical))}
            if radiomics.kind != "lh":
                outcome.update(malignant_probability=round(probability, 4),
                               prediction="malignant" if probability >= 0.5 else "benign")
                if first is None:
                    first = outcome
            facts.setdefault("radiomics", {})[radiomics.bundle.name] = outcome
        if "lh" in risk and "bm" in risk:
            decision = restratify_4a(options.birads, risk["lh"], risk["bm"])
            facts["restratification"] = {"birads_given": options.birads, "decision": decision.decision,
                                         "suggested_birads": decision.suggested_birads, "biopsy": decision.biopsy,
                                         "reason": decision.reason}
        if first is not None:
            facts["malignant_probability"] = first["malignant_probability"]
            facts["prediction"] = first["prediction"]
            lesion.colour = lesion.colour or (MALIGNANT_COLOUR if first["prediction"] == "malignant" else BENIGN_COLOUR)
            lesion.tags = _lesion_tags(lesion, first)
        documents.append(facts)

    started = stage("write")
    with atomic_directory(folder, overwrite=True) as staging:
        if lesions:
            write_segmentation(staging / "lesions.seg.nrrd", lesions_to_segmentation(lesions, image.geometry, image.shape_kji))
        for lesion, planes, maps, box, outcome, classifier, facts in extras:
            _write_explanation(staging, image, lesion, planes, maps, box, outcome, classifier, options, facts)
        if options.overlays:
            for lesion, pictures, similarity_maps, outcome, explainer, facts in extras_mupnet:
                crops = {key: pictures[key.split(":")[0]] for key in similarity_maps}
                titles = {}
                for key in similarity_maps:
                    modality, class_name = key.split(":")  # not `name`: that is the input's file name
                    match = outcome["prototypes"][modality][class_name]
                    titles[key] = f"{class_name} prototype {match['prototype']} ({match['contribution_normalised']:+.2f})"
                sheet = save_plane_overlays(staging / f"prototypes_{lesion.lesion_id}.png", crops, similarity_maps, titles)
                facts.setdefault("overlays", []).append(sheet.name)
        document = {
            "input": name,
            "image": {"kind": "2d" if image.is_2d else "volume", "shape_kji": list(image.shape_kji), **image.geometry.to_dict()},
            "models": models.describe(),
            "lesion_source": source,
            "lesions": documents,
            "message": (source.get("below_threshold") or None) if lesions else "no lesion found",
            "explanation": options.cam if models.classifiers else None,
            "device": describe_device(models.device),
        }
        warnings = synthetic_model_warnings(models.bundles())
        if warnings:
            document["warnings"] = warnings
        timing["write"] = time.perf_counter() - started
        document["timing_s"] = {k: round(v, 4) for k, v in timing.items()}
        write_json_atomic(staging / "result.json", document)
    return document


def _write_explanation(folder: Path, image: ImageData, lesion: Lesion, planes, maps, box, outcome, classifier,
                       options: PredictOptions, facts: dict[str, Any]) -> None:
    grid = options.heatmap_grid
    full = grid == "full" or (grid == "auto" and int(np.prod(image.shape_kji)) <= FULL_GRID_HEATMAP_VOXELS)
    if full:
        heat = ImageData(box.on_full_grid(image.shape_kji), image.geometry, source="heatmap", meta={"modality": "heatmap"})
    else:
        heat = ImageData(box.array, box.geometry(image.geometry), source="heatmap", meta={"modality": "heatmap"})
    heat_name = f"heatmap_{lesion.lesion_id}.nrrd"
    write_nrrd(heat, folder / heat_name)
    facts["heatmap"] = {"file": heat_name, "grid": "input" if full else "lesion box (sub-grid of the input)",
                        "offset_kji": [0, 0, 0] if full else list(box.offset_kji), "method": options.cam,
                        "explained_class": outcome["prediction"],
                        "model": classifier.bundle.name, "peak": round(float(box.array.max()), 4)}
    if facts["heatmap"]["peak"] == 0:
        facts["heatmap"]["note"] = (f"{options.cam} found no positive evidence for the {outcome['prediction']} class "
                                    "(the map is zero everywhere); --cam gradcam++ often still shows where the model looked")
    if not options.overlays:
        return
    crops = {p: planes.frames[p][0].image for p in maps}
    titles = {p: f"{PLANE_NAMES[p]} {outcome['per_plane'][PLANE_NAMES[p]]:.2f}" for p in maps}
    overlays = [save_plane_overlays(folder / f"planes_{lesion.lesion_id}.png", crops, maps, titles).name]
    if image.is_2d:
        heat_full = box.on_full_grid(image.shape_kji)[0]
        overlays.append(save_image_overlay(folder / f"overlay_{lesion.lesion_id}.png", image.array[0], heat_full, lesion.mask[0]).name)
    facts["overlays"] = overlays


def synthetic_model_warnings(bundles: list[Bundle]) -> list[str]:
    """One sentence per bundle trained on synthetic (phantom) images only (``predict`` prints them on stderr)."""
    found = []
    for bundle in bundles:
        if bundle.metadata.get("synthetic_only"):
            found.append(f"{bundle.name} was trained on synthetic phantom images only: its output shows how the "
                         "pipeline works and says nothing about a real patient's lesion")
    return found


class ShippedModelsByKind:
    """``predict`` without ``--model``: the shipped models that fit each input's kind, loaded once per kind."""

    def __init__(self, device, companion_kinds: set[str]) -> None:
        self.device, self.companion_kinds = device, companion_kinds
        self.loaded: dict[str, Models] = {}

    def for_image(self, image: ImageData) -> Models:
        kind = image_kind(image.is_2d, image.meta)
        if kind not in self.loaded:
            paths = [str(model.path) for model in models_for_kind(kind)]
            self.loaded[kind] = load_models(paths, self.device, self.companion_kinds)
        return self.loaded[kind]


def predict_inputs(inputs: list[str], options: PredictOptions) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Run ``predict`` over every input; returns (result documents, [(input, error message)]).

    Without ``options.models`` each input gets the shipped models that fit its kind."""
    if options.cam not in CAM_METHODS:
        raise UsageError(f"--cam must be one of {', '.join(CAM_METHODS)}")
    if options.heatmap_grid not in ("auto", "full", "lesion"):
        raise UsageError("--heatmap-grid must be auto, full or lesion")
    paths = expand_inputs(inputs)
    if options.segmentation and len(paths) != 1:
        raise UsageError("--segmentation belongs to one image: give exactly one input with it")
    companion_spec = parse_companions(options.companions)
    parse_clinical(options.clinical)
    options.birads = parse_birads(options.birads)
    if companion_spec and len(paths) != 1:
        raise UsageError("--companion images belong to one input: give exactly one INPUT with them")
    device = resolve_device(options.device)
    shipped = None if options.models else ShippedModelsByKind(device, set(companion_spec))
    models = load_models(options.models, device, set(companion_spec)) if options.models else None
    if options.ensemble and (models is None or len(models.classifiers) < 2):
        raise UsageError(f"--ensemble averages two or more plane classifiers; {len(models.classifiers) if models else 0} given")
    companions = load_companions(companion_spec)
    out_dir = Path(options.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    reporter = ProgressReporter(options.progress, len(paths))
    results, failures = [], []
    taken: set[str] = set()
    for index, path in enumerate(paths):
        folder = out_dir / output_name(path, taken)
        try:
            image = None
            if shipped is not None:
                image = read_image(path, colour="grey")
                models = shipped.for_image(image)
            document = predict_one(path, models, options, index, reporter, folder, companions, image)
            document["output"] = str(folder)
            results.append(document)
            reporter.done(index, path.name, str(folder), len(document["lesions"]))
        except BreastUSAIError as error:
            failures.append((str(path), str(error)))
            reporter.error(index, path.name, str(error))
            log.error("%s", error)
    reporter.finished(len(results), len(failures))
    return results, failures
