"""Tampered and hostile model files, and hostile datasets: each scenario is built on a copy
of a valid seed, fed to the tool, and held when it is refused with the documented error
(and, for code payloads, when the payload never ran: it would create a marker file).
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np

BUNDLE_METADATA, BUNDLE_INFERENCE, BUNDLE_WEIGHTS = "configs/metadata.json", "configs/inference.json", "models/model.pt"


class _Payload:
    """Unpickling this calls ``open(marker, "w")``: the marker file exists iff code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _reseal(bundle: Path, relative: str) -> None:
    """What a careful attacker does: fix the sha256 of the file they changed."""
    from BreastUSAITraining.bundle.bundle import sha256_of

    meta = json.loads((bundle / BUNDLE_METADATA).read_text())
    meta["files"][relative] = sha256_of(bundle / relative)
    if relative == BUNDLE_WEIGHTS:
        meta["weights_sha256"] = meta["files"][relative]
    (bundle / BUNDLE_METADATA).write_text(json.dumps(meta))


def _edit_metadata(bundle: Path, change: Callable[[dict], None]) -> None:
    meta = json.loads((bundle / BUNDLE_METADATA).read_text())
    change(meta)
    (bundle / BUNDLE_METADATA).write_text(json.dumps(meta))


def _refused_bundle(bundle: Path, expect: str) -> str | None:
    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.errors import InputFileError

    try:
        load_bundle(bundle)
    except InputFileError as error:
        return None if expect in str(error) else f"refused, but the message lacks {expect!r}: {error}"
    except Exception as error:  # noqa: BLE001
        return f"crashed with {type(error).__name__}: {error}"
    return "loaded"


def model_scenarios(seed_bundle: Path, work: Path, inputs: list[Path]) -> list[dict]:
    """Tampered / hostile bundles: load refused, payloads never run, predict exits 2."""
    results = []

    def scenario(name: str, build: Callable[[Path, Path], None], expect: str, via_predict: bool = False) -> None:
        bundle = work / name
        shutil.copytree(seed_bundle, bundle, symlinks=True)
        marker = work / f"{name}.payload-ran"
        build(bundle, marker)
        problem = _refused_bundle(bundle, expect)
        if via_predict and problem is None:
            done = subprocess.run([sys.executable, "-m", "BreastUSAITraining", "predict", str(inputs[0]), "--model",
                                   str(bundle), "--out", str(work / f"{name}.out"), "--progress", "none"],
                                  capture_output=True, text=True, timeout=600)
            if done.returncode != 2 or expect not in done.stderr:
                problem = f"predict exit {done.returncode}: {done.stderr[-300:]}"
            if (work / f"{name}.out").exists() and any((work / f"{name}.out").iterdir()):
                problem = "predict wrote output with a refused model"
        if marker.exists():
            problem = "THE PAYLOAD RAN"
        results.append({"category": "model", "scenario": name, "held": problem is None, "problem": problem})

    def flip_weights(bundle, _):
        data = bytearray((bundle / BUNDLE_WEIGHTS).read_bytes())
        data[len(data) // 2] ^= 0x40
        (bundle / BUNDLE_WEIGHTS).write_bytes(bytes(data))

    def payload_weights(bundle, marker):
        (bundle / BUNDLE_WEIGHTS).write_bytes(pickle.dumps({"weight": _Payload(str(marker))}))
        _reseal(bundle, BUNDLE_WEIGHTS)

    def torch_saved_payload(bundle, marker):
        import torch

        torch.save({"weight": _Payload(str(marker))}, bundle / BUNDLE_WEIGHTS)
        _reseal(bundle, BUNDLE_WEIGHTS)

    def inference_changed(bundle, _):
        config = json.loads((bundle / BUNDLE_INFERENCE).read_text())
        config["threshold"] = 0.01
        (bundle / BUNDLE_INFERENCE).write_text(json.dumps(config))

    def escape(path):
        def build(bundle, _):
            _edit_metadata(bundle, lambda m: m["files"].__setitem__(path, "0" * 64))
        return build

    def symlink_out(bundle, _):
        secret = bundle.parent / f"{bundle.name}-secret.txt"
        secret.write_text("outside")
        (bundle / "logs" / "link.txt").symlink_to(secret)
        from BreastUSAITraining.bundle.bundle import sha256_of

        _edit_metadata(bundle, lambda m: m["files"].__setitem__("logs/link.txt", sha256_of(secret)))

    def weights_replaced_by_symlink(bundle, _):
        target = bundle.parent / f"{bundle.name}-weights.pt"
        shutil.copy(bundle / BUNDLE_WEIGHTS, target)
        (bundle / BUNDLE_WEIGHTS).unlink()
        (bundle / BUNDLE_WEIGHTS).symlink_to(target)

    def sha_recorded_wrong(bundle, _):
        _edit_metadata(bundle, lambda m: m.__setitem__("weights_sha256", "f" * 64))

    def weights_missing(bundle, _):
        (bundle / BUNDLE_WEIGHTS).unlink()

    scenario("weights-bit-flip", flip_weights, "sha256 mismatch", via_predict=True)
    scenario("pickle-payload-resealed", payload_weights, "weights refused", via_predict=True)
    scenario("torch-save-payload-resealed", torch_saved_payload, "weights refused")
    scenario("inference-config-changed", inference_changed, "sha256 mismatch")
    scenario("recorded-sha-wrong", sha_recorded_wrong, "disagrees")
    scenario("weights-missing", weights_missing, "missing")
    for label, path in (("dotdot", "../outside.txt"), ("absolute", "/etc/passwd"), ("nested-dotdot", "logs/../../x")):
        scenario(f"path-escape-{label}", escape(path), "bundle")
    scenario("symlink-leaves-bundle", symlink_out, "outside the bundle")
    scenario("weights-symlinked-outside", weights_replaced_by_symlink, "outside the bundle")

    from BreastUSAITraining.errors import InputFileError
    from BreastUSAITraining.training.checkpoint import load_checkpoint

    marker = work / "checkpoint.payload-ran"
    (work / "hostile_checkpoint.pt").write_bytes(pickle.dumps(_Payload(str(marker))))
    try:
        load_checkpoint(work / "hostile_checkpoint.pt")
        problem = "loaded"
    except InputFileError:
        problem = None
    problem = "THE PAYLOAD RAN" if marker.exists() else problem
    results.append({"category": "model", "scenario": "checkpoint-pickle-payload", "held": problem is None, "problem": problem})
    return results


def dataset_scenarios(seed_dataset: Path, work: Path) -> list[dict]:
    """Hostile dataset.json files: each must be reported with the field that breaks the rule."""
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.validate import validate_dataset_folder
    from BreastUSAITraining.errors import DatasetError

    results = []

    def scenario(name: str, change: Callable[[dict, Path], None], expect: str, refused_by_load: bool = True) -> None:
        """``refused_by_load``: the dataset.json itself breaks a rule (load_dataset must refuse it);
        False for what only reading the images finds (deep validation, training)."""
        folder = work / f"dataset-{name}"
        shutil.copytree(seed_dataset, folder, symlinks=True)
        document = json.loads((folder / "dataset.json").read_text())
        change(document, folder)
        (folder / "dataset.json").write_text(json.dumps(document))
        found = [str(v) for v in validate_dataset_folder(folder, deep=True)]
        problem = None if any(expect in v for v in found) else f"not reported ({expect!r}); got {found[:3]}"
        try:
            load_dataset(folder)
            if refused_by_load:
                problem = problem or "load_dataset accepted it"
        except DatasetError:
            pass
        except Exception as error:  # noqa: BLE001
            problem = f"load_dataset crashed: {type(error).__name__}: {error}"
        results.append({"category": "dataset", "scenario": name, "held": problem is None, "problem": problem})

    def first(document):
        return document["training"][0]

    def image_path(value):
        def change(document, folder):
            modality = next(iter(first(document)["images"]))
            first(document)["images"][modality] = value(folder)
        return change

    def symlinked(document, folder):
        outside = folder.parent / f"{folder.name}-outside.nrrd"
        modality = next(iter(first(document)["images"]))
        shutil.copy(folder / first(document)["images"][modality], outside)
        (folder / "images" / "link.nrrd").symlink_to(outside)
        first(document)["images"][modality] = "images/link.nrrd"

    def seg_escape(document, folder):
        first(document)["segmentation"] = "../../outside.seg.nrrd"

    def duplicate(document, folder):
        document["training"].append(dict(first(document)))

    def patient_in_two_splits(document, folder):
        test_item = dict(document["training"][1])
        test_item.update(case_id="moved-copy", fold=None)
        document["test"].append(test_item)

    def label(field, value):
        def change(document, folder):
            first(document)[field] = value
        return change

    def clinical(document, folder):
        first(document)["clinical"]["age"] = 500

    def modality(document, folder):
        images = first(document)["images"]
        images["ct"] = next(iter(images.values()))

    def detached(data_name: str):
        """The first image becomes an NRRD header whose pixel data is named by ``data_name``
        (outside the dataset folder), the data file written there: a reader must not follow it."""
        def change(document, folder):
            import nrrd

            modality = next(iter(first(document)["images"]))
            source = folder / first(document)["images"][modality]
            data, header = nrrd.read(str(source))
            outside = folder.parent / f"{folder.name}-pixels.raw"
            outside.write_bytes(np.ascontiguousarray(data.T).tobytes())
            lines = [f"{k}: {' '.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                     for k, v in (("type", str(data.dtype) if data.dtype.name != "uint8" else "uchar"),
                                  ("dimension", data.ndim), ("sizes", list(data.shape)), ("encoding", "raw"),
                                  ("endian", "little"))]
            name = data_name.replace("OUTSIDE", str(outside)).replace("REL", f"../../{outside.name}")
            (folder / "images" / "detached.nhdr").write_text("NRRD0004\n" + "\n".join(lines) + f"\ndata file: {name}\n")
            first(document)["images"][modality] = "images/detached.nhdr"
        return change

    scenario("image-path-dotdot", image_path(lambda f: "../../../etc/passwd"), "images")
    scenario("nrrd-data-file-outside", detached("REL"), "outside its folder", refused_by_load=False)
    scenario("nrrd-data-file-absolute", detached("OUTSIDE"), "absolute path", refused_by_load=False)
    scenario("image-path-absolute", image_path(lambda f: str((f / "images").resolve() / "x.nrrd")), "images")
    scenario("image-symlink-outside", symlinked, "images")
    scenario("segmentation-path-escape", seg_escape, "segmentation")
    scenario("duplicate-case-lesion", duplicate, "duplicate case/lesion pair")
    scenario("patient-in-two-splits", patient_in_two_splits, "in both training and test")
    scenario("pathology-outside-schema", label("pathology", "cancer"), "pathology")
    scenario("birads-outside-schema", label("birads", "7"), "birads")
    scenario("clinical-value-outside-range", clinical, "age")
    scenario("unknown-modality", modality, "ct")
    scenario("fold-not-an-integer", label("fold", "zero"), "fold")
    return results
