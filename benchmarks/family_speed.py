"""Training throughput and prediction latency of every model family (issue 4 benchmark).

Each family is trained by its own ``train_*`` function for 2 epochs on phantom data at
the papers' input size, through the real training engine (data loading, augmentation,
loss, optimiser step); throughput is the second epoch's training images per second
(the first one warms up). Latency is the time of one lesion through the bundle's own
predictor (what ``predict`` and the Slicer module call), median of ``--repeats`` after
two warm-up calls. Since issue 18 every row trains through its registered family (``train``'s own
parser) and the latency is ``predict(LesionInput)`` of the family's predictor, which includes
cropping the lesion from its image as ``predict`` does; ``results/family_speed.json`` was measured
before, on pre-cropped lesions (the crop is not in those figures) - re-run to refresh it. Run it on a CPU machine and on a GPU machine; results are kept per
device.

    python benchmarks/family_speed.py [--families ...] [--device auto|cpu|cuda] [--threads N]
        [--lesions 48] [--repeats 10]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from fold_files import save_json  # noqa: E402
from machine import machine_info  # noqa: E402

RESULT = HERE / "results" / "family_speed.json"
#: benchmark row -> (phantom kind, input size, the family's ``train`` options, description). Each row is
#: trained through its registered family (``train <family> ...``, parsed by the real CLI parser).
FAMILIES = {
    "segmentation-unet": ("us2d", 256, ["segmentation", "--channels", "16"], "MONAI UNet (16 base channels), 2D, 256 x 256"),
    "three-plane-resnet50": ("abvs", 224, ["abvs-planes", "--backbone", "resnet50"],
                             "three-plane ResNet50 fusion (T+S+C), 224 x 224, 3 frames per plane"),
    "single-plane-resnet18": ("us2d", 224, ["abvs-planes", "--backbone", "resnet18"],
                              "single-plane ResNet-18 on lesion crops, 224 x 224"),
    "mupnet-bmode": ("us2d", 224, ["mupnet", "--modalities", "us_bmode", "--warmup", "0", "--push-every", "2"],
                     "MUP-Net, B-mode only (M = 1), ResNet-18, 224 x 224"),
    "mupnet-3-modalities": ("multimodal", 224, ["mupnet", "--warmup", "0", "--push-every", "2"],
                            "MUP-Net, B-mode + Doppler + elastography (M = 3), 224 x 224"),
    "dlum": ("mg", 224, ["dlum"], "DL-UM, VGG19-style US + MG branches, 224 x 224"),
    "cldlr-vgg11": ("us2d", 224, ["dlr", "--kind", "cldlr"], "CLDLR: VGG11 features + clinical data -> SVM, 224 x 224"),
    "dlr-resnet50": ("us2d", 224, ["dlr", "--kind", "lh"], "DLR_LH: ResNet50 embedding + age -> MLP, 224 x 224"),
}


def _phantom(work: Path, kind: str, lesions: int, size: int) -> Path:
    from BreastUSAITraining.phantom import PhantomSettings, generate_phantom_dataset

    folder = work / f"{kind}_{lesions}_{size}"
    if not (folder / "dataset.json").is_file():
        extra = {} if kind == "abvs" else {"image_size": max(size, 128)}
        generate_phantom_dataset(folder, PhantomSettings(kind=kind, cases=lesions, seed=5, **extra), progress=False)
    return folder


def _train(options: list[str], data: Path, out: Path, size: int, settings) -> Path:
    """Train one benchmark row through its registered family, options parsed by the real ``train`` parser."""
    from BreastUSAITraining.cli.main import build_parser
    from BreastUSAITraining.families import family_named

    args = build_parser().parse_args(["train", *options, "--data", str(data), "--out", str(out), "--size", str(size),
                                      "--overwrite"])
    args.val_fold = int(args.val_fold)
    return family_named(options[0]).train(args, settings)


def _latency(bundle: Path, data: Path, device, repeats: int) -> float:
    """Median seconds of one lesion through the bundle's family predictor (the path ``predict``,
    ``evaluate`` and the Slicer module take; a segmenter: one image segmented into lesions)."""
    from BreastUSAITraining.bundle import load_bundle
    from BreastUSAITraining.dataset import load_dataset
    from BreastUSAITraining.dataset.loader import lesion_dicts
    from BreastUSAITraining.families import SEGMENTATION, family_for_task
    from BreastUSAITraining.families.dataset_lesions import lesion_from_item
    from BreastUSAITraining.imagefiles import read_image

    loaded = load_bundle(bundle)
    family = family_for_task(loaded.task)
    model = family.load_predictor(loaded, device)
    dataset = load_dataset(data)
    items = lesion_dicts(dataset, "training") + lesion_dicts(dataset, "test")
    if family.role == SEGMENTATION:
        image = read_image(items[0]["image"])
        call = lambda: model.lesions(image, model.probability(image))  # noqa: E731
    else:
        item = next(i for i in items if all(k in i or k == i["modality"] for k in model.kinds))
        lesion = lesion_from_item(item, model.kinds)
        call = lambda: model.predict(lesion)  # noqa: E731
    for _ in range(2):
        call()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            import torch

            torch.cuda.synchronize()
        started = time.perf_counter()
        call()
        if device.type == "cuda":
            import torch

            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES), help="families to measure")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="auto (CUDA when present) | cpu | cuda; results are kept per device (default: auto)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    parser.add_argument("--lesions", type=int, default=48, help="phantom lesions to train on")
    parser.add_argument("--batch-size", type=int, default=8, help="training batch size (default: 8, as the committed figures)")
    parser.add_argument("--repeats", type=int, default=10, help="timed prediction calls per family")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "breastusai-family-speed"), help="work folder")
    parser.add_argument("--out", default=str(RESULT), help="result JSON (results of other devices are kept)")
    args = parser.parse_args()
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: this machine has no CUDA GPU that torch can use")
    if args.threads:
        torch.set_num_threads(args.threads)
    from BreastUSAITraining.training import TrainingSettings
    from BreastUSAITraining.training.device import resolve_device

    device = resolve_device(args.device)
    work = Path(args.work)
    out = Path(args.out)
    document = json.loads(out.read_text()) if out.is_file() else {"devices": {}}
    key = "cuda" if device.type == "cuda" else "cpu"
    entry = document["devices"].setdefault(key, {"families": {}})
    entry["machine"] = machine_info()
    for family in args.families:
        kind, size, options, words = FAMILIES[family]
        data = _phantom(work, kind, args.lesions, size)
        run_dir = work / f"{family}.run"
        shutil.rmtree(run_dir, ignore_errors=True)  # a fresh run each time (no --resume)
        settings = TrainingSettings(run_dir=run_dir, epochs=2, batch_size=args.batch_size, device=args.device, progress=False)
        bundle = _train(options, data, work / f"{family}_bundle", size, settings)
        history = json.loads((Path(bundle) / "configs" / "metadata.json").read_text())["training"]
        log = (Path(settings.run_dir) / "training_log.csv").read_text().strip().splitlines()
        header = log[0].split(",")
        last = dict(zip(header, log[-1].split(",")))
        latency = _latency(Path(bundle), data, device, args.repeats)
        entry["families"][family] = {"what": words, "train_images_per_s": round(float(last["train_samples_per_s"]), 2),
                                     "predict_latency_ms": round(1000 * latency, 1), "batch_size": args.batch_size,
                                     "device": history.get("device"), "mixed_precision": history.get("mixed_precision", "off")}
        print(f"{family:24s} train {float(last['train_samples_per_s']):7.1f} images/s   predict {1000 * latency:8.1f} ms/lesion")
        save_json(out, document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
