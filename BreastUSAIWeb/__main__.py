"""``python -m BreastUSAIWeb``: start the web app (``--help`` for the options)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: opened when the app starts: a BUSI sample image (shipped with attribution, never trained on)
DEFAULT_SAMPLE = REPO / "Resources" / "SampleData" / "busi" / "malignant_139.png"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(prog="python -m BreastUSAIWeb", description=(
        "BreastUSAI in the browser: load a breast ultrasound image or ABVS volume, run the shipped AI models, "
        "see lesions, probabilities, heatmaps and MUP-Net prototypes, correct and annotate lesions, export a "
        "dataset. Open the printed address in a browser. Research use only."))
    made.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this machine only; the app has no login)")
    made.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    made.add_argument("--work", type=Path, default=Path("breastusai-web"),
                      help="the app's folder: uploads, settings and the default export folder (default ./breastusai-web)")
    made.add_argument("--files", type=Path, action="append", default=[],
                      help="a server folder whose images may be loaded, and where exports may go, by typing a path "
                           "(repeatable; default: the current folder and the shipped sample data)")
    made.add_argument("--open", type=Path, default=DEFAULT_SAMPLE,
                      help="image shown when the page opens (default: a BUSI sample image)")
    made.add_argument("--models", type=Path, help="a folder of model bundles besides the shipped ones")
    made.add_argument("--max-upload-mb", type=float, default=500.0, help="largest upload accepted, in MB (default 500)")
    return made


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("BreastUSAIWeb").setLevel(logging.INFO)
    if args.host not in LOCAL_HOSTS:
        print(f"WARNING: listening on {args.host}: anyone who can reach this address can use the app and the "
              "server folders given with --files; there is no login.", file=sys.stderr)
    if not args.open.exists():
        print(f"error: {args.open}: no such image", file=sys.stderr)
        return 2
    from BreastUSAIWeb.app import BreastUSAIWebApp

    roots = args.files or [Path.cwd(), REPO / "Resources" / "SampleData"]
    sample_kind = "us_bmode" if args.open == DEFAULT_SAMPLE else None  # BUSI: B-mode ultrasound
    app = BreastUSAIWebApp(work=args.work, roots=roots, sample=args.open, sample_kind=sample_kind, max_upload_mb=args.max_upload_mb,
                           models=args.models)
    try:
        app.server.start(host=args.host, port=args.port, open_browser=False)
    finally:
        app.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
