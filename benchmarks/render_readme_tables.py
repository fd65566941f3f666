"""Regenerate the README's benchmark tables from benchmarks/results/*.json.

    python benchmarks/render_readme_tables.py

Each table sits between ``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->``
markers in README.md; a missing result file leaves its table saying so.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
RESULTS = HERE / "results"


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _machine(m: dict) -> str:
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ", no GPU"
    return f"_Measured {m['date_utc']} UTC on {m['cpu_count']} CPU cores ({m['processor']}), Python {m['python']}, torch {m.get('torch')}{gpu}._"


def table_foundation() -> str:
    data = _load("foundation")
    if data is None:
        return "_No result yet: run `python benchmarks/foundation.py`._"
    s = data["stages"]
    rows = [
        ("Render a full-size ABVS phantom (843 x 546 x 318, 147 MB)", f"{s['abvs_full_render']['seconds']:.1f} s "
         f"({s['abvs_full_render']['slices_per_second']:.1f} slices/s)", f"{s['abvs_full_render']['peak_rss_mb']:.0f} MB"),
        ("Write that volume as compressed NRRD / read it back (geometry checked)",
         f"{s['abvs_full_nrrd_io']['write_seconds']:.1f} s / {s['abvs_full_nrrd_io']['read_seconds']:.1f} s",
         f"{s['abvs_full_nrrd_io']['peak_rss_mb']:.0f} MB"),
        ("Generate a phantom dataset of every modality (16 + 16 lesions)", f"{s['phantom_all_16']['seconds']:.1f} s",
         f"{s['phantom_all_16']['peak_rss_mb']:.0f} MB"),
        (f"Import BUSI ({s['busi_import']['images']} images, {s['busi_import']['lesions']} lesions)",
         f"{s['busi_import']['seconds']:.1f} s ({s['busi_import']['images_per_second']:.0f} images/s)",
         f"{s['busi_import']['peak_rss_mb']:.0f} MB"),
        ("Deep-validate the imported BUSI dataset", f"{s['busi_validate_deep']['seconds']:.2f} s "
         f"({s['busi_validate_deep']['violations']} violations)", f"{s['busi_validate_deep']['peak_rss_mb']:.0f} MB"),
    ]
    lines = ["| task | time | peak RSS |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + "\n\n" + _machine(data["machine"])


def table_setup_time() -> str:
    data = _load("setup_time")
    if data is None:
        return "_No result yet: run `python benchmarks/setup_time.py`._"
    return (f"`make venv` on a fresh clone: **{data['make_venv_seconds']:.0f} s**, "
            f"{data['packages']} packages, {data['venv_mb'] / 1000:.1f} GB. " + _machine(data["machine"]))


TABLES = {"foundation": table_foundation, "setup_time": table_setup_time}


def main() -> int:
    text = README.read_text()
    for name, render in TABLES.items():
        pattern = re.compile(rf"(<!-- bench:{name}:start -->\n).*?(\n<!-- bench:{name}:end -->)", re.S)
        if not pattern.search(text):
            print(f"README has no markers for {name}", file=sys.stderr)
            return 1
        text = pattern.sub(lambda m: m.group(1) + render() + m.group(2), text)
    README.write_text(text)
    print(f"updated {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
