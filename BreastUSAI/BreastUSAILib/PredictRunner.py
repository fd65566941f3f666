"""Run ``predict`` without freezing Slicer: a background process with progress, Cancel,
and a CPU / CUDA choice; or the same engine in this process, blocking (tests, batch).

Both runners take a :class:`PredictJob` and give the same thing back: the progress events
``predict --progress json`` prints (``start``, ``stage``, ``done``, ``error``, ``finished``),
the overall fraction, and a final state (``finished``, ``failed``, ``cancelled``). The
module's Widget polls :meth:`SubprocessRunner.poll` from a QTimer; nothing here imports Qt.

The background process is ``PythonSlicer -m BreastUSAITraining predict ...`` inside Slicer
(any Python with the engine elsewhere), in its own process group so Cancel stops it and
every child; CPU mode hides the GPUs (``CUDA_VISIBLE_DEVICES=-1``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ProcessTree import killTree, startHidden, terminateTree, treeAlive

ENGINE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding BreastUSAITraining (source checkout)
STATES = ("not started", "running", "finished", "failed", "cancelled")


@dataclass
class PredictJob:
    """What to run: inputs (files / folders), model bundles, output folder and options."""

    inputs: list[str]
    models: list[str]
    out: str
    device: str = "auto"
    segmentation: str | None = None
    extra: list[str] = field(default_factory=list)
    work: str | None = None  # the job's work folder (a copy of the image): deleted by the Logic's cleanup

    def arguments(self) -> list[str]:
        """The ``predict`` command-line arguments (after ``-m BreastUSAITraining``)."""
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        args = ["predict", *map(str, self.inputs)]
        for model in self.models:
            args += ["--model", str(model)]
        args += ["--out", str(self.out), "--progress", "json", "--device", self.device]
        if self.segmentation:
            args += ["--segmentation", str(self.segmentation)]
        return args + list(self.extra)

    def environment(self) -> dict[str, str]:
        """The child's environment: the engine importable, GPUs hidden in CPU mode."""
        env = dict(os.environ)
        if (ENGINE_ROOT / "BreastUSAITraining").is_dir():
            env["PYTHONPATH"] = os.pathsep.join([str(ENGINE_ROOT), *filter(None, [env.get("PYTHONPATH")])])
        if self.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = "-1"
        env["PYTHONUNBUFFERED"] = "1"
        return env


def stagePrediction(volume_node, bundle_paths: list, device: str = "auto", segmentation_node=None, out: str | None = None,
                    cam: str = "gradcam", clinical: dict | None = None, birads: str | None = None,
                    expect_lesion: bool = False) -> PredictJob:
    """Write the volume (and the reader's lesions, if given) to a fresh work folder and
    describe the ``predict`` run on them; the output goes to ``out`` or ``<work>/output``.
    ``expect_lesion``: the image is known to hold a lesion (``predict --expect-lesion``).

    The image file carries only voxels and geometry: no name or tag of the node."""
    import tempfile

    from BreastUSAITraining.imagefiles import ImageData, write_nrrd

    from .LesionMasks import saveSegmentationFile
    from .SceneVolumes import imageFromVolumeNode

    work = Path(tempfile.mkdtemp(prefix="breastusai-predict-"))
    image = imageFromVolumeNode(volume_node)
    input_path = write_nrrd(ImageData(image.array, image.geometry), work / "input.nrrd")
    segmentation = str(saveSegmentationFile(segmentation_node, work / "lesions_in.seg.nrrd")) if segmentation_node else None
    extra = ["--cam", cam] + [f"--clinical={name}={json.dumps(value) if not isinstance(value, str) else value}"
                              for name, value in (clinical or {}).items() if value is not None]
    if birads:
        extra += ["--birads", birads]
    if expect_lesion:
        extra.append("--expect-lesion")
    return PredictJob([str(input_path)], [str(p) for p in bundle_paths], str(out or work / "output"), device, segmentation,
                      extra, str(work))


def stageClassification(views: dict, lesion_name: str, bundle_paths: list, device: str = "auto",
                        clinical: dict | None = None, birads: str | None = None) -> PredictJob:
    """``predict`` on one drawn lesion, as *Classify selected lesion* runs it in the background:
    the lesion's first image as INPUT with only that lesion as ``--segmentation``, every other
    image of it (linked, co-registered) as ``--companion KIND=IMAGE``. ``views``: image kind ->
    (volume node, segmentation node, segment id). Files carry voxels and geometry only."""
    import tempfile

    from BreastUSAITraining.imagefiles import ImageData, Segment, SegmentationData, write_nrrd, write_segmentation

    from .LesionMasks import lesionMask
    from .SceneVolumes import imageFromVolumeNode

    if not views:
        raise ValueError("no image given for the lesion")
    work = Path(tempfile.mkdtemp(prefix="breastusai-classify-"))
    (kind, (volume, segmentation, segment_id)), *others = views.items()
    image = imageFromVolumeNode(volume)
    input_path = write_nrrd(ImageData(image.array, image.geometry), work / "input.nrrd")
    mask = lesionMask(segmentation, segment_id, volume)
    if not mask.any():
        raise ValueError(f"segment {segment_id!r} does not cover any pixel of {volume.GetName()!r}")
    seg_path = write_segmentation(work / "lesion.seg.nrrd",
                                  SegmentationData([Segment(lesion_name, mask)], image.geometry, image.shape_kji))
    extra = [f"--clinical={name}={json.dumps(value) if not isinstance(value, str) else value}"
             for name, value in (clinical or {}).items() if value is not None]
    if birads:
        extra += ["--birads", birads]
    for other_kind, (other_volume, _, _) in others:
        other = imageFromVolumeNode(other_volume)
        path = write_nrrd(ImageData(other.array, other.geometry), work / f"companion_{other_kind}.nrrd")
        extra += ["--companion", f"{other_kind}={path}"]
    return PredictJob([str(input_path)], [str(p) for p in bundle_paths], str(work / "output"), device, str(seg_path),
                      extra, str(work))


def backgroundPython() -> str:
    """``PythonSlicer`` when running inside Slicer, else this interpreter."""
    return shutil.which("PythonSlicer") or sys.executable


class _Progress:
    """Progress events -> state, fraction, messages (shared by both runners)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.fraction = 0.0
        self.state = "not started"
        self.errors: list[str] = []
        self.log: list[str] = []

    def take_line(self, line: str) -> dict[str, Any] | None:
        line = line.strip()
        if not line:
            return None
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            self.log.append(line)
            return None
        if not isinstance(event, dict) or "event" not in event:
            self.log.append(line)
            return None
        self.events.append(event)
        self.fraction = float(event.get("fraction", self.fraction))
        if event["event"] == "error":
            self.errors.append(f"{event.get('input')}: {event.get('message')}")
        return event

    def wait(self, timeout_s: float | None = None) -> str:
        """Block until the run ends (blocking mode: tests, batch); returns the final state. Past
        ``timeout_s`` the run is cancelled and TimeoutError raised. Uses the runner's ``poll``,
        ``cancel`` and ``waitStopped``."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while self.state == "running":
            self.poll()
            if deadline is not None and time.monotonic() > deadline:
                self.cancel()
                self.waitStopped()
                raise TimeoutError(f"predict did not finish within {timeout_s} s; it was cancelled")
            time.sleep(0.02)
        if self.state == "cancelled":
            self.waitStopped()
        return self.state

    @property
    def message(self) -> str:
        """One line for the panel's status label."""
        if self.state == "failed":
            return "Failed: " + ("; ".join(self.errors) or (self.log[-1] if self.log else "see the log"))
        if self.state == "cancelled":
            return "Cancelled"
        last = self.events[-1] if self.events else {}
        if last.get("event") == "stage":
            return f"{last['input']}: {last['stage']} ({self.fraction:.0%})"
        if last.get("event") == "finished":
            return f"Done: {last['succeeded']} input(s) analysed" + (f", {last['failed']} failed" if last["failed"] else "")
        return self.state.capitalize()


class SubprocessRunner(_Progress):
    """``predict`` in a background process; call :meth:`poll` from a timer, or :meth:`wait`."""

    def __init__(self, python: str | None = None) -> None:
        super().__init__()
        self.python = python or backgroundPython()
        self.process: subprocess.Popen | None = None
        self._stopping: list = []
        self._kill_at: float | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.returncode: int | None = None

    def start(self, job: PredictJob) -> None:
        if self.state == "running":
            raise RuntimeError("a prediction is already running")
        command = [self.python, "-m", "BreastUSAITraining", *job.arguments()]
        self.process = startHidden(command, job.environment())
        self._stopping, self._kill_at = [], None
        self.state = "running"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def poll(self) -> list[dict[str, Any]]:
        """New progress events since the last call (never blocks); updates ``state``. After
        :meth:`cancel`, a process tree still alive past the grace period is killed here."""
        if self._kill_at is not None and time.monotonic() >= self._kill_at and self.process is not None:
            killTree(self.process.pid, self._stopping)
            self._kill_at = None
        new = []
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._finish()
                break
            event = self.take_line(line)
            if event is not None:
                new.append(event)
        return new

    def _finish(self) -> None:
        assert self.process is not None
        self.returncode = self.process.wait()
        if self.state == "running":
            finished = any(e["event"] == "finished" for e in self.events)
            self.state = "finished" if finished else "failed"  # finished with some inputs failed: listed in errors
            if self.state == "finished":
                self.fraction = 1.0

    def cancel(self, grace_s: float = 2.0) -> None:
        """Stop the process and everything it started, on every platform, without blocking: the
        tree is asked to terminate now and killed by :meth:`poll` once ``grace_s`` has passed."""
        if self.process is None or self.process.poll() is not None:
            return
        self.state = "cancelled"
        self._stopping = terminateTree(self.process.pid)
        self._kill_at = time.monotonic() + grace_s

    def waitStopped(self, limit_s: float = 30.0) -> None:
        """After :meth:`cancel` (blocking mode, tests): poll until the whole tree has ended."""
        deadline = time.monotonic() + limit_s
        while self.process is not None and treeAlive(self.process.pid, self._stopping):
            self.poll()
            if time.monotonic() > deadline:
                raise TimeoutError("the cancelled prediction did not stop")
            time.sleep(0.05)
        if self.process is not None:
            self.returncode = self.process.wait()


class _LineSink(io.TextIOBase):
    def __init__(self, sink: _Progress) -> None:
        self.sink, self.buffer_ = sink, ""

    def write(self, text: str) -> int:
        self.buffer_ += text
        while "\n" in self.buffer_:
            line, self.buffer_ = self.buffer_.split("\n", 1)
            self.sink.take_line(line)
        return len(text)


class InProcessRunner(_Progress):
    """The same ``predict`` run by the engine in this process, blocking (tests and batch)."""

    def start(self, job: PredictJob) -> None:
        from BreastUSAITraining.cli.main import main

        self.state = "running"
        sink = _LineSink(self)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                main(job.arguments())
        except Exception as error:  # the engine's own errors carry the file and the problem
            self.errors.append(str(error))
            self.state = "failed"
            return
        sink.write("\n")
        finished = any(e["event"] == "finished" for e in self.events)
        self.state = "finished" if finished else "failed"
        if self.state == "finished":
            self.fraction = 1.0

    def poll(self) -> list[dict[str, Any]]:
        return []

    def cancel(self, grace_s: float = 0.0) -> None:
        """Nothing to stop: an in-process run has already ended when ``start`` returns."""

    def wait(self, timeout_s: float | None = None) -> str:
        return self.state
