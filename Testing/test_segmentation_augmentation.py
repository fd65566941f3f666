"""``train segmentation --augment``: a strength, or ``flips`` (left-right flips only, the plain
reference recipe the shipped segmentation must beat); bad values refused before any data is read."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from cli_helpers import run_cli

from BreastUSAITraining.cli.main import build_parser
from BreastUSAITraining.segmentation.augment import training_transforms_2d
from BreastUSAITraining.segmentation.family import FAMILY

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from release_recipes import PLAIN_SEGMENTATION_REFERENCE, recipe  # noqa: E402


def _sample(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (1, 32, 48)).astype(np.uint8)   # no symmetry: a flip is always visible
    label = np.zeros((1, 32, 48), dtype=np.uint8)
    label[0, 10:20, 5:15] = 1
    return {"image": image, "label": label}


def test_flips_only_gives_the_image_or_its_mirror_and_nothing_else():
    sample = _sample()
    unit = sample["image"].astype(np.float32) / 255.0
    transform = training_transforms_2d("flips")
    seen = set()
    for seed in range(40):
        transform.set_random_state(seed)
        out = transform(dict(sample))
        image, label = np.asarray(out["image"]), np.asarray(out["label"])
        if np.allclose(image, unit, atol=1e-6):
            seen.add("same")
            assert np.array_equal(label, sample["label"])
        else:
            assert np.allclose(image, unit[..., ::-1], atol=1e-6)          # left-right only, intensities untouched
            assert np.array_equal(label, sample["label"][..., ::-1])      # the outline follows
            seen.add("mirrored")
    assert seen == {"same", "mirrored"}


def test_a_strength_does_more_than_flip():
    sample = _sample()
    unit = sample["image"].astype(np.float32) / 255.0
    transform = training_transforms_2d(0.25)
    changed = 0
    for seed in range(20):
        transform.set_random_state(seed)
        image = np.asarray(transform(dict(sample))["image"])
        changed += not (np.allclose(image, unit, atol=1e-6) or np.allclose(image, unit[..., ::-1], atol=1e-6))
    assert changed >= 5


def test_the_plain_reference_and_the_shipped_recipe_parse_to_the_options_they_mean():
    parser = build_parser()
    common = ["--data", "d", "--out", "o"]
    reference = FAMILY.options(parser.parse_args(["train", *PLAIN_SEGMENTATION_REFERENCE, *common]), None)
    assert (reference.augment, reference.size, reference.include_normal, reference.arch) == ("flips", 256, False, "unet")
    assert reference.problems() == []
    shipped = FAMILY.options(parser.parse_args(["train", *recipe("lesion-segmentation").train, *common]), None)
    assert shipped.augment == 0.25 and shipped.problems() == []


def test_a_bad_augment_value_is_refused_with_its_name(tmp_path):
    for value in ("sideways", "-1"):
        result = run_cli("train", "segmentation", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "b"),
                         "--augment", value)
        assert result.returncode == 2
        assert "--augment" in result.stderr and value in result.stderr
        assert not (tmp_path / "b").exists()
