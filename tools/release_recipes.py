"""The recipes of the shipped models, in one place: ``tools/release_models.py`` (``make models``)
trains the release bundles with them, and the release benchmarks (``benchmarks/release_*.py``)
cross-validate the very same recipes.

Each recipe is the argument list of ``python -m BreastUSAITraining train ...`` without
``--data``, ``--out``, ``--run-dir``, ``--val-fold`` and ``--keep`` (set by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The release training data: BUSI + BUS-BRA development parts, less the sample images.
SAMPLE_HOLD_OUT = "Resources/SampleData/holdout_cases.txt"


@dataclass(frozen=True)
class Recipe:
    """One shipped model: its folder name, data, training arguments and catalogue entry."""

    name: str
    data: str                      # "release" (BUSI + BUS-BRA) or "phantom-abvs"
    train: tuple[str, ...]
    image_kinds: tuple[str, ...]
    role: str
    synthetic_only: bool
    summary: str
    #: which weights are stored in float16 (name parts; "" = every kernel and matrix, () = none): chosen so
    #: that no probability on the sample images moves by more than 1e-3 (tools/release_models.py checks it)
    float16: tuple[str, ...] = ("",)


RECIPES: tuple[Recipe, ...] = (
    Recipe("lesion-segmentation", "release",
           ("segmentation", "--arch", "unet", "--size", "256", "--epochs", "15", "--batch-size", "8", "--augment", "0.25",
            "--no-normal", "--seed", "0"),
           ("us_bmode",), "segmentation", False,
           "Outlines breast lesions on 2D B-mode images (MONAI UNet, 256 px; BUSI + BUS-BRA).",
           ()),  # float16 moved a small lesion's outline on a sample image: float32 (6.5 MB)
    Recipe("lesion-classifier", "release",
           ("abvs-planes", "--backbone", "resnet18", "--size", "96", "--epochs", "20", "--batch-size", "32", "--lr", "1e-3",
            "--optimiser", "adamw", "--seed", "0"),
           ("us_bmode",), "classifier", False,
           "Benign vs malignant probability of each outlined lesion, with a Grad-CAM heatmap (ResNet-18 on lesion crops; "
           "BUSI + BUS-BRA)."),
    Recipe("bmode-mupnet", "release",
           ("mupnet", "--modalities", "us_bmode", "--backbone", "resnet18", "--size", "96", "--epochs", "20", "--warmup", "3",
            "--push-every", "5", "--prototypes", "10", "--batch-size", "32", "--lr", "1e-3", "--seed", "0"),
           ("us_bmode",), "prototypes", False,
           "MUP-Net on B-mode: the lesion's probability explained by the training-lesion patches it resembles.",
           ("stages.3",)),  # all-float16 moved a probability by 0.003; the last stage alone by 1e-4
    Recipe("phantom-abvs-segmentation", "phantom-abvs",
           ("segmentation", "--modality", "abvs", "--arch", "unet", "--size", "128", "--channels", "16", "--epochs", "10",
            "--batch-size", "16", "--seed", "0"),
           ("abvs",), "segmentation", True,
           "SYNTHETIC ONLY: outlines lesions in phantom ABVS volumes (2D UNet, slice by slice), to show the ABVS path.",
           ()),
    Recipe("phantom-abvs-planes", "phantom-abvs",
           ("abvs-planes", "--planes", "TSC", "--backbone", "resnet18", "--width", "0.25", "--size", "64", "--frames", "3",
            "--epochs", "30", "--batch-size", "8", "--lr", "1e-3", "--optimiser", "adamw", "--seed", "0"),
           ("abvs",), "classifier", True,
           "SYNTHETIC ONLY: three-plane (T+S+C) classifier of phantom ABVS lesions, to show the ABVS path."),
)

#: The plain reference the shipped segmentation recipe must beat (issue 19; issue 3's reference at the review's
#: 256 px): MONAI UNet, 30 epochs, left-right flips only, no normal images. Cross-validated on the same folds
#: by ``benchmarks/release_segmentation_cv.py --recipe plain-reference``; never shipped.
PLAIN_SEGMENTATION_REFERENCE = ("segmentation", "--arch", "unet", "--size", "256", "--epochs", "30", "--batch-size", "8",
                                "--augment", "flips", "--no-normal", "--seed", "0")

#: The phantom ABVS training data: ``phantom --kind abvs`` with these arguments.
PHANTOM_ABVS = ("--kind", "abvs", "--cases", "60", "--abvs-size", "medium", "--seed", "7")


def recipe(name: str) -> Recipe:
    for found in RECIPES:
        if found.name == name:
            return found
    raise KeyError(name)
