"""A warm background worker for the module's AI runs: one ``breastusai worker`` process kept alive
between runs (models loaded once), requests and progress over its stdin / stdout.

:class:`PredictWorker` owns the process: started on the first run, started again when it has died,
been cancelled, or when a run needs another environment (CPU-only hides the GPUs); stopped with the
module. :class:`WorkerRunner` is one run on it, with the same interface as the one-process
:class:`~.PredictRunner.SubprocessRunner` (``start``, ``poll``, ``cancel``, ``wait``, ``state``,
``fraction``, ``message``), so the Logic and the panel treat both alike. Nothing here imports Qt.
"""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import threading
import time
from typing import Any

from .PredictRunner import PredictJob, _Progress, backgroundPython
from .ProcessTree import killTree, startHidden, terminateTree, treeAlive


class PredictWorker:
    """The long-lived ``breastusai worker`` process and the lines it prints."""

    def __init__(self, python: str | None = None) -> None:
        self.python = python or backgroundPython()
        self.process: subprocess.Popen | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.environment: dict[str, str] | None = None
        self._numbers = itertools.count(1)
        self._stopping: list = []
        self._kill_at: float | None = None
        self.starts = 0  # how many processes were started (a test and the benchmark read it)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and self._kill_at is None

    def terminate(self, grace_s: float = 2.0) -> None:
        """Cancel, without blocking: the worker's process tree is asked to stop now and killed by
        :meth:`reap` once ``grace_s`` has passed."""
        if self.process is None or self._kill_at is not None:
            return
        self._stopping = terminateTree(self.process.pid)
        self._kill_at = time.monotonic() + grace_s

    def reap(self) -> None:
        """Kill a terminated worker whose grace period has passed (called from polls)."""
        if self._kill_at is not None and time.monotonic() >= self._kill_at and self.process is not None:
            killTree(self.process.pid, self._stopping)

    def waitGone(self, limit_s: float = 30.0) -> None:
        """Block until a terminated worker and everything it started have ended."""
        if self.process is None:
            return
        deadline = time.monotonic() + limit_s
        while treeAlive(self.process.pid, self._stopping):
            self.reap()
            if time.monotonic() > deadline:
                killTree(self.process.pid, self._stopping)
                break
            time.sleep(0.05)
        self.process.wait()
        self.process, self._kill_at, self._stopping = None, None, []

    def ensure(self, environment: dict[str, str]) -> None:
        """A running worker with this environment (a new one if none, dead, or another environment)."""
        if self.alive and environment == self.environment:
            return
        if self._kill_at is not None:
            self.waitGone()
        self.stop()
        command = [self.python, "-m", "BreastUSAITraining", "worker"]
        process = startHidden(command, environment, stdin=subprocess.PIPE)
        self.process, self.environment, self.lines = process, dict(environment), queue.Queue()
        self.starts += 1
        lines = self.lines
        threading.Thread(target=self._read, args=(process, lines), daemon=True).start()

    @staticmethod
    def _read(process: subprocess.Popen, lines: queue.Queue) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)  # the process ended

    def send(self, arguments: list[str]) -> int:
        """Queue a predict request; returns its id."""
        assert self.process is not None and self.process.stdin is not None
        number = next(self._numbers)
        self.process.stdin.write(json.dumps({"id": number, "argv": list(arguments)}) + "\n")
        self.process.stdin.flush()
        return number

    def stop(self) -> None:
        """End the worker (the module closes): close its input, then make sure it is gone."""
        if self.process is None:
            return
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.process.poll() is None or self._kill_at is not None:
            self.terminate(grace_s=1.0)
            self.waitGone()
        self.process = None


class WorkerRunner(_Progress):
    """One ``predict`` run on a :class:`PredictWorker`."""

    def __init__(self, worker: PredictWorker) -> None:
        super().__init__()
        self.worker = worker
        self.request: int | None = None
        self.returncode: int | None = None

    def start(self, job: PredictJob) -> None:
        if self.state == "running":
            raise RuntimeError("a prediction is already running")
        self.worker.ensure(job.environment())
        self.state = "running"
        self.request = self.worker.send(job.arguments())

    def poll(self) -> list[dict[str, Any]]:
        """New progress events of this run (never blocks); updates ``state``."""
        new: list[dict[str, Any]] = []
        self.worker.reap()
        if self.state != "running":
            return new
        while True:
            try:
                line = self.worker.lines.get_nowait()
            except queue.Empty:
                break
            if line is None:  # the worker died mid-run (killed, crashed): the run failed, the next one restarts it
                self.log.append("the background worker stopped")
                self.state = "failed"
                break
            event = self.take_line(line)
            if event is None:
                continue
            if event["event"] == "request_done" and event.get("id") == self.request:
                self.events.pop()  # not a predict event
                self.returncode = int(event.get("exit_code", 1))
                finished = any(e["event"] == "finished" for e in self.events)
                self.state = "finished" if finished else "failed"
                if event.get("message"):
                    self.errors.append(event["message"])
                if self.state == "finished":
                    self.fraction = 1.0
                break
            new.append(event)
        return new

    def cancel(self, grace_s: float = 2.0) -> None:
        """Stop the run: the worker (and anything it started) is stopped; the next run starts a fresh one."""
        if self.state != "running":
            return
        self.state = "cancelled"
        self.worker.terminate(grace_s)

    def waitStopped(self, limit_s: float = 30.0) -> None:
        """After :meth:`cancel` (blocking mode, tests, module cleanup): wait until the worker is gone."""
        self.worker.waitGone(limit_s)
