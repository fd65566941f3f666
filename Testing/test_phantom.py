"""The phantom generator: deterministic, valid in the contract, clinically plausible."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from BreastUSAITraining.dataset import load_dataset
from BreastUSAITraining.dataset.validate import validate_dataset_folder
from BreastUSAITraining.imagefiles import read_image, read_segmentation
from BreastUSAITraining.phantom import KINDS, PhantomSettings, generate_phantom_dataset
from BreastUSAITraining.phantom.abvs import render_abvs
from BreastUSAITraining.phantom.lesion_traits import sample_traits
from BreastUSAITraining.phantom.presets import ABVS_SIZES


def arrays_of(folder):
    dataset = load_dataset(folder)
    out = {}
    for item in dataset.items:
        for rel in list(item.images.values()) + list(item.segmentation.values()):
            if rel in out:
                continue
            if rel.endswith(".seg.nrrd"):
                out[rel] = read_segmentation(dataset.path(rel)).union()
            else:
                out[rel] = read_image(dataset.path(rel), colour="keep").array
    return dataset, out


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    settings = PhantomSettings(kind="all", cases=5, seed=7)
    generate_phantom_dataset(tmp_path / "a", settings, progress=False)
    generate_phantom_dataset(tmp_path / "b", settings, progress=False)
    generate_phantom_dataset(tmp_path / "c", PhantomSettings(kind="all", cases=5, seed=8), progress=False)
    json_a = json.loads((tmp_path / "a" / "dataset.json").read_text())
    assert json_a == json.loads((tmp_path / "b" / "dataset.json").read_text())
    _, a = arrays_of(tmp_path / "a")
    _, b = arrays_of(tmp_path / "b")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    _, c = arrays_of(tmp_path / "c")
    shared = [k for k in a if k in c and a[k].shape == c[k].shape]
    assert shared and not any(np.array_equal(a[k], c[k]) for k in shared if not k.endswith(".seg.nrrd"))


EXPECTED_MODALITIES = {
    "us2d": {"us_bmode"},
    "multimodal": {"us_bmode", "us_doppler", "us_elastography"},
    "mg": {"us_bmode", "mg_cc", "mg_mlo"},
    "abvs": {"abvs"},
}


@pytest.mark.parametrize("kind", ["us2d", "multimodal", "mg", "abvs"])
def test_each_kind_is_a_valid_dataset_with_its_images(tmp_path, kind):
    folder = tmp_path / kind
    generate_phantom_dataset(folder, PhantomSettings(kind=kind, cases=10, seed=2), progress=False)
    assert validate_dataset_folder(folder, deep=True) == []
    dataset, arrays = arrays_of(folder)
    assert {m for item in dataset.items for m in item.images} == EXPECTED_MODALITIES[kind]
    assert {i.pathology for i in dataset.items} >= {"benign", "malignant"}
    assert dataset.split("test") and dataset.n_folds >= 2
    for item in dataset.items:
        if item.pathology == "normal":
            continue
        for modality, rel in item.images.items():
            image = arrays[rel]
            if modality in ("us_doppler", "us_elastography"):
                assert image.shape[-1] == 3 and image.dtype == np.uint8
            elif modality.startswith("mg"):
                assert image.dtype == np.uint16 and image.max() <= 4095
            else:
                assert image.dtype == np.uint8 and image.ndim == 3
            seg = read_segmentation(dataset.path(item.segmentation[modality]))
            lesion = seg.segment(item.segment)
            assert lesion.mask.shape == image.shape[:3] and lesion.mask.any()
            assert lesion.tags == {"pathology": item.pathology, "birads": item.birads}
            if modality in ("us_bmode", "abvs"):  # the lesion is darker than its surroundings
                grey = image if image.ndim == 3 else image[..., 0]
                assert grey[lesion.mask].mean() < grey[~seg.union()].mean()


def test_us2d_has_lesion_free_images_and_patients_with_two_lesions(tmp_path):
    generate_phantom_dataset(tmp_path / "d", PhantomSettings(kind="us2d", cases=40, seed=4), progress=False)
    dataset = load_dataset(tmp_path / "d")
    normals = [i for i in dataset.items if i.pathology == "normal"]
    assert normals and all(i.segment is None and i.lesion_id is None for i in normals)
    per_patient = Counter(i.patient_id for i in dataset.items)
    assert max(per_patient.values()) == 2
    for patient, count in per_patient.items():
        if count == 2:
            assert len({(i.split, i.fold) for i in dataset.items if i.patient_id == patient}) == 1


def test_abvs_geometry_and_shared_volumes(tmp_path):
    generate_phantom_dataset(tmp_path / "v", PhantomSettings(kind="abvs", cases=30, seed=1), progress=False)
    dataset = load_dataset(tmp_path / "v")
    image = read_image(dataset.path(dataset.items[0].images["abvs"]))
    shape, spacing = ABVS_SIZES["small"]
    assert image.array.shape == shape and np.allclose(image.geometry.spacing, spacing)
    volumes = Counter(i.images["abvs"] for i in dataset.items)
    assert max(volumes.values()) == 2  # some breasts hold two lesions
    two = next(path for path, n in volumes.items() if n == 2)
    segments = read_segmentation(dataset.path(next(i.segmentation["abvs"] for i in dataset.items if i.images["abvs"] == two)))
    assert segments.names() == ["lesion_1", "lesion_2"]
    assert not (segments.segments[0].mask & segments.segments[1].mask).any()


def test_full_size_preset_is_the_scanner_field_of_view():
    (k, j, i), (si, sj, sk) = ABVS_SIZES["full"]
    assert (i, j, k) == (843, 546, 318)
    assert np.allclose((i * si, j * sj, k * sk), (168.6, 60.06, 159.0))


def test_abvs_slices_do_not_depend_on_rendering_order():
    traits = [sample_traits(np.random.default_rng(3), True, 12)]
    a = render_abvs(11, traits, "small")
    b = render_abvs(11, traits, "small")
    assert np.array_equal(a.array, b.array) and np.array_equal(a.masks[0], b.masks[0])
    centre = np.round(np.argwhere(a.masks[0]).mean(axis=0)).astype(int)
    assert a.masks[0][tuple(centre)]


def test_lesion_traits_follow_the_clinical_picture():
    rng = np.random.default_rng(0)
    benign = [sample_traits(rng, False) for _ in range(400)]
    malignant = [sample_traits(rng, True) for _ in range(400)]

    def share(lesions, test):
        return sum(map(test, lesions)) / len(lesions)

    assert share(malignant, lambda t: t.shape == "irregular") > 0.6 > 0.25 > share(benign, lambda t: t.shape == "irregular")
    assert share(malignant, lambda t: t.posterior_features == "shadowing") > 0.5 > share(benign, lambda t: t.posterior_features == "shadowing")
    assert share(malignant, lambda t: t.orientation == "not_parallel") > share(benign, lambda t: t.orientation == "not_parallel")
    assert share(benign, lambda t: t.birads in ("2", "3", "4A")) > 0.8
    assert share(malignant, lambda t: t.birads in ("4B", "4C", "5")) > 0.7
    assert share(malignant, lambda t: t.birads in ("2", "3")) < 0.1  # some cancers look benign, few
    assert np.mean([t.age for t in malignant]) > np.mean([t.age for t in benign]) + 8
    assert all(t.clinical()["max_diameter_mm"] > 0 for t in benign + malignant)
    cysts = [t for t in benign if t.kind == "cyst"]
    assert cysts and all(t.echo_pattern == "anechoic" and t.posterior_features == "enhancement" for t in cysts)


def test_settings_are_checked():
    assert PhantomSettings(kind="pet").problems()
    assert PhantomSettings(cases=0).problems()
    assert PhantomSettings(abvs_size="huge").problems()
    assert all(not PhantomSettings(kind=k).problems() for k in KINDS)
