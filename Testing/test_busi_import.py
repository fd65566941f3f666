"""The BUSI adapter on the real shared data, run through the command line once."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter

import numpy as np
import pytest
from cli_helpers import run_cli
from PIL import Image

from BreastUSAITraining.dataset import load_dataset
from BreastUSAITraining.dataset.busi import import_busi
from BreastUSAITraining.errors import InputFileError
from BreastUSAITraining.imagefiles import read_image, read_segmentation


@pytest.fixture(scope="module")
def imported(busi_source, tmp_path_factory):
    out = tmp_path_factory.mktemp("busi") / "dataset"
    result = run_cli("dataset", "import-busi", str(busi_source), "--out", str(out), "-q")
    assert result.returncode == 0, result.stderr
    assert "Imported 626 BUSI images (351 benign, 169 malignant, 106 normal" in result.stdout
    return out


@pytest.fixture(scope="module")
def manifest(busi_source):
    with open(busi_source / "manifest.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_validate_and_summary_report_the_busi_counts(imported, manifest):
    assert run_cli("dataset", "validate", str(imported), "--deep").returncode == 0
    result = run_cli("dataset", "summary", str(imported))
    assert result.returncode == 0
    assert "Images: 626  (351 benign, 169 malignant, 106 normal)" in result.stdout
    summary = json.loads(run_cli("dataset", "summary", str(imported), "--json").stdout)
    groups = Counter(row["dup_group"] for row in manifest)
    assert summary["duplicate_groups"] == {
        "groups": len(groups),
        "groups_with_several_images": sum(n > 1 for n in groups.values()),
        "images_in_such_groups": sum(n for n in groups.values() if n > 1),
        "largest_group": max(groups.values()),
    }
    masks = Counter(row["label"] for row in manifest for _ in row["masks"].split(";") if row["label"] != "normal")
    assert summary["lesions_per_pathology"] == dict(masks)
    assert summary["train_only_images"] == sum(row["label_conflict"] == "1" for row in manifest)


def test_duplicate_groups_never_straddle_folds_and_conflicts_are_train_only(imported, manifest):
    dataset = load_dataset(imported)
    folds_per_group: dict[str, set] = {}
    for item in dataset.items:
        folds_per_group.setdefault(item.dup_group, set()).add(item.fold)
    assert all(len(f) == 1 for f in folds_per_group.values())
    conflicts = {row["case_id"] for row in manifest if row["label_conflict"] == "1"}
    for item in dataset.items:
        if item.case_id in conflicts:
            assert item.train_only and item.fold is None
        else:
            assert not item.train_only and item.fold in range(5)
    normal = [i for i in dataset.items if i.pathology == "normal"]
    assert len(normal) == 106 and all(i.segment is None and i.segmentation for i in normal)


def test_pixels_and_masks_match_the_source_pngs(imported, busi_source, manifest):
    row = next(r for r in manifest if len(r["masks"].split(";")) == 2)
    dataset = load_dataset(imported)
    item = next(i for i in dataset.items if i.case_id == row["case_id"])
    image = read_image(dataset.path(item.images["us_bmode"]))
    assert np.array_equal(image.plane, np.asarray(Image.open(busi_source / row["image"])))
    assert image.meta["spacing_known"] == "0"
    seg = read_segmentation(dataset.path(item.segmentation["us_bmode"]))
    assert seg.names() == ["lesion_1", "lesion_2"] and seg.geometry.is_close(image.geometry)
    for name, mask_file in zip(seg.names(), row["masks"].split(";")):
        assert np.array_equal(seg.segment(name).mask[0], np.asarray(Image.open(busi_source / mask_file)) > 0)
        assert seg.segment(name).tags["pathology"] == row["label"]


def fake_busi(tmp_path, busi_source, manifest, rows=4, chosen=None):
    root = tmp_path / "fake"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    chosen = chosen or manifest[:rows]
    for row in chosen:
        shutil.copy(busi_source / row["image"], root / row["image"])
        for mask in row["masks"].split(";"):
            shutil.copy(busi_source / mask, root / mask)
    with open(root / "manifest.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(manifest[0]))
        writer.writeheader()
        writer.writerows(chosen)
    return root, chosen


def test_broken_sources_are_reported(tmp_path, busi_source, manifest):
    root, chosen = fake_busi(tmp_path, busi_source, manifest)
    mask = root / chosen[0]["masks"].split(";")[0]
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(mask)
    with pytest.raises(InputFileError) as info:
        import_busi(root, tmp_path / "out", progress=False)
    assert str(mask) in str(info.value) and "mask is (10, 12) pixels" in str(info.value)
    assert not (tmp_path / "out").exists()  # nothing half-written
    (root / "manifest.csv").write_text("case_id,image\nx,y\n")
    with pytest.raises(InputFileError, match="missing column"):
        import_busi(root, tmp_path / "out", progress=False)
    with pytest.raises(InputFileError, match="BUSI source folder not found"):
        import_busi(tmp_path / "nowhere", tmp_path / "out", progress=False)


def test_empty_lesion_mask_is_an_error(tmp_path, busi_source, manifest):
    root, chosen = fake_busi(tmp_path, busi_source, manifest)
    mask_path = root / chosen[0]["masks"].split(";")[0]
    size = Image.open(mask_path).size
    Image.fromarray(np.zeros((size[1], size[0]), np.uint8)).save(mask_path)
    with pytest.raises(InputFileError, match="has no non-empty lesion mask"):
        import_busi(root, tmp_path / "out", n_folds=2, progress=False)


def _thirty_images(manifest) -> list[dict]:
    """A 30-image BUSI manifest for the training chain: 12 benign, 12 malignant (malignant_001 among
    them), 6 normal, whole duplicate groups only."""
    chosen, groups = [], set()
    for label, count in (("malignant", 12), ("benign", 12), ("normal", 6)):
        for row in manifest:
            same = [r for r in manifest if r["dup_group"] == row["dup_group"]]
            if row["label"] == label and row["dup_group"] not in groups and len(same) == 1 and row["label_conflict"] == "0":
                chosen.append(row)
                groups.add(row["dup_group"])
                if sum(r["label"] == label for r in chosen) == count:
                    break
    return chosen


def test_train_and_predict_on_real_busi(busi_source, manifest, tmp_path):
    """The headless chain on real data (30 real images, few steps: a smoke test, not an accuracy claim)."""
    source, _ = fake_busi(tmp_path, busi_source, manifest, chosen=_thirty_images(manifest))
    imported = tmp_path / "busi30"
    result = run_cli("dataset", "import-busi", str(source), "--out", str(imported), "-q")
    assert result.returncode == 0 and "Imported 30 BUSI images" in result.stdout, result.stdout + result.stderr
    seg = run_cli("train", "segmentation", "--data", str(imported), "--out", str(tmp_path / "seg"), "--size", "64",
                  "--channels", "8", "--epochs", "1", "--max-steps-per-epoch", "3", "--val-fold", "2", "-q")
    assert seg.returncode == 0, seg.stderr
    meta = json.loads((tmp_path / "seg" / "configs" / "metadata.json").read_text())
    data = meta["training"]["data"]
    fold2 = {i.case_id for i in load_dataset(imported).items if i.fold == 2}
    assert data["validation_cases"] == len(fold2) and data["normal_images_in_training"] > 0
    cls = run_cli("train", "abvs-planes", "--data", str(imported), "--out", str(tmp_path / "cls"), "--backbone", "resnet18",
                  "--size", "32", "--epochs", "1", "--max-steps-per-epoch", "3", "-q")
    assert cls.returncode == 0, cls.stderr
    meta = json.loads((tmp_path / "cls" / "configs" / "metadata.json").read_text())
    assert meta["inputs"]["image"]["planes"] == ["transverse"] and meta["training"]["data"]["modality"] == "us_bmode"
    fold0 = [i for i in load_dataset(imported).items if i.fold == 0 and i.pathology in ("benign", "malignant")]
    assert meta["training"]["data"]["validation_lesions"] == len(fold0)
    image = imported / "images" / "malignant_001.nrrd"
    pred = run_cli("predict", "--model", str(tmp_path / "cls"), str(image), "--segmentation",
                   str(imported / "segmentations" / "malignant_001.seg.nrrd"), "--out", str(tmp_path / "pred"), "-q")
    assert pred.returncode == 0, pred.stderr
    result = json.loads((tmp_path / "pred" / "malignant_001" / "result.json").read_text())
    assert len(result["lesions"]) == 1 and 0 <= result["lesions"][0]["malignant_probability"] <= 1
