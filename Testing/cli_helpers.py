"""Run the real command line: in this process by default (``cli.main(argv)``, output captured, the
exit code returned - the same parser, handlers and exit codes as the console script, without a new
interpreter importing torch each time), or in a child process where a test needs one (a kill, a
clean import state, torchrun)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
from pathlib import Path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600, in_process: bool = True) -> subprocess.CompletedProcess:
    if not in_process:
        return subprocess.run([sys.executable, "-m", "BreastUSAITraining", *args],
                              capture_output=True, text=True, cwd=cwd, timeout=timeout)
    return _in_process(list(args), cwd)


def _in_process(argv: list[str], cwd: Path | None) -> subprocess.CompletedProcess:
    from BreastUSAITraining.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    environment, here = dict(os.environ), os.getcwd()
    threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except Exception:  # a bug: the process would print the traceback and exit 1
                traceback.print_exc()
                code = 1
    finally:
        os.chdir(here)
        os.environ.clear()
        os.environ.update(environment)
        if threads is not None:
            sys.modules["torch"].set_num_threads(threads)
    return subprocess.CompletedProcess(["breastusai", *argv], code, out.getvalue(), err.getvalue())
