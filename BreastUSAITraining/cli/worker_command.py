"""``worker``: predict requests over stdin / stdout with the models kept loaded (the Slicer module's
background worker)."""

from __future__ import annotations

import argparse

from .common import add_threads

HELP = """\
Answer predict requests, one JSON line each on stdin: {"id": N, "argv": ["predict", ...]} with the
arguments of the predict command (add --progress json to get its progress events). Each request's
events go to stdout, followed by {"event": "request_done", "id": N, "exit_code": C}. Models stay
loaded between requests (a bundle changed on disk is loaded again), so every request after the
first skips the Python start, the torch import and the model loading. Ends when stdin closes.
The 3D Slicer module runs one of these in the background; you rarely start it by hand."""


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("worker", help="predict requests over stdin / stdout, models kept loaded (Slicer's background worker)",
                            description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_threads(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..predict.worker import run_worker

    return run_worker()
