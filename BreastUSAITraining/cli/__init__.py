"""The command line: ``python -m BreastUSAITraining <command> ...``."""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
