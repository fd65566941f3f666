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
from ..errors import BreastUSAIError, InputFileError, UsageError
from ..explain.gradcam import METHODS as CAM_METHODS
from ..families import (
    SEGMENTATION,
    ExplainOptions,
    LesionInput,
    LesionOutcome,
    LesionPredictor,
    LesionView,
    ModelFamily,
    call_words,
    family_for_task,
    family_named,
)
from ..imagefiles import ImageData, read_image, read_segmentation, write_segmentation
from ..imagefiles.frame_stack import is_frame_stack, read_frame_stack
from ..lesions import BELOW_THRESHOLD_TAG, Lesion, lesions_from_segmentation, lesions_to_segmentation
from ..shipped import image_kind, models_for_kind
from ..training.device import describe_device, resolve_device
from .clinical_args import parse_birads, parse_clinical
from .companions import Companion, companion_views, load_companions, parse_companions
from .inputs import expand_inputs, output_name
from .progress import ProgressReporter

log = logging.getLogger(__name__)

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
    dicom_out: bool = False                               # also write the lesions as a DICOM SEG (DICOM inputs)


@dataclass
class Models:
    """The bundles ``predict`` runs: one segmenter at most and any classifiers, each with its family."""

    device: Any
    segmenter: Any | None
    classifiers: list[tuple[ModelFamily, LesionPredictor]] = field(default_factory=list)

    def bundles(self) -> list[Bundle]:
        return ([self.segmenter.bundle] if self.segmenter else []) + [p.bundle for _, p in self.classifiers]

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": b.name, "version": b.version, "task": b.task, "weights_sha256": b.metadata["weights_sha256"],
                 "validation": b.metadata.get("metrics", {})} for b in self.bundles()]


def _needs_companions(path: str, kinds: list[str], companion_kinds: set[str]) -> None:
    """A model reading one image reads the INPUT; one reading several images of each lesion takes
    the B-mode image as INPUT and the others as companions."""
    if len(kinds) < 2:
        return
    missing = [m for m in kinds if m != "us_bmode" and m not in companion_kinds]
    if "us_bmode" not in kinds or missing:
        raise UsageError(f"{path}: this model reads {', '.join(kinds)} images of each lesion; predict takes the "
                         "B-mode image as INPUT and the others as --companion KIND=IMAGE[,SEG]"
                         + (f" (missing: {', '.join(missing)})" if missing else ""))


def load_models(paths: list[str], device, companion_kinds: set[str] | None = None) -> Models:
    """Load and verify every bundle through its family; one segmentation bundle at most. Models that
    read several images of a lesion (multimodal MUP-Net, DL-UM) need the others as companions."""
    companion_kinds = companion_kinds or set()
    segmenter, classifiers = None, []
    for path in paths:
        family = family_for_task(read_metadata(path)["task"], path)
        predictor = family.load_predictor(load_bundle(path), device)
        if family.role == SEGMENTATION:
            if segmenter is not None:
                raise UsageError(f"{path}: only one segmentation model can be given")
            segmenter = predictor
        else:
            _needs_companions(path, predictor.kinds, companion_kinds)
            classifiers.append((family, predictor))
    models = Models(device, segmenter, classifiers)
    _distinct_names(models.bundles())
    return models


#: loaded models kept between ``predict`` calls of one process (the warm worker); None: off
_LOADED: dict[tuple, Models] | None = None
KEEP_AT_MOST = 4


def keep_models_loaded(enabled: bool = True) -> None:
    """Keep the last few model sets loaded between :func:`predict_inputs` calls (``breastusai worker``).
    A bundle whose ``metadata.json`` changed on disk (a retrained model) is loaded again."""
    global _LOADED
    _LOADED = {} if enabled else None


def _bundle_stamp(path: str) -> tuple:
    metadata = Path(path) / "configs" / "metadata.json"
    try:
        facts = metadata.stat()
    except OSError:
        return (str(path),)  # load_models names the problem
    return (str(Path(path).resolve()), facts.st_mtime_ns, facts.st_size)


def loaded_models(paths: list[str], device, companion_kinds: set[str] | None = None) -> Models:
    """:func:`load_models`, or the same models already loaded when :func:`keep_models_loaded` is on."""
    if _LOADED is None:
        return load_models(paths, device, companion_kinds)
    key = (tuple(_bundle_stamp(p) for p in paths), str(device), tuple(sorted(companion_kinds or ())))
    if key not in _LOADED:
        while len(_LOADED) >= KEEP_AT_MOST:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = load_models(paths, device, companion_kinds)
    return _LOADED[key]


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


def _ensemble(outcomes: list[LesionOutcome]) -> dict[str, Any]:
    """The mean malignant probability of the plane classifiers (an ensemble of networks, e.g.
    the same recipe trained with two seeds), judged at their mean threshold by the one rule."""
    probability = float(np.mean([o.probability for o in outcomes]))
    threshold = float(np.mean([o.threshold for o in outcomes]))
    return {"models": [o.model for o in outcomes], "malignant_probability": round(probability, 4),
            "prediction": call_words(probability, threshold), "threshold": round(threshold, 4)}


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
    for _, predictor in models.classifiers:
        predictor.check_image(image)
    companions = companions or {}
    clinical = parse_clinical(options.clinical)
    explain_options = ExplainOptions(options.cam, options.heatmap_grid, options.overlays)
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

    documents, explained = [], []
    timing.update(planes=0.0, classify=0.0, explain=0.0)
    input_kind = "us_bmode" if image.is_2d else "abvs"
    for lesion in lesions:
        facts = lesion.describe(image.geometry)
        views = {input_kind: LesionView(image, lesion), **companion_views(companions, lesion, image)}
        lesion_input = LesionInput(lesion.lesion_id, views, input_kind, clinical, options.birads)
        outcomes: dict[str, list[LesionOutcome]] = {}
        for family, predictor in models.classifiers:
            stage("classify")
            first_of_family = family.name not in outcomes
            outcome = predictor.predict(lesion_input, explain=first_of_family, options=explain_options)
            for key, seconds in outcome.seconds.items():
                timing[key] = timing.get(key, 0.0) + seconds
            outcomes.setdefault(family.name, []).append(outcome)
            facts.setdefault(family.result_key, {})[outcome.model] = outcome.result_entry()
            if first_of_family:
                explained.append((predictor, lesion_input, outcome, facts))
        malignancy = [o for found in outcomes.values() for o in found if o.malignancy]
        headline: dict[str, Any] | None = malignancy[0].result_entry() if malignancy else None
        if options.ensemble:
            headline = facts["ensemble"] = _ensemble(outcomes.get(models.classifiers[0][0].name, []))
        for family_name, found in outcomes.items():
            combined = family_named(family_name).combine(found, lesion_input)
            if combined is not None:
                facts[combined.pop("key")] = combined
        if headline is not None:
            facts["malignant_probability"] = headline["malignant_probability"]
            facts["prediction"] = headline["prediction"]
            lesion.colour = lesion.colour or (MALIGNANT_COLOUR if headline["prediction"] == "malignant" else BENIGN_COLOUR)
            lesion.tags = _lesion_tags(lesion, headline)
        documents.append(facts)

    started = stage("write")
    with atomic_directory(folder, overwrite=True) as staging:
        if lesions:
            write_segmentation(staging / "lesions.seg.nrrd", lesions_to_segmentation(lesions, image.geometry, image.shape_kji))
        for predictor, lesion_input, outcome, facts in explained:
            explain_started = time.perf_counter()
            predictor.write_explanation(staging, lesion_input, outcome, explain_options, facts)
            timing["explain"] += time.perf_counter() - explain_started
        dicom_note = (_write_dicom_results(staging, image, lesions, models, source, documents)
                      if options.dicom_out else None)
        document = {
            "input": name,
            "image": {"kind": "2d" if image.is_2d else "volume", "shape_kji": list(image.shape_kji), **image.geometry.to_dict()},
            "models": models.describe(),
            "lesion_source": source,
            "lesions": documents,
            "message": (source.get("below_threshold") or None) if lesions else "no lesion found",
            "explanation": options.cam if any(f.result_key == "classification" for f, _ in models.classifiers) else None,
            "device": describe_device(models.device),
        }
        warnings = synthetic_model_warnings(models.bundles())
        if dicom_note is not None:
            document["dicom_out"] = dicom_note
            if not dicom_note.get("written"):
                warnings.append(f"{name}: no DICOM written - {dicom_note['reason']}")
        if warnings:
            document["warnings"] = warnings
        timing["write"] = time.perf_counter() - started
        document["timing_s"] = {k: round(v, 4) for k, v in timing.items()}
        write_json_atomic(staging / "result.json", document)
    return document


def _write_dicom_results(folder: Path, image: ImageData, lesions: list[Lesion], models: Models,
                         source: dict[str, Any], documents: list[dict[str, Any]]) -> dict[str, Any]:
    """``predict --dicom-out``: the lesions as ``lesions.seg.dcm`` (DICOM SEG) and ``lesions.sr.dcm``
    (TID 1500 measurement report referencing it) when the input is a DICOM image; otherwise why
    nothing was written (said in result.json and as a warning)."""
    from ..dicom_results.report import write_lesion_report
    from ..dicom_results.segmentation import write_lesion_seg
    from ..imagefiles.dicom import is_dicom_file

    origin = Path(image.source.split("#")[0])
    frame = int(image.source.split("#frame")[1]) if "#frame" in image.source else None  # a cine loop's frame (1-based)
    if not (origin.is_file() and is_dicom_file(origin)):
        return {"written": False, "reason": "the input is not a DICOM file (a DICOM SEG references DICOM instances)"}
    if not lesions:
        return {"written": False, "reason": "no lesion found"}
    model = ((models.segmenter.bundle.name, models.segmenter.bundle.version)
             if source.get("kind") == "segmentation model" and models.segmenter is not None else None)
    try:
        path = write_lesion_seg(origin, [(lesion.lesion_id, lesion.mask) for lesion in lesions], folder / "lesions.seg.dcm",
                                model, image.meta.get("ultrasound_region"), frame)
    except InputFileError as error:
        return {"written": False, "reason": error.problem if hasattr(error, "problem") else str(error)}
    classifier = next(((p.bundle.name, p.bundle.version) for _, p in models.classifiers), None)
    report = write_lesion_report(origin, path, documents, folder / "lesions.sr.dcm",
                                 image.meta.get("spacing_known") != "0", classifier, frame)
    return {"written": True, "seg": path.name, "sr": report.name, "segments": len(lesions),
            **({"source_frame": frame} if frame else {}),
            "algorithm": "manual (drawn mask)" if model is None else f"automatic: {model[0]} {model[1]}"}


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
            self.loaded[kind] = loaded_models(paths, self.device, self.companion_kinds)
        return self.loaded[kind]


def predict_frame_stack(path: Path, stack, models: Models | None, shipped: "ShippedModelsByKind | None",
                        options: PredictOptions, index: int, reporter: ProgressReporter, folder: Path,
                        companions: dict[str, Companion]) -> dict[str, Any]:
    """Every frame of a 2D frame stack (ultrasound DICOM without positions: a folder of captures or a
    cine loop) through :func:`predict_one`, each into ``folder/frame_NNNN``; then ``folder/summary.json``
    (written last: its presence means every frame is done): which frames hold lesions, the frame
    with the largest lesion and its probability; sizes in mm2 only when the frames' spacing is known."""
    folder.mkdir(parents=True, exist_ok=True)
    frames, failures = [], []
    spacing_known = all(frame.meta.get("spacing_known") != "0" for frame in stack.frames)
    for number, (frame, label) in enumerate(zip(stack.frames, stack.labels), start=1):
        frame_models = shipped.for_image(frame) if shipped is not None else models
        sub = f"frame_{number:04d}"
        try:
            document = predict_one(Path(f"{path.name}:{label}"), frame_models, options, index, reporter, folder / sub,
                                   companions, frame)
        except BreastUSAIError as error:
            failures.append({"frame": label, "error": str(error)})
            continue
        for lesion in document["lesions"]:
            lesion.setdefault("size", lesion.get("area_mm2") if spacing_known else lesion["voxels"])
        frames.append({"frame": label, "folder": sub, "lesions": document["lesions"]})
    found = [(f, lesion) for f in frames for lesion in f["lesions"]]
    largest = max(found, key=lambda pair: pair[1]["voxels"], default=None)
    summary = {
        "input": path.name, "kind": "2D frame stack", "frames": len(stack.frames), "frames_done": len(frames),
        "failed_frames": failures, "size_unit": "mm2" if spacing_known else "pixels",
        "frames_with_lesions": [f["frame"] for f in frames if f["lesions"]],
        "largest_lesion": None if largest is None else {
            "frame": largest[0]["frame"], "folder": largest[0]["folder"], "lesion": largest[1]["id"],
            "size": largest[1]["size"], "malignant_probability": largest[1].get("malignant_probability"),
            "prediction": largest[1].get("prediction")},
        "per_frame": [{"frame": f["frame"], "folder": f["folder"], "lesions": len(f["lesions"]),
                       "malignant_probability": max((lesion.get("malignant_probability", 0.0) for lesion in f["lesions"]),
                                                    default=None)} for f in frames],
    }
    write_json_atomic(folder / "summary.json", summary)
    if not frames:
        raise InputFileError(path, "no frame of the stack could be analysed: " + "; ".join(f["error"] for f in failures[:3]))
    return {"input": path.name, "lesions": [lesion for _, lesion in found], "summary": summary}


def predict_inputs(inputs: list[str], options: PredictOptions) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Run ``predict`` over every input; returns (result documents, [(input, error message)]).

    Without ``options.models`` each input gets the shipped models that fit its kind. A DICOM folder
    holding several series is analysed one series at a time (each its own output folder)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="breastusai-series-") as staging:
        return _predict_inputs(inputs, options, Path(staging))


def _predict_inputs(inputs: list[str], options: PredictOptions,
                    staging: Path) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Run ``predict`` over every input; returns (result documents, [(input, error message)]).

    Without ``options.models`` each input gets the shipped models that fit its kind."""
    if options.cam not in CAM_METHODS:
        raise UsageError(f"--cam must be one of {', '.join(CAM_METHODS)}")
    if options.heatmap_grid not in ("auto", "full", "lesion"):
        raise UsageError("--heatmap-grid must be auto, full or lesion")
    paths = expand_inputs(inputs, staging)
    if options.segmentation and len(paths) != 1:
        raise UsageError("--segmentation belongs to one image: give exactly one input with it")
    companion_spec = parse_companions(options.companions)
    parse_clinical(options.clinical)
    options.birads = parse_birads(options.birads)
    if companion_spec and len(paths) != 1:
        raise UsageError("--companion images belong to one input: give exactly one INPUT with them")
    device = resolve_device(options.device)
    shipped = None if options.models else ShippedModelsByKind(device, set(companion_spec))
    models = loaded_models(options.models, device, set(companion_spec)) if options.models else None
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
            if is_frame_stack(path):
                # B-mode models read grey, as they were trained (as every other predict input is read)
                document = predict_frame_stack(path, read_frame_stack(path, colour="grey"), models, shipped, options, index, reporter,
                                               folder, companions)
                document["output"] = str(folder)
                results.append(document)
                reporter.done(index, path.name, str(folder), len(document["lesions"]))
                continue
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
