"""The demo's report: a markdown file and the same as HTML, with the metrics table, the
ROC curve, training curves and the overlays of the unseen cases."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ..atomic import write_text_atomic


def _table(rows: list[list[str]]) -> str:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def write_demo_report(folder: Path, facts: dict[str, Any]) -> tuple[Path, Path]:
    """``report.md`` and ``report.html`` in ``folder``; images are referenced relatively."""
    metrics = facts["metrics"]
    rows = [["measure", "value"]] + [[k, (f"{v:.3f}" if v == v else "n/a (one class only)") if isinstance(v, float) else str(v)]
                                     for k, v in metrics.items()]
    cases = [["input", "lesion", "truth", "malignant probability", "per plane (T / S / C)"]]
    for case in facts["cases"]:
        for lesion in case["lesions"]:
            planes = " / ".join(f"{v:.2f}" for v in lesion.get("per_plane", {}).values())
            cases.append([case["input"], lesion["id"], case["truth"], f"{lesion.get('malignant_probability', float('nan')):.3f}", planes])
    images = "\n".join(f"![{Path(p).parent.name} {Path(p).name}]({p})" for p in facts["overlays"])
    markdown = f"""# BreastUSAI demo report

Phantom data only (synthetic, deterministic): these figures show the pipeline works end to
end; they say nothing about accuracy on patients. Real-data figures: README "Benchmarks".

Steps: {facts['steps']}

## Metrics on unseen phantom lesions (test split)

{_table(rows)}

![ROC]({facts['roc_png']})

## Training

![segmentation training]({facts['segmentation_curves']}) ![classifier training]({facts['classifier_curves']})

## Predictions on unseen volumes

{_table(cases)}

{images}
"""
    md_path = folder / "report.md"
    write_text_atomic(md_path, markdown)
    body = []
    for block in markdown.split("\n\n"):
        if block.startswith("# "):
            body.append(f"<h1>{html.escape(block[2:])}</h1>")
        elif block.startswith("## "):
            body.append(f"<h2>{html.escape(block[3:])}</h2>")
        elif block.startswith("|"):
            lines = [l for l in block.splitlines() if not l.startswith("|---")]
            cells = [[html.escape(c.strip()) for c in l.strip("|").split("|")] for l in lines]
            rows_html = "".join("<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{c}</{'th' if i == 0 else 'td'}>" for c in r) + "</tr>"
                                for i, r in enumerate(cells))
            body.append(f"<table border=1 cellpadding=4>{rows_html}</table>")
        elif block.startswith("!["):
            for line in block.splitlines():
                for part in line.split(") "):
                    src = part.split("](", 1)[1].rstrip(")")
                    body.append(f'<img src="{html.escape(src)}" style="max-width:48%">')
        else:
            body.append(f"<p>{html.escape(block)}</p>")
    html_path = folder / "report.html"
    write_text_atomic(html_path, "<!doctype html><meta charset=utf-8><title>BreastUSAI demo</title>\n" + "\n".join(body))
    return md_path, html_path
