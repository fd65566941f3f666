"""Entry point of ``python -m BreastUSAITraining``: parser, logging and exit codes.

Exit codes: 0 success; 2 a usage or input error (one clear message on stderr, no
traceback unless ``--debug``); 130 interrupted. Anything else is a bug: the
traceback is shown so it can be reported.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

from .. import __version__
from ..errors import BreastUSAIError
from . import (
    dataset_commands,
    demo_command,
    evaluate_command,
    phantom_command,
    predict_command,
    reader_study_command,
    train_command,
    web_command,
    worker_command,
)
from .common import apply_threads

DESCRIPTION = """\
BreastUSAI headless engine: breast ultrasound / mammography AI from the dataset
contract exported by the BreastUSAI 3D Slicer module (or imported from public data).

Start with:  breastusai demo        (or: python -m BreastUSAITraining demo)
Every command has its own --help."""

EXIT_CODES = """exit codes:
  0  success
  1  the run failed part-way (e.g. predict over a folder with one unreadable file: the others are done)
  2  a usage or input error (one clear message on stderr; --debug shows the traceback)
  130  interrupted (Ctrl-C)
Results go to stdout; warnings and errors to stderr."""


def _add_common_options(parser: argparse.ArgumentParser, default=None) -> None:
    """--debug / --verbose / --quiet, accepted before or after the command name."""
    flag = {} if default is None else {"default": default}
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for input errors (for bug reports)", **flag)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (DEBUG level)", **flag)
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only, no progress bars", **flag)


def _leaf_parsers(parser: argparse.ArgumentParser):
    """Every (sub)command parser below ``parser``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield child
                yield from _leaf_parsers(child)


def program_name() -> str:
    """``breastusai`` when run as the console script, ``python -m BreastUSAITraining`` otherwise."""
    return "breastusai" if Path(sys.argv[0]).name.startswith("breastusai") else "python -m BreastUSAITraining"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description=DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"BreastUSAITraining {__version__}")
    _add_common_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    phantom_command.register(commands)
    dataset_commands.register(commands)
    train_command.register(commands)
    predict_command.register(commands)
    evaluate_command.register(commands)
    reader_study_command.register(commands)
    demo_command.register(commands)
    worker_command.register(commands)
    web_command.register(commands)
    for child in _leaf_parsers(parser):
        _add_common_options(child, default=argparse.SUPPRESS)
    return parser


def _configure_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["web"]:  # every argument, --help included, belongs to the web app's own parser
        return web_command.start(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help / --version (0) or a usage error (2): returned, so main() runs in-process
        return stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 2
    _configure_logging(args.verbose, args.quiet)
    try:
        apply_threads(getattr(args, "threads", None))
        return int(args.handler(args) or 0)
    except BreastUSAIError as error:
        if args.debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the operating system refused a path: an --out that is a file, no permission, disk full
        if args.debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def console() -> None:
    """The ``breastusai`` console script."""
    sys.exit(main())
