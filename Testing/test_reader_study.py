"""``reader-study``: a hand-worked study of two readers and six lesions checked figure by figure
(and against scipy / scikit-learn / statsmodels where they compute the same statistic), the
truth taken from a real dataset on disk, and every kind of bad reads file refused by line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run_cli
from scipy.stats import ttest_rel
from sklearn.metrics import cohen_kappa_score, roc_auc_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from BreastUSAITraining.dataset import load_dataset
from BreastUSAITraining.dataset.loader import lesion_dicts

LESIONS = ["M1", "M2", "M3", "B1", "B2", "B3"]
TRUTH = {"M1": "malignant", "M2": "malignant", "M3": "malignant", "B1": "benign", "B2": "benign", "B3": "benign"}
# R1 (junior) without AI misses two cancers and biopsies B1; with AI gets everything right.
# R2 (senior) reads as R1 does with AI, in both modes.
R1_WITHOUT = {"M1": "4C", "M2": "3", "M3": "3", "B1": "4A", "B2": "3", "B3": "2"}
R1_WITH = {"M1": "5", "M2": "4B", "M3": "4A", "B1": "3", "B2": "3", "B3": "2"}
R1_SECONDS = ([40, 42, 38, 44, 36, 40], [20, 18, 22, 16, 24, 20])
AI = {"M1": 0.9, "M2": 0.8, "M3": 0.3, "B1": 0.6, "B2": 0.2, "B3": 0.1}
RANK = {"1": 0, "2": 1, "3": 2, "4A": 3, "4B": 4, "4C": 5, "5": 6}


def _write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _study(tmp_path: Path) -> tuple[Path, Path]:
    rows = []
    for i, lesion in enumerate(LESIONS):
        rows.append(["R1", "junior", lesion, "without_ai", R1_WITHOUT[lesion], R1_SECONDS[0][i], TRUTH[lesion]])
        rows.append(["R1", "junior", lesion, "with_ai", R1_WITH[lesion], R1_SECONDS[1][i], TRUTH[lesion]])
        rows.append(["R2", "senior", lesion, "without_ai", R1_WITH[lesion], 30, TRUTH[lesion]])
        rows.append(["R2", "senior", lesion, "with_ai", R1_WITH[lesion], "", TRUTH[lesion]])
    reads = _write_csv(tmp_path / "reads.csv", ["reader", "group", "case_id", "mode", "birads", "seconds", "pathology"], rows)
    ai = _write_csv(tmp_path / "predictions.csv", ["case_id", "lesion_id", "label", "probability"],
                    [[lesion, "", int(TRUTH[lesion] == "malignant"), AI[lesion]] for lesion in LESIONS])
    return reads, ai


def test_hand_worked_study_through_the_cli(tmp_path):
    reads, ai = _study(tmp_path)
    result = run_cli("reader-study", str(reads), "--ai", str(ai), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "2 reader(s), 6 lesions" in result.stdout
    text = (tmp_path / "out" / "reader_study.json").read_text()
    document = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in reader_study.json"))
    r1 = document["readers"]["R1"]
    without, with_ai = r1["without_ai"], r1["with_ai"]
    assert (without["tp"], without["fn"], without["tn"], without["fp"]) == (1, 2, 2, 1)
    assert without["sensitivity"] == pytest.approx(1 / 3) and with_ai["sensitivity"] == 1.0
    assert without["specificity"] == pytest.approx(2 / 3) and with_ai["specificity"] == 1.0
    y = [int(TRUTH[lesion] == "malignant") for lesion in LESIONS]
    assert without["birads_auc"] == pytest.approx(roc_auc_score(y, [RANK[R1_WITHOUT[lesion]] for lesion in LESIONS]))
    assert without["birads_auc"] == pytest.approx(6 / 9)
    assert without["biopsy"]["recommended_biopsies"] == 2 and without["biopsy"]["unnecessary_biopsies"] == 1
    assert without["biopsy"]["missed_malignancies"] == 2
    assert without["reading_seconds"]["mean"] == pytest.approx(40.0)
    assert without["reading_seconds"]["sd"] == pytest.approx(np.std(R1_SECONDS[0], ddof=1))

    paired = r1["with_against_without"]
    # sensitivity: two cancers found only with AI -> exact McNemar p = 2 * 0.5^2
    assert (paired["sensitivity"]["only_first"], paired["sensitivity"]["only_second"]) == (0, 2)
    assert paired["sensitivity"]["p_value"] == pytest.approx(0.5) and paired["sensitivity"]["exact"]
    assert (paired["specificity"]["only_first"], paired["specificity"]["only_second"]) == (0, 1)
    assert paired["specificity"]["p_value"] == pytest.approx(1.0)
    reference = ttest_rel(R1_SECONDS[1], R1_SECONDS[0])
    assert paired["reading_seconds"]["mean_difference"] == pytest.approx(-20.0)
    assert paired["reading_seconds"]["t"] == pytest.approx(reference.statistic)
    assert paired["reading_seconds"]["p_value"] == pytest.approx(reference.pvalue)
    order = ["1", "2", "3", "4A", "4B", "4C", "5"]
    assert paired["birads_kappa_linear"] == pytest.approx(cohen_kappa_score(
        [R1_WITHOUT[lesion] for lesion in LESIONS], [R1_WITH[lesion] for lesion in LESIONS], labels=order, weights="linear"))

    # R2 read the same in both modes: nothing to test; no paired times (none with AI)
    r2 = document["readers"]["R2"]["with_against_without"]
    assert r2["sensitivity"]["p_value"] == 1.0 and r2["reading_seconds"]["n"] == 0 and r2["reading_seconds"]["p_value"] is None

    # P1: the AI (M1, M2 found; B1 biopsied) against R1 without AI (M1 found; B1 biopsied)
    p1 = r1["ai_against_without_ai"]
    assert (p1["sensitivity"]["only_first"], p1["sensitivity"]["only_second"]) == (0, 1)
    assert p1["sensitivity"]["second"] == pytest.approx(2 / 3)
    assert p1["call_kappa"] == pytest.approx(cohen_kappa_score([1, 0, 0, 1, 0, 0], [1, 1, 0, 1, 0, 0]))
    assert document["ai"]["auc"] == pytest.approx(roc_auc_score(y, [AI[lesion] for lesion in LESIONS]))

    # pooled rows: every read one observation
    pooled = document["all_readers"]["without_ai"]
    assert (pooled["tp"], pooled["fn"]) == (4, 2)
    assert document["groups"]["junior"]["readers"] == ["R1"]
    # Fleiss' kappa of the two readers against statsmodels, on BI-RADS and on the calls
    for mode, r2_reads in (("without_ai", R1_WITH), ("with_ai", R1_WITH)):
        r1_reads = R1_WITHOUT if mode == "without_ai" else R1_WITH
        table, _ = aggregate_raters(np.array([[RANK[r1_reads[lesion]], RANK[r2_reads[lesion]]] for lesion in LESIONS]),
                                    n_cat=7)
        agreement = document["agreement"][mode]
        assert agreement["lesions"] == 6 and agreement["birads_kappa"] == pytest.approx(sm_fleiss(table))
    assert document["agreement"]["with_ai"]["call_kappa"] == pytest.approx(1.0)

    report = (tmp_path / "out" / "reader_study.md").read_text()
    assert "| R1 (junior) | reading time (s) | 40.0 ± 2.8 | 20.0 ± 2.8 | / | <0.001 |" in report
    assert "| sensitivity % | 33.3 (1/3) | 100.0 (3/3) | 1.000 | 0.500 |" in report
    assert (tmp_path / "out" / "reader_study.png").stat().st_size > 5000


def test_a_spreadsheet_export_with_semicolons_a_bom_and_crlf_reads_the_same(tmp_path):
    reads, _ = _study(tmp_path)
    text = reads.read_text().replace(",", ";").replace("\n", "\r\n")
    excel = tmp_path / "excel.csv"
    excel.write_bytes(b"\xef\xbb\xbf" + text.encode())
    for source, out in ((reads, "a"), (excel, "b")):
        assert run_cli("reader-study", str(source), "--out", str(tmp_path / out)).returncode == 0
    first, second = (json.loads((tmp_path / out / "reader_study.json").read_text()) for out in ("a", "b"))
    first.pop("source"), second.pop("source")
    assert first == second


def test_truth_from_a_dataset_and_disagreements(phantom_us2d, tmp_path):
    lesions = lesion_dicts(load_dataset(phantom_us2d), "training")[:4]
    rows = [["R1", item["case_id"], item["lesion_id"] or "", mode, "4B" if item["label"] else "3"]
            for item in lesions for mode in ("without_ai", "with_ai")]
    reads = _write_csv(tmp_path / "reads.csv", ["reader", "case_id", "lesion_id", "mode", "birads"], rows)
    result = run_cli("reader-study", str(reads), "--data", str(phantom_us2d), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "out" / "reader_study.json").read_text())
    assert document["lesions"] == 4 and document["malignant"] == sum(item["label"] for item in lesions)
    assert document["readers"]["R1"]["without_ai"]["accuracy"] == 1.0

    # the same lesion said to be the other pathology than dataset.json says
    first = lesions[0]
    wrong = "benign" if first["label"] else "malignant"
    bad = _write_csv(tmp_path / "bad.csv", ["reader", "case_id", "lesion_id", "mode", "birads", "pathology"],
                     [["R1", first["case_id"], first["lesion_id"] or "", "with_ai", "3", wrong]])
    result = run_cli("reader-study", str(bad), "--data", str(phantom_us2d), "--out", str(tmp_path / "bad_out"))
    assert result.returncode == 2 and f"{bad}: line 2:" in result.stderr and "in " + str(phantom_us2d) in result.stderr
    unknown = _write_csv(tmp_path / "unknown.csv", ["reader", "case_id", "mode", "birads"], [["R1", "nobody", "with_ai", "3"]])
    result = run_cli("reader-study", str(unknown), "--data", str(phantom_us2d), "--out", str(tmp_path / "bad_out"))
    assert result.returncode == 2 and "lesion nobody is not in the dataset" in result.stderr
    assert not (tmp_path / "bad_out").exists()


HEADER = ["reader", "group", "case_id", "mode", "birads", "seconds", "pathology"]
GOOD = ["R1", "junior", "M1", "without_ai", "4A", "30", "malignant"]


@pytest.mark.parametrize("rows, header, expected", [
    ([GOOD], ["reader", "case_id", "birads"], "missing column(s) mode"),
    ([GOOD[:3] + ["after_ai"] + GOOD[4:]], HEADER, "line 2: mode must be one of without_ai, with_ai"),
    ([GOOD[:4] + ["4"] + GOOD[5:]], HEADER, "line 2: birads must be one of 1, 2, 3, 4A, 4B, 4C, 5, got '4'; give the subcategory"),
    ([GOOD[:4] + ["0"] + GOOD[5:]], HEADER, "0 is an incomplete assessment"),
    ([GOOD, GOOD], HEADER, "line 3: reader R1 read M1 without_ai twice (also line 2)"),
    ([GOOD[:5] + ["nan"] + GOOD[6:]], HEADER, "line 2: seconds must be a positive finite reading time"),
    ([GOOD[:5] + ["-3"] + GOOD[6:]], HEADER, "line 2: seconds must be a positive finite reading time"),
    ([GOOD[:6] + ["unknown"]], HEADER, "line 2: pathology must be one of benign, malignant"),
    ([GOOD[:6] + [""]], HEADER, "line 2: lesion M1 has no benign / malignant truth (no pathology column and no --data)"),
    ([], HEADER, "no reads (the file has a header only)"),
    ([GOOD, ["R1", "senior", "M2", "with_ai", "3", "20", "benign"]], HEADER, "line 3: reader R1 is in group 'senior' here"),
    ([GOOD, GOOD[:3] + ["with_ai", "3", "20", "benign"]], HEADER, "line 3: lesion M1 is benign here but not on line 2"),
])
def test_bad_reads_are_refused_with_the_file_and_line(tmp_path, rows, header, expected):
    reads = _write_csv(tmp_path / "reads.csv", header, rows)
    result = run_cli("reader-study", str(reads), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stdout
    assert str(reads) in result.stderr and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_bad_companion_files_are_refused(tmp_path):
    reads, _ = _study(tmp_path)
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    for args, expected in (([str(garbage)], f"{garbage}: not a readable CSV file"),
                           ([str(reads), "--ai", str(tmp_path / "none.csv")], "no such predictions file"),
                           ([str(reads), "--ai", str(garbage)], f"{garbage}: not a readable CSV file"),
                           ([str(reads), "--ai-threshold", "1.5"], "--ai-threshold must be within (0, 1)")):
        result = run_cli("reader-study", *args, "--out", str(tmp_path / "out"))
        assert result.returncode == 2 and expected in result.stderr, result.stderr
    partial = _write_csv(tmp_path / "partial.csv", ["case_id", "lesion_id", "probability"], [["M1", "", "0.7"]])
    result = run_cli("reader-study", str(reads), "--ai", str(partial), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "no AI probability for lesion B1" in result.stderr
    assert not (tmp_path / "out").exists()
