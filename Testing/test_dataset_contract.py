"""The dataset contract: every rule reported with item and field, loaders, folds."""

from __future__ import annotations

import copy
import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from BreastUSAITraining.dataset import load_dataset, validate_document
from BreastUSAITraining.dataset.contract import Dataset, LesionItem, save_dataset
from BreastUSAITraining.dataset.folds import assign_folds, assign_test_split, link_groups
from BreastUSAITraining.dataset.loader import case_dicts, lesion_dicts
from BreastUSAITraining.dataset.validate import validate_dataset_folder
from BreastUSAITraining.errors import DatasetError, InputFileError
from BreastUSAITraining.geometry import Geometry
from BreastUSAITraining.imagefiles import ImageData, Segment, SegmentationData, write_nrrd, write_segmentation

GEOMETRY = Geometry((0.15, 0.15, 1.0))


def write_case(root: Path, case_id: str, lesions: int) -> tuple[str, str]:
    """A 2D B-mode image with ``lesions`` lesion segments; returns (image, segmentation) paths."""
    array = np.random.default_rng(len(case_id)).integers(0, 255, (1, 20, 24), dtype=np.uint8)
    image_rel = f"images/{case_id}.nrrd"
    seg_rel = f"segmentations/{case_id}.seg.nrrd"
    write_nrrd(ImageData(array, GEOMETRY), root / image_rel)
    segments = []
    for n in range(lesions):
        mask = np.zeros((1, 20, 24), bool)
        mask[0, 2 + 8 * n : 6 + 8 * n, 3:9] = True
        segments.append(Segment(f"lesion_{n + 1}", mask))
    write_segmentation(root / seg_rel, SegmentationData(segments, GEOMETRY, (1, 20, 24)))
    return image_rel, seg_rel


@pytest.fixture()
def small_dataset(tmp_path) -> Path:
    """Six cases: P1 has two images, case C3 two lesions, C6 is lesion-free; one test patient."""
    root = tmp_path / "ds"
    items = []
    plan = [("C1", "P1", "benign", 1), ("C2", "P1", "malignant", 1), ("C3", "P2", "benign", 2),
            ("C4", "P3", "malignant", 1), ("C5", "P4", "benign", 1), ("C6", "P5", "normal", 0)]
    for case, patient, pathology, lesions in plan:
        image_rel, seg_rel = write_case(root, case, lesions)
        common = dict(case_id=case, patient_id=patient, images={"us_bmode": image_rel}, segmentation={"us_bmode": seg_rel})
        if pathology == "normal":
            items.append(LesionItem(pathology="normal", fold=2, **common))
        for n in range(lesions):
            items.append(LesionItem(lesion_id=f"lesion_{n + 1}", segment=f"lesion_{n + 1}", pathology=pathology,
                                    birads="4A", clinical={"age": 50.0, "x_site": "A"},
                                    fold={"P1": 0, "P2": 1, "P3": None, "P4": 1}[patient],
                                    split="test" if patient == "P3" else "training", **common))
    save_dataset(Dataset(root, "small", items))
    return root


def edit(root: Path, change) -> list[str]:
    document = json.loads((root / "dataset.json").read_text())
    change(document)
    return [str(v) for v in validate_document(document, root)]


def test_valid_dataset_loads(small_dataset):
    dataset = load_dataset(small_dataset)
    assert len(dataset.items) == 7
    assert len(dataset.split("test")) == 1
    assert dataset.items[0].segmentation == {"us_bmode": "segmentations/C1.seg.nrrd"}
    assert validate_dataset_folder(small_dataset, deep=True) == []
    stored = json.loads((small_dataset / "dataset.json").read_text())
    assert stored["training"][0]["segmentation"] == "segmentations/C1.seg.nrrd"  # a string for the primary image


RULES = {
    "unknown modality": (lambda d: d["training"][0]["images"].update(us_cine="images/C1.nrrd"), "images.us_cine: unknown modality"),
    "parent path": (lambda d: d["training"][0]["images"].update(us_bmode="../outside.nrrd"), "may not leave the dataset folder"),
    "absolute path": (lambda d: d["training"][0]["images"].update(us_bmode="/etc/passwd"), "absolute path"),
    "backslash": (lambda d: d["training"][0]["images"].update(us_bmode="images\\C1.nrrd"), "use '/'"),
    "missing file": (lambda d: d["training"][0]["images"].update(us_bmode="images/none.nrrd"), "file not found: 'images/none.nrrd'"),
    "missing segment": (lambda d: d["training"][0].update(segment="lesion_7"), "segment 'lesion_7' not found"),
    "segment without file": (lambda d: d["training"][0].update(segmentation=None), "no segmentation file"),
    "normal with segment": (lambda d: [i.update(segment="lesion_1") for i in d["training"] if i["pathology"] == "normal"], "lesion-free) image has no lesion segment"),
    "lesion without id": (lambda d: d["training"][0].update(lesion_id=None), "lesion_id: required for a lesion"),
    "bad pathology": (lambda d: d["training"][0].update(pathology="suspicious"), "pathology: must be one of"),
    "bad birads": (lambda d: d["training"][0].update(birads=4), "birads: must be one of"),
    "unknown clinical": (lambda d: d["training"][0]["clinical"].update(bmi=22), "clinical.bmi: unknown clinical variable"),
    "clinical range": (lambda d: d["training"][0]["clinical"].update(age=140), "clinical.age: must be <= 110"),
    "clinical type": (lambda d: d["training"][0]["clinical"].update(menopause="yes"), "clinical.menopause: must be true/false"),
    "clinical category": (lambda d: d["training"][0]["clinical"].update(shape="star"), "clinical.shape: must be one of"),
    "negative fold": (lambda d: d["training"][0].update(fold=-1), "fold: must be a non-negative"),
    "test with fold": (lambda d: d["test"][0].update(fold=1), "test items belong to no cross-validation fold"),
    "train-only in test": (lambda d: d["test"][0].update(train_only=True), "may not sit in the test split"),
    "unknown field": (lambda d: d["training"][0].update(patient_name="DOE^JANE"), "patient_name: unknown field"),
    "bad case id": (lambda d: d["training"][0].update(case_id="C 1/../x"), "case_id: required; letters"),
    "schema version": (lambda d: d.update(schema_version="0.9"), "schema_version: must be '1.0'"),
    "labels": (lambda d: d.update(labels={"benign": 1, "malignant": 0}), "labels: must be"),
    "not a list": (lambda d: d.update(test={"a": 1}), "test: must be a list"),
    "not an item": (lambda d: d["training"].append("C9"), "must be a JSON object"),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_is_reported_with_item_and_field(small_dataset, rule):
    change, expected = RULES[rule]
    problems = edit(small_dataset, change)
    assert any(expected in p for p in problems), (rule, problems)


def test_item_is_named_in_the_violation(small_dataset):
    problems = edit(small_dataset, lambda d: d["training"][2].update(birads="7"))
    assert problems == ["training[2] (case C3, lesion lesion_1): birads: must be one of 0, 1, 2, 3, 4, 4A, 4B, 4C, 5, 6 (as text) or null, got '7'"]


def test_every_violation_is_collected_not_just_the_first(small_dataset):
    def many(d):
        d["training"][0]["birads"] = "9"
        d["training"][1]["pathology"] = "maybe"
        d["training"][2]["clinical"]["age"] = -3
        d["training"][4]["images"]["us_bmode"] = "../x.nrrd"
    assert len(edit(small_dataset, many)) == 4


def test_cross_item_rules(small_dataset):
    def patient_in_both_splits(d):
        d["test"][0]["patient_id"] = "P1"
    problems = edit(small_dataset, patient_in_both_splits)
    assert any("patient P1 has items in both training and test" in p for p in problems)

    def patient_over_two_folds(d):
        d["training"][1]["fold"] = 3
    problems = edit(small_dataset, patient_over_two_folds)
    assert any("patient P1 is spread over folds 0, 3" in p for p in problems)

    def duplicate_group_over_folds(d):
        d["training"][0]["dup_group"] = "g1"
        d["training"][4]["dup_group"] = "g1"
    problems = edit(small_dataset, duplicate_group_over_folds)
    assert any("duplicate group g1 is spread over folds" in p for p in problems)

    def duplicated_lesion(d):
        d["training"].append(copy.deepcopy(d["training"][0]))
    assert any("duplicate case/lesion pair" in p for p in edit(small_dataset, duplicated_lesion))

    def case_with_two_patients(d):
        d["training"][3]["patient_id"] = "P9"
    assert any("patient_id: differs from another lesion of the same case" in p for p in edit(small_dataset, case_with_two_patients))


def test_symlink_escaping_the_folder_is_refused(small_dataset, tmp_path):
    outside = tmp_path / "outside.nrrd"
    outside.write_bytes((small_dataset / "images" / "C1.nrrd").read_bytes())
    os.symlink(outside, small_dataset / "images" / "link.nrrd")
    problems = edit(small_dataset, lambda d: d["training"][0]["images"].update(us_bmode="images/link.nrrd"))
    assert any("resolves outside the dataset folder" in p for p in problems)


def test_load_raises_dataset_error_listing_violations(small_dataset):
    document = json.loads((small_dataset / "dataset.json").read_text())
    document["training"][0]["birads"] = "9"
    (small_dataset / "dataset.json").write_text(json.dumps(document))
    with pytest.raises(DatasetError) as info:
        load_dataset(small_dataset)
    assert "1 violation(s)" in str(info.value) and "birads" in str(info.value)


def test_broken_json_names_line_and_column(small_dataset):
    (small_dataset / "dataset.json").write_text('{"name": "x",\n "training": [,]}')
    with pytest.raises(InputFileError) as info:
        load_dataset(small_dataset)
    assert "invalid JSON at line 2" in str(info.value)
    with pytest.raises(InputFileError, match="dataset.json not found"):
        load_dataset(small_dataset / "images")


def test_deep_validation_catches_a_mask_on_another_grid(small_dataset):
    shifted = Geometry((0.15, 0.15, 1.0), (0.05, 0.0, 0.0))  # a third of a pixel off
    write_segmentation(small_dataset / "segmentations/C1.seg.nrrd",
                       SegmentationData([Segment("lesion_1", np.ones((1, 20, 24), bool))], shifted, (1, 20, 24)))
    assert validate_dataset_folder(small_dataset) == []  # the shallow check cannot see it
    problems = [str(v) for v in validate_dataset_folder(small_dataset, deep=True)]
    assert len(problems) == 1 and "off the voxel grid" in problems[0] and "C1" in problems[0]
    write_segmentation(small_dataset / "segmentations/C1.seg.nrrd",
                       SegmentationData([Segment("lesion_1", np.ones((1, 20, 30), bool))], GEOMETRY, (1, 20, 30)))
    problems = [str(v) for v in validate_dataset_folder(small_dataset, deep=True)]
    assert "outside the image" in problems[0]


def test_lesion_and_case_dicts(small_dataset):
    dataset = load_dataset(small_dataset)
    training = lesion_dicts(dataset, "training")
    assert [d["label"] for d in training] == [0, 1, 0, 0, 0]  # the normal image is not a lesion
    assert all(Path(d["image"]).is_file() and Path(d["segmentation"]).is_file() for d in training)
    assert training[0]["us_bmode"] == training[0]["image"] and training[0]["modality"] == "us_bmode"
    assert {d["case_id"] for d in lesion_dicts(dataset, folds=[1])} == {"C3", "C5"}
    assert {d["case_id"] for d in lesion_dicts(dataset, exclude_folds=[1])} == {"C1", "C2"}
    assert lesion_dicts(dataset, modalities=["us_doppler"]) == []
    assert [d["case_id"] for d in lesion_dicts(dataset, "test")] == ["C4"]
    cases = case_dicts(dataset, "training")
    assert [(c["case_id"], c["segments"]) for c in cases] == [
        ("C1", ["lesion_1"]), ("C2", ["lesion_1"]), ("C3", ["lesion_1", "lesion_2"]), ("C5", ["lesion_1"]), ("C6", [])]


def make_items(n_patients: int, dup_pairs: int = 0, conflict: bool = False) -> list[LesionItem]:
    rng = np.random.default_rng(5)
    items = []
    for p in range(n_patients):
        for lesion in range(1 + (p % 4 == 0)):
            items.append(LesionItem(case_id=f"C{p}-{lesion}", patient_id=f"P{p}", lesion_id="lesion_1",
                                    images={"us_bmode": f"i/{p}-{lesion}.nrrd"},
                                    pathology="malignant" if rng.random() < 0.35 else "benign"))
    for d in range(dup_pairs):  # link two different patients' images as near-duplicates
        items[2 * d].dup_group = items[2 * d + 7].dup_group = f"dup{d}"
    if conflict:
        items[3].train_only = True
    return items


def test_folds_keep_patients_and_duplicates_together_and_balance_classes():
    items = assign_folds(make_items(120, dup_pairs=10, conflict=True), n_folds=5, seed=1)
    for group in link_groups(items):
        assert len({items[i].fold for i in group}) == 1
    conflict_group = next(g for g in link_groups(items) if 3 in g)
    assert all(items[i].train_only and items[i].fold is None for i in conflict_group)
    per_fold = defaultdict(lambda: [0, 0])
    for item in items:
        if item.fold is not None:
            per_fold[item.fold][item.label] += 1
    assert sorted(per_fold) == [0, 1, 2, 3, 4]
    benign = [v[0] for v in per_fold.values()]
    malignant = [v[1] for v in per_fold.values()]
    assert max(benign) - min(benign) <= 3 and max(malignant) - min(malignant) <= 3
    assert [i.fold for i in assign_folds(make_items(120, 10, True), 5, seed=1)] == [i.fold for i in items]


def test_test_split_moves_whole_patients():
    items = assign_test_split(make_items(100), 0.2, seed=3)
    test_patients = {i.patient_id for i in items if i.split == "test"}
    train_patients = {i.patient_id for i in items if i.split == "training"}
    assert not test_patients & train_patients
    share = sum(i.split == "test" for i in items) / len(items)
    assert 0.15 < share < 0.25
    assert all(i.fold is None for i in items if i.split == "test")
