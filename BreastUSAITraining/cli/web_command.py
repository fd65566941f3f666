"""``web``: start the web app (``python -m BreastUSAIWeb``) as its own program.

The engine imports nothing of the web package: this command only starts it in a child
process with the same Python and passes every argument through (``breastusai web --help``
prints the web app's own options)."""

from __future__ import annotations

import argparse
import subprocess
import sys


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("web", add_help=False,
                            help="start the web app on http://127.0.0.1:8080 (python -m BreastUSAIWeb; 'web --help' for its options)",
                            description="Start the BreastUSAI web app; every argument goes to python -m BreastUSAIWeb.")
    p.add_argument("arguments", nargs=argparse.REMAINDER, help="the web app's options (see breastusai web --help)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return start(args.arguments)


def start(arguments: list[str]) -> int:
    """Run the web app with ``arguments`` until it stops; its exit code (130 on Ctrl-C)."""
    try:
        return subprocess.call([sys.executable, "-m", "BreastUSAIWeb", *arguments])
    except KeyboardInterrupt:
        return 130
