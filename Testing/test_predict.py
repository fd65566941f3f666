"""``predict`` end to end on real files: 2D images and ABVS volumes, outputs on the input's
geometry (oblique, asymmetric), machine-readable progress, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run_cli
from test_geometry_and_volumes import oblique_direction

from BreastUSAITraining.bundle.bundle import METADATA, WEIGHTS
from BreastUSAITraining.geometry import Geometry
from BreastUSAITraining.imagefiles import (
    ImageData,
    Segment,
    SegmentationData,
    read_image,
    read_segmentation,
    write_nrrd,
    write_segmentation,
)


def _first(folder: Path, pattern: str) -> Path:
    return sorted((folder / "images").glob(pattern))[0]


def _oblique_copy(source: Path, target: Path) -> ImageData:
    """The image of ``source`` re-written with an oblique direction and odd origin."""
    image = read_image(source)
    image.geometry = Geometry(image.geometry.spacing, (31.5, -12.25, 80.0), oblique_direction().ravel())
    write_nrrd(image, target)
    return image


def _assert_sub_grid(part: Geometry, whole: Geometry) -> np.ndarray:
    """``part`` has ``whole``'s spacing and direction and starts on one of its voxels; returns that (i, j, k)."""
    assert np.allclose(part.spacing, whole.spacing) and np.allclose(part.direction, whole.direction)
    offset = whole.lps_to_index(np.asarray(part.origin))
    assert np.allclose(offset, np.round(offset), atol=1e-4)
    return np.round(offset).astype(int)


def test_predict_abvs_volume_with_segmentation_and_three_planes(tiny_bundles, phantom_abvs, tmp_path):
    volume = _oblique_copy(_first(phantom_abvs, "*_abvs.nrrd"), tmp_path / "scan.nrrd")
    result = run_cli("predict", "--model", str(tiny_bundles["seg_abvs"]), "--model", str(tiny_bundles["planes_tsc"]),
                     str(tmp_path / "scan.nrrd"), "--out", str(tmp_path / "out"), "--threshold", "0.3",
                     "--progress", "json", "--expect-lesion")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0] == {"event": "start", "inputs": 1} and events[-1]["event"] == "finished"
    assert [e["stage"] for e in events if e["event"] == "stage"][:2] == ["load", "segment"]
    fractions = [e["fraction"] for e in events if "fraction" in e]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0

    folder = tmp_path / "out" / "scan"
    document = json.loads((folder / "result.json").read_text())
    assert document["image"]["shape_kji"] == list(volume.shape_kji)
    assert np.allclose(document["image"]["direction"], volume.geometry.direction)
    assert [m["task"] for m in document["models"]] == ["segmentation", "abvs-planes"]
    assert document["lesions"], document["message"]  # --expect-lesion: the phantom holds one, so one always comes back
    lesion = document["lesions"][0]
    assert set(lesion["planes"]) == {"transverse", "sagittal", "coronal"}
    assert 0.0 <= lesion["malignant_probability"] <= 1.0
    assert set(lesion["classification"]["three-plane-resnet18-TSC"]["per_plane"]) == {"transverse", "sagittal", "coronal"}
    raw = read_segmentation(folder / "lesions.seg.nrrd")  # stored like Slicer: cropped to the lesions' box
    _assert_sub_grid(raw.geometry, volume.geometry)
    segmentation = raw.on_grid(volume.geometry, volume.shape_kji)
    assert segmentation.segments[0].segment_id == lesion["id"]
    assert segmentation.union()[tuple(np.round(lesion["centroid_ijk"][::-1]).astype(int))] or lesion["voxels"] < 50
    assert "BreastUSAI.MalignantProbability" in segmentation.segments[0].tags
    heat = read_image(folder / lesion["heatmap"]["file"])
    assert heat.geometry.is_close(volume.geometry) and heat.shape_kji == volume.shape_kji
    assert heat.array.min() >= 0 and heat.array.max() <= 1.0 and heat.array.max() > 0
    assert (folder / f"planes_{lesion['id']}.png").stat().st_size > 1000
    # the same heatmap on the lesion's box: a sub-grid whose voxels coincide with the input's
    again = run_cli("predict", "--model", str(tiny_bundles["seg_abvs"]), "--model", str(tiny_bundles["planes_tsc"]),
                    str(tmp_path / "scan.nrrd"), "--out", str(tmp_path / "box"), "--threshold", "0.3", "--heatmap-grid", "lesion", "-q",
                    "--expect-lesion")
    assert again.returncode == 0, again.stderr
    boxed = json.loads((tmp_path / "box" / "scan" / "result.json").read_text())["lesions"][0]["heatmap"]
    small = read_image(tmp_path / "box" / "scan" / boxed["file"])
    offset = _assert_sub_grid(small.geometry, volume.geometry)
    assert list(offset[::-1]) == boxed["offset_kji"]
    k, j, i = boxed["offset_kji"]
    n_k, n_j, n_i = small.shape_kji
    assert np.allclose(small.array, heat.array[k : k + n_k, j : j + n_j, i : i + n_i])


def test_predict_2d_image_with_drawn_mask_keeps_geometry(tiny_bundles, phantom_us2d, tmp_path):
    """A corrected mask from Slicer (--segmentation) on an oblique 2D image; Grad-CAM++."""
    image = _oblique_copy(_first(phantom_us2d, "*_us_bmode.nrrd"), tmp_path / "bmode.nrrd")
    mask = np.zeros(image.shape_kji, dtype=bool)
    mask[0, 20:35, 10:40] = True  # wider than tall, off-centre
    write_segmentation(tmp_path / "mask.seg.nrrd", SegmentationData(
        [Segment("Lesion A", mask, (1, 0, 0), "lesion_a", {"BIRADS": "4A"})], image.geometry, image.shape_kji))
    result = run_cli("predict", "--model", str(tiny_bundles["planes_2d"]), str(tmp_path / "bmode.nrrd"),
                     "--segmentation", str(tmp_path / "mask.seg.nrrd"), "--cam", "gradcam++", "--out", str(tmp_path / "out"), "-q")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "out" / "bmode"
    document = json.loads((folder / "result.json").read_text())
    (lesion,) = document["lesions"]
    assert lesion["id"] == "lesion_a" and lesion["name"] == "Lesion A" and lesion["tags"]["BIRADS"] == "4A"
    assert lesion["bbox_ijk"] == {"min": [10, 20, 0], "max": [39, 34, 0]}
    assert lesion["area_mm2"] == pytest.approx(mask.sum() * image.geometry.spacing[0] * image.geometry.spacing[1], rel=1e-3)
    assert document["lesion_source"] == {"kind": "mask file", "file": "mask.seg.nrrd"}
    assert "mask.seg.nrrd" in json.dumps(document) and str(tmp_path) not in json.dumps(document)
    heat = read_image(folder / lesion["heatmap"]["file"])
    assert heat.geometry.is_close(image.geometry) and heat.shape_kji == image.shape_kji
    assert lesion["heatmap"]["method"] == "gradcam++"
    assert heat.array[0][mask[0]].max() > 0 and heat.array[0, :, 60:].max() == 0  # heat stays near the lesion
    segments = read_segmentation(folder / "lesions.seg.nrrd").on_grid(image.geometry, image.shape_kji).segments
    assert np.array_equal(segments[0].mask, mask) and segments[0].tags["BIRADS"] == "4A"
    assert (folder / "overlay_lesion_a.png").stat().st_size > 500


def test_two_classifiers_as_an_ensemble(tiny_bundles, phantom_us2d, tmp_path):
    """--ensemble: the lesion's probability is the mean of the two classifiers' (each kept too);
    two bundles of one recipe share a name, so the results name them by folder."""
    import torch

    from BreastUSAITraining.bundle import load_bundle, save_bundle

    first = load_bundle(tiny_bundles["planes_2d"])
    torch.manual_seed(3)
    other = {k: v + 0.05 * torch.randn_like(v) if v.is_floating_point() and k.endswith("weight") else v
             for k, v in first.state_dict.items()}
    second = save_bundle(tmp_path / "planes_2d_b", other, dict(first.metadata), first.inference)
    image = _first(phantom_us2d, "*_us_bmode.nrrd")
    mask = np.zeros(read_image(image).shape_kji, dtype=bool)
    mask[0, 20:40, 20:45] = True
    write_segmentation(tmp_path / "m.seg.nrrd", SegmentationData([Segment("lesion_1", mask)], read_image(image).geometry, mask.shape))
    args = ["predict", "--model", str(tiny_bundles["planes_2d"]), "--model", str(second), str(image),
            "--segmentation", str(tmp_path / "m.seg.nrrd"), "-q", "--no-overlays"]
    result = run_cli(*args, "--out", str(tmp_path / "o"), "--ensemble")
    assert result.returncode == 0, result.stderr
    (lesion,) = json.loads(next((tmp_path / "o").glob("*/result.json")).read_text())["lesions"]
    names = [f"{first.name} (planes_2d)", f"{first.name} (planes_2d_b)"]
    each = [lesion["classification"][name]["malignant_probability"] for name in names]
    assert each[0] != each[1]
    assert lesion["ensemble"]["models"] == names
    assert lesion["ensemble"]["malignant_probability"] == pytest.approx(np.mean(each), abs=1e-4)
    assert lesion["malignant_probability"] == lesion["ensemble"]["malignant_probability"]
    assert lesion["prediction"] == ("malignant" if np.mean(each) > lesion["ensemble"]["threshold"] else "benign")
    alone = run_cli("predict", "--model", str(second), str(image), "--segmentation", str(tmp_path / "m.seg.nrrd"),
                    "--out", str(tmp_path / "x"), "--ensemble", "-q")
    assert alone.returncode == 2 and "--ensemble" in alone.stderr


def test_predict_3d_segmentation_bundle_on_a_volume(tiny_bundles, phantom_abvs, tmp_path):
    source = _first(phantom_abvs, "*_abvs.nrrd")
    result = run_cli("predict", "--model", str(tiny_bundles["seg3d"]), str(source), "--out", str(tmp_path / "o"), "-q",
                     "--threshold", "0.01")
    assert result.returncode == 0, result.stderr
    document = json.loads(next((tmp_path / "o").glob("*/result.json")).read_text())
    assert document["models"][0]["task"] == "segmentation"
    volume = read_image(source)
    if document["lesions"]:
        seg = read_segmentation(next((tmp_path / "o").glob("*/lesions.seg.nrrd")))
        assert seg.on_grid(volume.geometry, volume.shape_kji).geometry.is_close(volume.geometry)


def test_no_lesion_found_is_reported_not_an_error(tiny_bundles, phantom_us2d, tmp_path):
    source = _first(phantom_us2d, "*_us_bmode.nrrd")
    result = run_cli("predict", "--model", str(tiny_bundles["seg2d"]), "--model", str(tiny_bundles["planes_2d"]),
                     str(source), "--out", str(tmp_path / "o"), "--threshold", "0.9999", "-q")
    assert result.returncode == 0, result.stderr
    document = json.loads(next((tmp_path / "o").glob("*/result.json")).read_text())
    assert document["lesions"] == [] and document["message"] == "no lesion found"
    assert "no lesion found" in result.stdout
    # the same image, known to hold a lesion: the most probable region, flagged, classified and saved
    known = run_cli("predict", "--model", str(tiny_bundles["seg2d"]), "--model", str(tiny_bundles["planes_2d"]),
                    str(source), "--out", str(tmp_path / "k"), "--threshold", "0.9999", "--expect-lesion", "-q")
    assert known.returncode == 0, known.stderr
    folder = next((tmp_path / "k").glob("*/result.json")).parent
    document = json.loads((folder / "result.json").read_text())
    [lesion] = document["lesions"]
    assert document["message"].startswith("below threshold") and document["lesion_source"]["below_threshold"]
    assert lesion["tags"]["BreastUSAI.Detection"].startswith("below threshold") and "malignant_probability" in lesion
    [segment] = read_segmentation(folder / "lesions.seg.nrrd").segments
    assert segment.tags["BreastUSAI.Detection"] == lesion["tags"]["BreastUSAI.Detection"]


def test_bad_inputs_give_clear_errors(tiny_bundles, phantom_us2d, phantom_abvs, tmp_path):
    bmode = _first(phantom_us2d, "*_us_bmode.nrrd")
    # wrong modality: a 2D image for a three-plane ABVS model
    wrong = run_cli("predict", "--model", str(tiny_bundles["seg2d"]), "--model", str(tiny_bundles["planes_tsc"]),
                    str(bmode), "--out", str(tmp_path / "o1"))
    assert wrong.returncode == 2 and "needs an ABVS volume" in wrong.stderr and bmode.name in wrong.stderr
    # an empty (blank) volume
    blank = ImageData(np.full((8, 16, 16), 7, np.uint8), Geometry())
    write_nrrd(blank, tmp_path / "blank.nrrd")
    empty = run_cli("predict", "--model", str(tiny_bundles["seg_abvs"]), str(tmp_path / "blank.nrrd"), "--out", str(tmp_path / "o2"))
    assert empty.returncode == 2 and "blank.nrrd: image is blank" in empty.stderr
    # no lesion source at all
    none = run_cli("predict", "--model", str(tiny_bundles["planes_2d"]), str(bmode), "--out", str(tmp_path / "o3"))
    assert none.returncode == 2 and "give a segmentation model" in none.stderr
    # an empty segment in a drawn mask
    image = read_image(bmode)
    write_segmentation(tmp_path / "empty.seg.nrrd", SegmentationData(
        [Segment("lesion_1", np.zeros(image.shape_kji, bool))], image.geometry, image.shape_kji))
    drawn = run_cli("predict", "--model", str(tiny_bundles["planes_2d"]), str(bmode), "--segmentation",
                    str(tmp_path / "empty.seg.nrrd"), "--out", str(tmp_path / "o4"))
    assert drawn.returncode == 2 and "empty.seg.nrrd" in drawn.stderr and "is empty" in drawn.stderr
    assert not any((tmp_path / "o4").iterdir())  # nothing half-written


def test_tampered_or_corrupt_bundles_are_refused(tiny_bundles, phantom_us2d, tmp_path):
    bmode = _first(phantom_us2d, "*_us_bmode.nrrd")
    changed = tmp_path / "changed"
    shutil.copytree(tiny_bundles["seg2d"], changed)
    weights = changed / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    result = run_cli("predict", "--model", str(changed), str(bmode), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "sha256 mismatch" in result.stderr and "model.pt" in result.stderr

    truncated = tmp_path / "truncated"
    shutil.copytree(tiny_bundles["seg2d"], truncated)
    (truncated / WEIGHTS).write_bytes((truncated / WEIGHTS).read_bytes()[:2000])
    meta = json.loads((truncated / METADATA).read_text())
    import hashlib

    meta["files"][WEIGHTS] = meta["weights_sha256"] = hashlib.sha256((truncated / WEIGHTS).read_bytes()).hexdigest()
    (truncated / METADATA).write_text(json.dumps(meta))
    result = run_cli("predict", "--model", str(truncated), str(bmode), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and "weights refused" in result.stderr

    missing = run_cli("predict", "--model", str(tmp_path / "nothing"), str(bmode), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and "model bundle folder not found" in missing.stderr


def test_a_folder_of_inputs_and_one_bad_file(tiny_bundles, phantom_us2d, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for path in sorted((phantom_us2d / "images").glob("*_us_bmode.nrrd"))[:2]:
        shutil.copy(path, folder / path.name)
    (folder / "broken.nrrd").write_bytes(b"NRRD0004\ntype: nonsense\n")
    result = run_cli("predict", "--model", str(tiny_bundles["seg2d"]), "--model", str(tiny_bundles["planes_2d"]),
                     str(folder), "--out", str(tmp_path / "o"), "--threshold", "0.2", "--progress", "json")
    assert result.returncode == 1 and "broken.nrrd" in result.stderr  # failed part-way: the other inputs are done
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1] == {"event": "finished", "succeeded": 2, "failed": 1, "fraction": 1.0}
    assert len(list((tmp_path / "o").glob("*/result.json"))) == 2


def test_predict_option_values_are_checked_before_anything_runs():
    from BreastUSAITraining.errors import UsageError
    from BreastUSAITraining.predict.clinical_args import parse_birads, parse_clinical
    from BreastUSAITraining.predict.companions import parse_companions

    assert parse_clinical(["age=52", "palpable=true", "shape=irregular"]) == {"age": 52, "palpable": True, "shape": "irregular"}
    assert parse_birads("4a") == "4A"
    assert parse_companions(["mg_cc=a.nrrd,a.seg.nrrd", "us_doppler=b.nrrd"]) == {"mg_cc": ("a.nrrd", "a.seg.nrrd"),
                                                                                  "us_doppler": ("b.nrrd", None)}
    for call, message in ((lambda: parse_birads("7"), "--birads"), (lambda: parse_clinical(["age"]), "NAME=VALUE"),
                          (lambda: parse_clinical(["weight=3"]), "--clinical weight"),
                          (lambda: parse_companions(["ct=x.nrrd"]), "--companion"),
                          (lambda: parse_companions(["mg_cc=a", "mg_cc=b"]), "given twice")):
        with pytest.raises(UsageError, match=message):
            call()
