"""Speed and memory of ``predict``: one 2D image (a real BUSI image) and one full-size ABVS
phantom volume (843 x 546 x 318, 147 MB), seconds per stage and peak RSS.

Models have the product's default architectures with untrained weights (speed does not
depend on the weights; the segmenter's output layer is biased to background so that its
post-processing meets no spurious lesions, as a trained one would not): the 2D UNet (16 channels, 256 px) for segmentation and the
three-plane ResNet50 (224 px, 3 frames per plane) for classification. Each input runs
in a fresh process twice - segmentation model alone, then the classifier on the
ground-truth mask (so the lesions are the same whatever the untrained segmenter finds) -
and the stage times are combined: load, planes, classify, Grad-CAM and write (result.json,
lesions.seg.nrrd, heatmap NRRD, PNGs) from the second, segment from the first. The second
of two identical inputs is timed (warm caches). Peak RSS is the larger of the two processes.

    python benchmarks/predict_speed.py [--threads 2] [--device cpu|cuda] [--out FILE]

CPU figures go to ``results/predict_speed.json``, GPU figures to ``results/predict_speed_cuda.json``
(a GPU run never overwrites the CPU one); the README shows both.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from fold_files import save_json  # noqa: E402
from machine import machine_info  # noqa: E402


def default_result(device: str) -> Path:
    """Where a run on ``device`` is saved unless ``--out`` says otherwise: one file per device kind."""
    return HERE / "results" / ("predict_speed_cuda.json" if device.startswith("cuda") else "predict_speed.json")


def make_bundles(work: Path) -> tuple[Path, Path]:
    import torch
    from torch import nn

    from BreastUSAITraining.bundle import save_bundle
    from BreastUSAITraining.networks import build_network, network_config

    torch.manual_seed(0)
    seg_net = network_config("segmentation", arch="unet", spatial_dims=2, base_channels=16)
    cls_net = network_config("three_plane", planes="TSC", backbone="resnet50")
    segmenter = build_network(seg_net)
    output = [m for m in segmenter.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.out_channels == 2][-1]
    with torch.no_grad():  # untrained weights, output biased to background: no spurious lesions to post-process
        output.bias.copy_(torch.tensor([20.0, -20.0]))
    seg = save_bundle(work / "seg", segmenter.state_dict(), {"task": "segmentation", "name": "unet-2d-untrained"},
                      {"network": seg_net, "spatial": "2d", "input_size": [256, 256],
                       "postprocessing": {"threshold": 0.5, "min_size_mm": 4.0, "min_voxels": 50, "flip_tta": True}})
    cls = save_bundle(work / "cls", build_network(cls_net).state_dict(), {"task": "abvs-planes", "name": "three-plane-resnet50-untrained"},
                      {"network": cls_net, "planes": "TSC", "modality": "abvs", "size": 224, "frames": 3, "margin": 0.3,
                       "threshold": 0.5})
    cls2d_net = network_config("three_plane", planes="T", backbone="resnet50")
    cls2d = save_bundle(work / "cls2d", build_network(cls2d_net).state_dict(), {"task": "abvs-planes", "name": "single-plane-resnet50-untrained"},
                        {"network": cls2d_net, "planes": "T", "modality": "us_bmode", "size": 224, "frames": 1, "margin": 0.3,
                         "threshold": 0.5})
    small_net = network_config("three_plane", planes="T", backbone="resnet18")
    cls2d_small = save_bundle(work / "cls2d_small", build_network(small_net).state_dict(),
                              {"task": "abvs-planes", "name": "single-plane-resnet18-untrained"},
                              {"network": small_net, "planes": "T", "modality": "us_bmode", "size": 128, "frames": 1,
                               "margin": 0.3, "threshold": 0.5, "flip_tta": True})
    return seg, cls, cls2d, cls2d_small


def child(args: argparse.Namespace) -> None:
    """Run predict in this process on each input in turn (two copies of one image: the second is
    timed warm); print its timings and the peak RSS."""
    import torch

    torch.set_num_threads(args.threads)
    from BreastUSAITraining.predict import PredictOptions, predict_inputs

    started = time.perf_counter()
    for one in args.inputs:  # one call per input: --segmentation belongs to a single image
        results, failures = predict_inputs([one], PredictOptions(models=args.models, out=args.child_out, device=args.device,
                                                                 segmentation=args.mask, progress="none"))
        assert not failures, failures
    print(json.dumps({"timing": results[-1]["timing_s"], "lesions": len(results[-1]["lesions"]),
                      "wall_s": time.perf_counter() - started,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run_child(inputs: list[Path], models: list[Path], out: Path, threads: int, device: str, mask: Path | None = None) -> dict:
    command = [sys.executable, __file__, "--child", "--threads", str(threads), "--device", device, "--child-out", str(out),
               *[a for m in models for a in ("--models", str(m))], "--inputs", *map(str, inputs)]
    if mask is not None:
        command += ["--mask", str(mask)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(name: str, image: Path, mask: Path, seg: Path, cls: Path, work: Path, threads: int, device: str) -> dict:
    copies = []
    for n in (1, 2):
        copy = work / f"{name}_{n}{''.join(image.suffixes)}"
        shutil.copy(image, copy)
        copies.append(copy)
    segment = run_child(copies, [seg], work / f"out_{name}_seg", threads, device)
    classify = run_child(copies, [cls], work / f"out_{name}_cls", threads, device, mask)
    stages = {"load": classify["timing"]["load"], "segment": segment["timing"]["segment"],
              "planes": classify["timing"]["planes"], "classify": classify["timing"]["classify"],
              "explain (Grad-CAM)": classify["timing"]["explain"],
              "write": classify["timing"]["write"]}
    return {"stages_s": stages, "total_s": sum(stages.values()), "lesions": classify["lesions"],
            "peak_rss_mb": max(segment["peak_rss_mb"], classify["peak_rss_mb"]),
            "peak_rss_mb_segmentation_process": segment["peak_rss_mb"],
            "peak_rss_mb_classifier_process": classify["peak_rss_mb"],
            "segmentation_process_lesions": segment["lesions"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2, the issue's CPU setting)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                        help="cpu or cuda; the result file is named after it (default: cpu)")
    parser.add_argument("--busi", default=str(REPO.parent / "shared" / "data" / "busi"),
                        help="BUSI source folder: the real 2D image timed is taken from it")
    parser.add_argument("--out", help="result JSON (default: results/predict_speed.json on cpu, results/predict_speed_cuda.json on cuda)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    parser.add_argument("--models", action="append", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--mask", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0

    import numpy as np
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: this machine has no CUDA GPU that torch can use")

    from BreastUSAITraining.dataset.busi import import_busi
    from BreastUSAITraining.imagefiles import ImageData, Segment, SegmentationData, write_nrrd, write_segmentation
    from BreastUSAITraining.phantom.abvs import render_abvs
    from BreastUSAITraining.phantom.lesion_traits import sample_traits

    work = Path(tempfile.mkdtemp(prefix="predict-speed-"))
    seg, cls, cls2d, cls2d_small = make_bundles(work)
    # 2D: a real BUSI image (malignant_001) with its radiologist mask
    import_busi(args.busi, work / "busi", progress=False)
    busi_image = work / "busi" / "images" / "malignant_001.nrrd"
    busi_mask = work / "busi" / "segmentations" / "malignant_001.seg.nrrd"
    # ABVS: a full-size phantom volume with one malignant lesion
    volume = render_abvs(11, [sample_traits(np.random.default_rng(4), True, 25)], "full")
    abvs_image, abvs_mask = work / "abvs_full.nrrd", work / "abvs_full.seg.nrrd"
    write_nrrd(ImageData(volume.array, volume.geometry), abvs_image)
    write_segmentation(abvs_mask, SegmentationData([Segment("lesion_1", volume.masks[0])], volume.geometry, volume.array.shape))
    del volume
    results = {
        "machine": machine_info(), "threads": args.threads, "device": args.device,
        "models": {"segmentation": "MONAI UNet 2D, 16 channels, 256 px, flip TTA",
                   "classifier_abvs": "three-plane ResNet50 (T+S+C), 224 px, 3 frames per plane",
                   "classifier_2d": "single-plane ResNet50, 224 px",
                   "classifier_2d_small": "single-plane ResNet-18, 128 px, flip TTA"},
        "image_2d": {"input": "BUSI malignant_001", **measure("busi", busi_image, busi_mask, seg, cls2d, work, args.threads, args.device)},
        "image_2d_resnet18": {"input": "BUSI malignant_001, classifier ResNet-18 128 px (the BUSI benchmark's)",
                              **measure("busi18", busi_image, busi_mask, seg, cls2d_small, work, args.threads, args.device)},
        "abvs_full": {"input": "phantom ABVS 843 x 546 x 318 uint8 (147 MB)",
                      **measure("abvs", abvs_image, abvs_mask, seg, cls, work, args.threads, args.device)},
    }
    save_json(Path(args.out) if args.out else default_result(args.device), results)
    print(json.dumps(results, indent=1))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
