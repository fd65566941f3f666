"""A reader study as people read it: the paper's Table 5 in markdown (each reader, each group,
all readers: reading time, sensitivity, specificity, accuracy and BI-RADS AUC without and with AI,
P1 against the AI model, P2 with against without AI), the agreement, and one PNG figure."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..reports.figures import save_figure


def _p(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "/"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _percent(part: dict[str, Any] | None, key: str, counts: tuple[str, str]) -> str:
    if not part or math.isnan(part[key]):
        return "-"
    hit, total = part[counts[0]], part[counts[0]] + part[counts[1]]
    return f"{100 * part[key]:.1f} ({hit}/{total})"


def _seconds(part: dict[str, Any] | None) -> str:
    figures = (part or {}).get("reading_seconds") or {}
    if not figures.get("n"):
        return "-"
    sd = figures["sd"]
    return f"{figures['mean']:.1f} ± {sd:.1f}" if not math.isnan(sd) else f"{figures['mean']:.1f}"


def _auc(part: dict[str, Any] | None) -> str:
    if not part or math.isnan(part["birads_auc"]):
        return "-"
    low, high = part["birads_auc_ci95"]
    return f"{part['birads_auc']:.3f} ({low:.3f}-{high:.3f})"


def _rows(label: str, summary: dict[str, Any]) -> list[str]:
    without, with_ai, paired = summary["without_ai"], summary["with_ai"], summary["with_against_without"]
    ai = summary.get("ai_against_without_ai") or {}
    lines = [
        ("reading time (s)", _seconds(without), _seconds(with_ai), None, paired["reading_seconds"]["p_value"]),
        ("sensitivity %", _percent(without, "sensitivity", ("tp", "fn")), _percent(with_ai, "sensitivity", ("tp", "fn")),
         (ai.get("sensitivity") or {}).get("p_value"), paired["sensitivity"]["p_value"]),
        ("specificity %", _percent(without, "specificity", ("tn", "fp")), _percent(with_ai, "specificity", ("tn", "fp")),
         (ai.get("specificity") or {}).get("p_value"), paired["specificity"]["p_value"]),
        ("accuracy %", f"{100 * without['accuracy']:.1f}" if without else "-",
         f"{100 * with_ai['accuracy']:.1f}" if with_ai else "-",
         (ai.get("accuracy") or {}).get("p_value"), paired["accuracy"]["p_value"]),
        ("BI-RADS AUC (95% CI)", _auc(without), _auc(with_ai), (ai.get("auc") or {}).get("p_value"),
         paired["birads_auc"]["p_value"]),
    ]
    return [f"| {label if i == 0 else ''} | {index} | {a} | {b} | {_p(p1)} | {_p(p2)} |"
            for i, (index, a, b, p1, p2) in enumerate(lines)]


def _mrmc_line(label: str, mrmc: dict[str, Any] | None) -> str:
    if not mrmc:
        return ""
    if not mrmc.get("computed"):
        return f"- {label}: not computed ({mrmc.get('reason')})."
    d = mrmc["difference"]
    means = mrmc["mean_auc"]
    return (f"- {label} ({mrmc['readers']} readers, {mrmc['lesions']} lesions): BI-RADS AUC {means['without_ai']:.3f} "
            f"without AI, {means['with_ai']:.3f} with AI; difference {d['estimate']:+.3f} (95% CI {d['ci95'][0]:+.3f} to "
            f"{d['ci95'][1]:+.3f}), F(1, {mrmc['ddf']:.1f}) = {mrmc['f']:.2f}, **p = {_p(mrmc['p_value'])}**"
            + (f"; {mrmc['lesions_left_out']} lesion(s) not read by every reader in both modes left out"
               if mrmc["lesions_left_out"] else "") + ".")


def study_markdown(document: dict[str, Any], source: str) -> str:
    """The report of :func:`..analysis.reader_study`'s document."""
    out = ["# Reader study: without and with AI", "",
           f"Reads: `{source}`; {document['lesions']} lesions ({document['malignant']} malignant), "
           f"{document['reads']} reads by {len(document['readers'])} reader(s). A malignant call is the "
           f"{document['malignant_call']}.", ""]
    if "ai" in document:
        ai = document["ai"]
        out += [f"AI model alone (malignant at probability >= {ai['threshold']}): AUC {ai['auc']:.3f} "
                f"({ai['auc_ci95'][0]:.3f}-{ai['auc_ci95'][1]:.3f}), sensitivity {100 * ai['sensitivity']:.1f}%, "
                f"specificity {100 * ai['specificity']:.1f}%, accuracy {100 * ai['accuracy']:.1f}%.", ""]
    out += ["| reader | index | without AI | with AI | P1 (AI vs reader without AI) | P2 (with vs without AI) |",
            "|---|---|---|---|---|---|"]
    for name, summary in document["readers"].items():
        out += _rows(f"{name}" + (f" ({summary['group']})" if summary["group"] else ""), summary)
    for group, summary in document["groups"].items():
        out += _rows(f"group {group} ({len(summary['readers'])} readers, pooled)", summary)
    out += _rows("all readers, pooled", document["all_readers"])
    mrmc_lines = [_mrmc_line(f"group {group}", summary.get("mrmc")) for group, summary in document["groups"].items()]
    mrmc_lines.append(_mrmc_line("all readers", document["all_readers"].get("mrmc")))
    out += ["", "Several readers, with against without AI (multi-reader multi-case: Obuchowski-Rockette, random readers "
            "and random cases, jackknife covariances, Hillis degrees of freedom; BI-RADS AUC over the lesions every "
            "reader of the set read in both modes):", ""] + [line for line in mrmc_lines if line]
    out += ["", "P1: McNemar (sensitivity, specificity, accuracy) and DeLong (the reader's BI-RADS scale against "
            "the AI probability), reader without AI against the AI model. P2: McNemar and DeLong on the same "
            "lesions read without and with AI; paired t-test of the reading times. '/': not computable (no "
            "AI given, one class, or no paired times). Pooled rows count every read once for the proportions and "
            "give no p-value (reads of one reader, or of one lesion, are not independent): their comparison is the "
            "MRMC analysis above.", "",
            "| mode | readers | lesions read by all | Fleiss' kappa, calls | Fleiss' kappa, BI-RADS |", "|---|---|---|---|---|"]
    for mode, agreement in document["agreement"].items():
        kappas = [f"{agreement[k]:.3f}" if agreement[k] is not None else "-" for k in ("call_kappa", "birads_kappa")]
        out.append(f"| {mode.replace('_', ' ')} | {agreement['readers']} | {agreement['lesions']} | {kappas[0]} | {kappas[1]} |")
    out += ["", "![readers without and with AI](reader_study.png)", ""]
    return "\n".join(out)


def plot_study(path: Path, document: dict[str, Any]) -> Path:
    """Sensitivity, specificity and reading time of each reader, without -> with AI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(document["readers"])
    panels = (("sensitivity", "sensitivity", 100), ("specificity", "specificity", 100), ("reading time (s)", None, 1))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    for ax, (title, key, scale) in zip(axes, panels):
        for x, name in enumerate(names):
            summary = document["readers"][name]
            values = []
            for mode in ("without_ai", "with_ai"):
                part = summary[mode]
                value = (part or {}).get(key) if key else ((part or {}).get("reading_seconds") or {}).get("mean")
                values.append(scale * value if value is not None and not math.isnan(value) else math.nan)
            ax.plot([x - 0.15, x + 0.15], values, color="0.6", zorder=1)
            ax.scatter([x - 0.15], values[:1], color="tab:blue", zorder=2, label="without AI" if x == 0 else None)
            ax.scatter([x + 0.15], values[1:], color="tab:orange", zorder=2, label="with AI" if x == 0 else None)
        ax.set_xticks(range(len(names)), names, rotation=45 if len(names) > 6 else 0)
        ax.set_title(title + (" %" if scale == 100 else ""))
        if scale == 100:
            ax.set_ylim(-5, 105)
        else:
            ax.set_ylim(bottom=0)
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)
