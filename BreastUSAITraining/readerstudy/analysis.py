"""The figures of a reader study without and with AI (SPEC 3.7; seed 004 Table 5 and its
statistics paragraph): per reader, per reader group and for all readers pooled.

* performance in each mode: accuracy, sensitivity, specificity, PPV, NPV, F1 of the benign /
  malignant calls; AUC of the BI-RADS scale (95% bootstrap CI); reading time mean and SD; the
  biopsy figures of BI-RADS 4A and above;
* with AI against without AI on the same lesions (P2 of Table 5): McNemar's test of sensitivity
  (malignant lesions), specificity (benign lesions) and accuracy; DeLong's test of the BI-RADS AUCs;
  a paired t-test of the reading times; linear-weighted kappa of the two BI-RADS reads;
* the AI model against each reader without AI (P1 of Table 5) when its probabilities are given,
  and Cohen's kappa of reader and AI calls in each mode;
* inter-reader agreement in each mode: Fleiss' kappa of the calls and of the BI-RADS categories
  over the lesions every reader read.

Rows of several readers (a reader group, all readers) pool the reads for the proportions, as the
paper's group rows do, but print **no pooled p-value**: one reader's reads share the reader and one
lesion's reads share the lesion, so tests that count reads as independent overstate the evidence.
Their with / without AI comparison is the multi-reader multi-case analysis instead
(:mod:`..statistics.mrmc`: Obuchowski-Rockette, random readers and cases, Hillis degrees of
freedom) of the BI-RADS AUC over the lesions every reader of the set read in both modes.
"""

from __future__ import annotations

import statistics
from typing import Any, Iterable

import numpy as np
from scipy.stats import t as student_t

from ..statistics import (
    auc,
    biopsy_metrics,
    bootstrap_auc_ci,
    cohen_kappa,
    delong_test,
    fleiss_kappa,
    mcnemar_test,
    threshold_metrics,
)
from ..statistics.mrmc import obuchowski_rockette
from .reads import BIOPSY_FROM, MODES, READ_BIRADS, Read
from .truth import Lesion

Pair = tuple[Read, Read]  # the same reader's read of one lesion without and with AI


def _mean_sd(values: list[float]) -> dict[str, float | int]:
    return {"n": len(values), "mean": statistics.fmean(values) if values else float("nan"),
            "sd": statistics.stdev(values) if len(values) > 1 else float("nan")}


def performance(reads: list[Read], labels: dict[Lesion, int]) -> dict[str, Any]:
    """The figures of one set of reads (one reader or a pooled group, one mode)."""
    y = np.array([labels[r.lesion] for r in reads])
    calls = np.array([float(r.malignant_call) for r in reads])
    ranks = np.array([float(r.birads_rank) for r in reads])
    low, high = bootstrap_auc_ci(y, ranks) if 0 < y.sum() < y.size else (float("nan"), float("nan"))
    return {"reads": len(reads), "malignant": int(y.sum()), **threshold_metrics(y, calls, 0.5),
            "birads_auc": auc(y, ranks), "birads_auc_ci95": [low, high],
            "reading_seconds": _mean_sd([r.seconds for r in reads if r.seconds is not None]),
            "biopsy": biopsy_metrics(y, ranks >= READ_BIRADS.index(BIOPSY_FROM))}


def _mcnemar(first: np.ndarray, second: np.ndarray) -> dict[str, Any]:
    """Proportions of ``first`` and ``second`` (paired booleans) and McNemar's p."""
    if first.size == 0:
        return {"n": 0, "first": float("nan"), "second": float("nan"), "p_value": float("nan")}
    result = mcnemar_test(first, second)
    return {"n": int(first.size), "first": float(first.mean()), "second": float(second.mean()),
            "only_first": result.only_a, "only_second": result.only_b, "p_value": result.p_value, "exact": result.exact}


def paired_t_test(first: list[float], second: list[float]) -> dict[str, float | int]:
    """Paired t-test of ``second - first`` (e.g. reading time with AI minus without)."""
    differences = np.asarray(second, float) - np.asarray(first, float)
    n = int(differences.size)
    out: dict[str, float | int] = {"n": n, "mean_first": float(np.mean(first)) if n else float("nan"),
                                   "mean_second": float(np.mean(second)) if n else float("nan"),
                                   "mean_difference": float(differences.mean()) if n else float("nan"),
                                   "t": float("nan"), "p_value": float("nan")}
    if n >= 2:
        sd = float(differences.std(ddof=1))
        if sd > 0:
            out["t"] = float(differences.mean() / (sd / np.sqrt(n)))
            out["p_value"] = float(2 * student_t.sf(abs(out["t"]), n - 1))
        else:
            out["p_value"] = 1.0 if differences.mean() == 0 else 0.0
    return out


def _delong(y: np.ndarray, first: np.ndarray, second: np.ndarray) -> dict[str, float]:
    if not 0 < y.sum() < y.size:
        return {"first": float("nan"), "second": float("nan"), "p_value": float("nan")}
    result = delong_test(y, first, second)
    return {"first": result.auc_a, "second": result.auc_b, "p_value": result.p_value}


def with_against_without(pairs: list[Pair], labels: dict[Lesion, int]) -> dict[str, Any]:
    """P2 of Table 5: each figure without AI ("first") and with AI ("second"), and its paired test."""
    y = np.array([labels[a.lesion] for a, _ in pairs], dtype=int)
    without = np.array([a.malignant_call for a, _ in pairs], dtype=bool)
    with_ai = np.array([b.malignant_call for _, b in pairs], dtype=bool)
    timed = [(a.seconds, b.seconds) for a, b in pairs if a.seconds is not None and b.seconds is not None]
    return {
        "paired_reads": len(pairs),
        "sensitivity": _mcnemar(without[y == 1], with_ai[y == 1]),
        "specificity": _mcnemar(~without[y == 0], ~with_ai[y == 0]),
        "accuracy": _mcnemar(without == y, with_ai == y),
        "birads_auc": _delong(y, np.array([a.birads_rank for a, _ in pairs], float),
                              np.array([b.birads_rank for _, b in pairs], float)),
        "reading_seconds": paired_t_test([a for a, _ in timed], [b for _, b in timed]),
        "birads_kappa_linear": cohen_kappa([a.birads for a, _ in pairs], [b.birads for _, b in pairs], "linear",
                                           READ_BIRADS) if pairs else float("nan"),
    }


def ai_against_reader(reads: list[Read], labels: dict[Lesion, int], ai: dict[Lesion, float],
                      threshold: float) -> dict[str, Any]:
    """P1 of Table 5: the reader ("first") against the AI model ("second") on the reader's lesions."""
    y = np.array([labels[r.lesion] for r in reads], dtype=int)
    reader = np.array([r.malignant_call for r in reads], dtype=bool)
    model = np.array([ai[r.lesion] >= threshold for r in reads], dtype=bool)
    return {
        "reads": len(reads),
        "sensitivity": _mcnemar(reader[y == 1], model[y == 1]),
        "specificity": _mcnemar(~reader[y == 0], ~model[y == 0]),
        "accuracy": _mcnemar(reader == y, model == y),
        "auc": _delong(y, np.array([r.birads_rank for r in reads], float), np.array([ai[r.lesion] for r in reads])),
        "call_kappa": cohen_kappa(reader.astype(int), model.astype(int), None, [0, 1]) if reads else float("nan"),
    }


def fleiss_agreement(reads: list[Read]) -> dict[str, Any]:
    """Fleiss' kappa of the readers' calls and BI-RADS categories over the lesions all of them read."""
    readers = sorted({r.reader for r in reads})
    by_lesion: dict[Lesion, dict[str, Read]] = {}
    for read in reads:
        by_lesion.setdefault(read.lesion, {})[read.reader] = read
    common = [lesion for lesion, seen in by_lesion.items() if len(seen) == len(readers)]
    if len(readers) < 2 or not common:
        return {"readers": len(readers), "lesions": len(common), "call_kappa": None, "birads_kappa": None}
    calls = np.array([[sum(not r.malignant_call for r in by_lesion[lesion].values()),
                       sum(r.malignant_call for r in by_lesion[lesion].values())] for lesion in common])
    birads = np.array([[sum(r.birads == c for r in by_lesion[lesion].values()) for c in READ_BIRADS] for lesion in common])
    return {"readers": len(readers), "lesions": len(common), "call_kappa": fleiss_kappa(calls),
            "birads_kappa": fleiss_kappa(birads)}


def _pairs(reads: Iterable[Read]) -> list[Pair]:
    by_key: dict[tuple[str, Lesion], dict[str, Read]] = {}
    for read in reads:
        by_key.setdefault((read.reader, read.lesion), {})[read.mode] = read
    return [(modes["without_ai"], modes["with_ai"]) for modes in by_key.values() if len(modes) == 2]


def mrmc_with_against_without(reads: list[Read], labels: dict[Lesion, int]) -> dict[str, Any]:
    """OR-Hillis MRMC analysis of the BI-RADS AUC with against without AI (complete design: the
    lesions every reader read in both modes)."""
    readers = sorted({r.reader for r in reads})
    by_key = {(r.reader, r.lesion, r.mode): r for r in reads}
    lesions = [lesion for lesion in sorted(labels)
               if all((reader, lesion, mode) in by_key for reader in readers for mode in MODES)]
    base = {"readers": len(readers), "lesions": len(lesions),
            "lesions_left_out": len({r.lesion for r in reads}) - len(lesions)}
    y = np.array([labels[lesion] for lesion in lesions], dtype=int)
    if len(readers) < 2:
        return {**base, "computed": False, "reason": "fewer than two readers"}
    if y.sum() < 2 or (y.size - y.sum()) < 2:
        return {**base, "computed": False, "reason": "fewer than two malignant or two benign lesions read by all"}
    ratings = np.array([[[by_key[(reader, lesion, mode)].birads_rank for lesion in lesions] for reader in readers]
                        for mode in MODES], dtype=float)
    return {**base, "computed": True, "index": "BI-RADS AUC",
            **obuchowski_rockette(ratings, y, modalities=tuple(MODES))}


_POOLED_NOTE = ("not computed: several readers' reads are not independent observations; see 'mrmc' "
                "(Obuchowski-Rockette) for the with / without AI comparison")


def _without_pooled_p_values(part: dict[str, Any]) -> None:
    for value in part.values():
        if isinstance(value, dict) and "p_value" in value:
            value["p_value"] = None
            value["p_value_note"] = _POOLED_NOTE


def _summary(reads: list[Read], labels: dict[Lesion, int], ai: dict[Lesion, float] | None,
             threshold: float) -> dict[str, Any]:
    """Everything for one reader or one pooled set of readers (see the module docstring)."""
    out: dict[str, Any] = {}
    for mode in MODES:
        chosen = [r for r in reads if r.mode == mode]
        out[mode] = performance(chosen, labels) if chosen else None
        if ai is not None and chosen:
            out[f"ai_against_{mode}"] = ai_against_reader(chosen, labels, ai, threshold)
    pairs = _pairs(reads)
    out["with_against_without"] = with_against_without(pairs, labels)
    out["unpaired_reads"] = len(reads) - 2 * len(pairs)
    if len({r.reader for r in reads}) > 1:
        for key in ("with_against_without", *(f"ai_against_{mode}" for mode in MODES)):
            if out.get(key):
                _without_pooled_p_values(out[key])
        out["mrmc"] = mrmc_with_against_without(reads, labels)
    return out


def reader_study(reads: list[Read], labels: dict[Lesion, int], ai: dict[Lesion, float] | None = None,
                 ai_threshold: float = 0.5) -> dict[str, Any]:
    """The whole study as one JSON-ready document."""
    lesions = sorted(labels)
    document: dict[str, Any] = {
        "lesions": len(lesions), "malignant": int(sum(labels.values())),
        "reads": len(reads), "malignant_call": f"reader's call column, else BI-RADS {BIOPSY_FROM} or above",
        "readers": {}, "groups": {},
    }
    for name in sorted({r.reader for r in reads}):
        mine = [r for r in reads if r.reader == name]
        document["readers"][name] = {"group": mine[0].group, **_summary(mine, labels, ai, ai_threshold)}
    for group in sorted({r.group for r in reads if r.group}):
        members = sorted({r.reader for r in reads if r.group == group})
        document["groups"][group] = {"readers": members,
                                     **_summary([r for r in reads if r.group == group], labels, ai, ai_threshold)}
    document["all_readers"] = _summary(reads, labels, ai, ai_threshold)
    document["agreement"] = {mode: fleiss_agreement([r for r in reads if r.mode == mode]) for mode in MODES}
    if ai is not None:
        y = np.array([labels[lesion] for lesion in lesions])
        p = np.array([ai[lesion] for lesion in lesions])
        low, high = bootstrap_auc_ci(y, p) if 0 < y.sum() < y.size else (float("nan"), float("nan"))
        document["ai"] = {"threshold": ai_threshold, "lesions": len(lesions), "auc": auc(y, p), "auc_ci95": [low, high],
                          **threshold_metrics(y, p, ai_threshold)}
    return document
