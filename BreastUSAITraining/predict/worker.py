"""``breastusai worker``: ``predict`` requests over stdin / stdout in one long-lived process, the
models kept loaded between requests - what the Slicer module's *Run AI* talks to, so a second
click costs the network's time, not a Python start, the torch import and the model loading.

Protocol, one JSON object per line:

* in (stdin): ``{"id": 7, "argv": ["predict", INPUT..., "--model", ..., "--out", DIR, "--progress", "json", ...]}``
  - exactly the arguments of the ``predict`` command;
* out (stdout): that request's progress events (``predict --progress json``), then
  ``{"event": "request_done", "id": 7, "exit_code": 0}``; a request that is not valid JSON or not
  a ``predict`` gets ``request_done`` with exit code 2 and a ``message``.

The worker ends at end of input (its parent closed the pipe) or when killed (Cancel: the Slicer
module kills it and starts a fresh one for the next run).
"""

from __future__ import annotations

import json
import sys
from typing import IO


def _reply(stdout: IO[str], event: dict) -> None:
    stdout.write(json.dumps(event) + "\n")
    stdout.flush()


def serve(stdin: IO[str], stdout: IO[str]) -> int:
    """Answer requests until ``stdin`` ends; returns the process exit code (0)."""
    from ..cli.main import main
    from .pipeline import keep_models_loaded

    keep_models_loaded(True)
    for line in stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            number, argv = request.get("id"), request.get("argv")
            if not (isinstance(argv, list) and argv and argv[0] == "predict" and all(isinstance(a, str) for a in argv)):
                raise ValueError("argv must be the arguments of a predict command, starting with 'predict'")
        except (ValueError, AttributeError) as error:
            _reply(stdout, {"event": "request_done", "id": None, "exit_code": 2, "message": f"bad request: {error}"})
            continue
        if "--overwrite" not in argv:
            argv = [*argv, "--overwrite"]  # the caller chose a fresh folder per request; a retry may reuse it
        code = main(argv)
        _reply(stdout, {"event": "request_done", "id": number, "exit_code": code})
    return 0


def run_worker() -> int:
    return serve(sys.stdin, sys.stdout)
