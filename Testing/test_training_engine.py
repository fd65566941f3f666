"""The training engine: bundles with metadata, atomic resumable checkpoints (a real SIGKILL),
exact resume on CPU, and data-parallel training with torchrun (2 CPU processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cli_helpers import run_cli

from BreastUSAITraining.bundle import load_bundle
from BreastUSAITraining.training.checkpoint import load_checkpoint
from BreastUSAITraining.training.task import TrainingTask

REPO = Path(__file__).resolve().parents[1]


def test_segmentation_bundle_records_training(tiny_bundles):
    bundle = load_bundle(tiny_bundles["seg2d"], task="segmentation")
    meta = bundle.metadata
    assert meta["training"]["epochs_run"] == 2 and meta["training"]["processes"] == 1
    assert 0.0 <= meta["metrics"]["validation_dice"] <= 1.0
    assert meta["training"]["data"]["val_fold"] == 0 and meta["training"]["data"]["training_cases"] > 0
    assert (bundle.root / "logs" / "training_log.csv").read_text().startswith("epoch,train_loss")
    assert (bundle.root / "logs" / "training_curves.png").stat().st_size > 1000
    assert bundle.inference["network"]["name"] == "segmentation"
    assert set(bundle.state_dict) and all(isinstance(v, torch.Tensor) for v in bundle.state_dict.values())


def _train_args(data: Path, out: Path, epochs: int, *extra: str) -> list[str]:
    return ["train", "segmentation", "--data", str(data), "--out", str(out), "--size", "64", "--channels", "8",
            "--epochs", str(epochs), "--batch-size", "4", "--seed", "7", "-q", *extra]


def test_existing_run_needs_resume_and_bundle_needs_overwrite(phantom_us2d, tmp_path):
    assert run_cli(*_train_args(phantom_us2d, tmp_path / "b", 1)).returncode == 0
    again = run_cli(*_train_args(phantom_us2d, tmp_path / "b", 1))
    assert again.returncode == 2 and "--overwrite" in again.stderr
    clash = run_cli(*_train_args(phantom_us2d, tmp_path / "b", 1, "--overwrite"))
    assert clash.returncode == 2 and "--resume" in clash.stderr


def test_killed_run_resumes_to_the_same_weights(phantom_us2d, tmp_path):
    """SIGKILL after the first epoch's checkpoint; --resume then ends with the weights of an
    uninterrupted run (per-epoch seeds, optimiser and scheduler state restored)."""
    epochs = 3
    straight = run_cli(*_train_args(phantom_us2d, tmp_path / "straight", epochs))
    assert straight.returncode == 0, straight.stderr

    bundle = tmp_path / "killed"
    last = tmp_path / "killed.run" / "checkpoints" / "last.pt"
    process = subprocess.Popen([sys.executable, "-m", "BreastUSAITraining", *_train_args(phantom_us2d, bundle, epochs)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if last.exists():
            try:
                if load_checkpoint(last)["epoch"] >= 1:
                    break
            except Exception:
                pass
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    state = load_checkpoint(last)  # whatever moment the kill hit, the checkpoint on disk is whole
    assert 1 <= state["epoch"] <= epochs
    if state["epoch"] == epochs and bundle.exists():
        pytest.skip("the run finished before the kill landed")
    resumed = run_cli(*_train_args(phantom_us2d, bundle, epochs, "--resume", "--overwrite"))
    assert resumed.returncode == 0, resumed.stderr
    a = load_bundle(tmp_path / "straight").state_dict
    b = load_bundle(bundle).state_dict
    assert load_bundle(bundle).metadata["training"]["resumed_from_epoch"] >= 1
    assert set(a) == set(b)
    for name in a:
        assert torch.equal(a[name], b[name]), name
    history = (tmp_path / "killed.run" / "training_log.csv").read_text().strip().splitlines()
    assert len(history) == epochs + 1


def test_resume_refuses_a_different_configuration(phantom_us2d, tmp_path):
    assert run_cli(*_train_args(phantom_us2d, tmp_path / "b", 1)).returncode == 0
    other = run_cli("train", "segmentation", "--data", str(phantom_us2d), "--out", str(tmp_path / "b"), "--size", "64",
                    "--channels", "16", "--epochs", "2", "--resume", "--overwrite", "-q")
    assert other.returncode == 2 and "different model or dataset configuration" in other.stderr


def test_training_goes_on_from_a_bundle_at_another_size(tiny_bundles, phantom_us2d, tmp_path):
    """Progressive resizing: the 64 px bundle's weights start a 96 px run (a learning rate of
    ~0 keeps them, so the new bundle's parameters equal the old ones); a bundle of another
    network or a damaged weights file is refused, naming the file."""
    start = load_bundle(tiny_bundles["seg2d"], task="segmentation")
    args = ["train", "segmentation", "--data", str(phantom_us2d), "--size", "96", "--epochs", "1", "--batch-size", "4",
            "--lr", "1e-12", "-q", "--weights", str(tiny_bundles["seg2d"]), "--max-steps-per-epoch", "2"]
    done = run_cli(*args, "--out", str(tmp_path / "b96"), "--channels", "8")
    assert done.returncode == 0, done.stderr
    grown = load_bundle(tmp_path / "b96", task="segmentation")
    assert grown.inference["input_size"] == [96, 96]
    assert grown.metadata["training"]["data"]["initial_weights"] == "seg2d"
    from BreastUSAITraining.networks.segmentation import build_segmentation_network

    parameters = {name for name, _ in build_segmentation_network("unet", 2, 8).named_parameters()}
    for name in parameters:
        assert torch.allclose(grown.state_dict[name], start.state_dict[name], atol=1e-6), name
    other = run_cli(*args, "--out", str(tmp_path / "b16"), "--channels", "16")
    assert other.returncode == 2 and "seg2d" in other.stderr and "--channels" in other.stderr
    damaged = tmp_path / "weights.pt"
    damaged.write_bytes(b"not a tensor file")
    bad = run_cli(*args[:-1], str(damaged), "--out", str(tmp_path / "bx"), "--channels", "8")
    assert bad.returncode == 2 and "weights.pt" in bad.stderr and not (tmp_path / "bx").exists()


def test_torchrun_two_processes_end_with_identical_weights(phantom_us2d, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "BreastUSAITraining",
               *_train_args(phantom_us2d, tmp_path / "ddp", 2)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((tmp_path / "ddp" / "configs" / "metadata.json").read_text())
    digests = meta["training"]["rank_weight_sha256"]
    assert meta["training"]["processes"] == 2 and len(digests) == 2
    assert digests[0] == digests[1]
    assert len((tmp_path / "ddp.run" / "training_log.csv").read_text().strip().splitlines()) == 3


class _FallingScoreTask(TrainingTask):
    """A linear model whose validation score falls every epoch (best at epoch 1), so the
    best and the last epoch hold different weights."""

    name, metric = "toy", "score"

    def __init__(self) -> None:
        self.epochs_validated = 0

    def build_model(self) -> torch.nn.Module:
        return torch.nn.Linear(3, 1)

    def training_data(self) -> torch.utils.data.TensorDataset:
        generator = torch.Generator().manual_seed(0)
        return torch.utils.data.TensorDataset(torch.randn(16, 3, generator=generator), torch.randn(16, 1, generator=generator))

    def set_epoch_seed(self, seed: int) -> None:
        pass

    def training_loss(self, model, batch, device):
        x, y = batch
        return torch.nn.functional.mse_loss(model(x.to(device)), y.to(device))

    def validate(self, model, device):
        self.epochs_validated += 1
        return {"score": 1.0 / self.epochs_validated}

    def fingerprint(self):
        return {"task": "toy"}


@pytest.mark.parametrize("keep, kept_epoch", [("best", 1), ("last", 3)])
def test_keep_chooses_the_best_or_the_last_epoch(tmp_path, keep, kept_epoch):
    """--keep best returns the highest-scoring epoch's weights; --keep last the final epoch's,
    whatever its score (cross-validation without choosing on the test fold)."""
    from BreastUSAITraining.training import TrainingSettings, train

    settings = TrainingSettings(run_dir=tmp_path / "run", epochs=3, batch_size=4, learning_rate=0.1, progress=False, keep=keep)
    result = train(_FallingScoreTask(), settings)
    assert result.best_epoch == kept_epoch and result.best_metric == pytest.approx(1.0 / kept_epoch)
    last = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["model"]
    same_as_last = all(torch.equal(value, last[name]) for name, value in result.model.state_dict().items())
    assert same_as_last == (keep == "last")
    with pytest.raises(Exception, match="--keep"):
        train(_FallingScoreTask(), TrainingSettings(run_dir=tmp_path / "bad", keep="worst"))


def test_keep_last_from_the_command_line(phantom_us2d, tmp_path):
    done = run_cli(*_train_args(phantom_us2d, tmp_path / "b", 2, "--keep", "last"))
    assert done.returncode == 0, done.stderr
    meta = load_bundle(tmp_path / "b").metadata
    assert meta["training"]["settings"]["keep"] == "last" and meta["training"]["best_epoch"] == 2
    # AMP is asked for by default but never runs on a CPU: the bundle says what the steps ran in
    assert meta["training"]["settings"]["amp"] is True and meta["training"]["mixed_precision"] == "off"


def _encoder_and_decoder_bn_momenta(bundle_dir: Path) -> tuple[set[float], set[float]]:
    from BreastUSAITraining.networks import build_network

    network = build_network(load_bundle(bundle_dir, task="segmentation").inference["network"])
    momenta = {part: {m.momentum for m in getattr(network, part).modules() if isinstance(m, torch.nn.BatchNorm2d)}
               for part in ("encoder", "decoder")}
    return momenta["encoder"], momenta["decoder"]


def test_flexible_unet_trains_predicts_on_the_input_grid_and_keeps_its_encoder_momentum(phantom_us2d, tmp_path):
    """`--arch flexunet-effb0` end to end: the bundle records the encoder's batch-norm momentum
    (0.1 by default, not MONAI's 0.01 that leaves a short run predicting nothing), rebuilds with
    it, predicts on an oblique image with outputs on that image's grid, and serves as --weights
    for a run with another momentum (it does not shape the weights); a momentum of 0 is refused."""
    from test_predict import _assert_sub_grid, _first, _oblique_copy

    flex = ["--arch", "flexunet-effb0", "--size", "64", "--batch-size", "4", "--seed", "3", "-q", "--max-steps-per-epoch", "4"]
    trained = run_cli("train", "segmentation", "--data", str(phantom_us2d), "--out", str(tmp_path / "flex"),
                      "--epochs", "2", *flex)
    assert trained.returncode == 0, trained.stderr
    arguments = load_bundle(tmp_path / "flex", task="segmentation").inference["network"]["arguments"]
    assert arguments["arch"] == "flexunet-effb0" and arguments["encoder_bn_momentum"] == 0.1
    assert _encoder_and_decoder_bn_momenta(tmp_path / "flex") == ({0.1}, {0.1})

    image = _oblique_copy(_first(phantom_us2d, "*_us_bmode.nrrd"), tmp_path / "bmode.nrrd")
    predicted = run_cli("predict", "--model", str(tmp_path / "flex"), str(tmp_path / "bmode.nrrd"), "--expect-lesion",
                        "--out", str(tmp_path / "out"), "-q")
    assert predicted.returncode == 0, predicted.stderr
    document = json.loads((tmp_path / "out" / "bmode" / "result.json").read_text())
    assert len(document["lesions"]) >= 1 and "flexunet-effb0" in document["lesion_source"]["model"]
    from BreastUSAITraining.imagefiles import read_segmentation

    lesions = read_segmentation(tmp_path / "out" / "bmode" / "lesions.seg.nrrd")
    _assert_sub_grid(lesions.geometry, image.geometry)  # the oblique image's spacing, direction and voxels
    whole = lesions.on_grid(image.geometry, image.shape_kji)
    assert whole.segments[0].mask.shape == image.shape_kji and whole.segments[0].mask.any()

    again = run_cli("train", "segmentation", "--data", str(phantom_us2d), "--out", str(tmp_path / "monai"),
                    "--epochs", "1", "--weights", str(tmp_path / "flex"), "--encoder-bn-momentum", "0.01", *flex)
    assert again.returncode == 0, again.stderr
    assert "encoder_bn_momentum" not in load_bundle(tmp_path / "monai", task="segmentation").inference["network"]["arguments"]
    assert _encoder_and_decoder_bn_momenta(tmp_path / "monai") == ({0.01}, {0.1})  # MONAI's own, as older bundles

    refused = run_cli("train", "segmentation", "--data", str(phantom_us2d), "--out", str(tmp_path / "zero"),
                      "--epochs", "1", "--encoder-bn-momentum", "0", *flex)
    assert refused.returncode == 2 and "--encoder-bn-momentum must be within (0, 1]" in refused.stderr
    assert not (tmp_path / "zero").exists()
