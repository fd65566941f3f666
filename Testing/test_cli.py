"""The command line, as a user runs it: help, exit codes, messages, the demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run_cli

COMMANDS = [
    (), ("phantom",), ("dataset",), ("dataset", "import-busi"), ("dataset", "validate"), ("dataset", "summary"), ("demo",),
    ("demo-train",), ("dataset", "import-busbra"), ("dataset", "merge"),
    ("train",), ("train", "segmentation"), ("train", "abvs-planes"), ("train", "mupnet"), ("train", "dlum"),
    ("train", "dlr"), ("predict",), ("evaluate",), ("compare",), ("restratify",), ("reader-study",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_help_explains_every_option(command):
    result = run_cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: python -m BreastUSAITraining" in result.stdout
    # argparse unescapes "%%" in option help, not in descriptions: a doubled percent sign is a typo on screen
    assert "%%" not in result.stdout, [line for line in result.stdout.splitlines() if "%%" in line]
    # every option has a help text (argparse prints the option, then its explanation)
    lines = [line for line in result.stdout.splitlines() if line.strip().startswith("--")]
    for line in lines:
        name = line.split()[0]
        assert len(line.split()) > 1 or name in result.stdout.split(line, 1)[1][:200], line


def test_phantom_validate_summary_chain(tmp_path):
    out = tmp_path / "ph"
    result = run_cli("phantom", "--out", str(out), "--kind", "multimodal", "--cases", "6", "--seed", "4", "-q")
    assert result.returncode == 0, result.stderr
    assert f"-> {out}" in result.stdout
    result = run_cli("dataset", "validate", str(out), "--deep")
    assert result.returncode == 0 and "valid (deep check)" in result.stdout
    result = run_cli("dataset", "summary", str(out), "--json")
    summary = json.loads(result.stdout)
    assert summary["modalities"] == {"us_bmode": 6, "us_doppler": 6, "us_elastography": 6}


def test_input_errors_exit_2_with_a_message_and_no_traceback(tmp_path):
    result = run_cli("dataset", "validate", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "error:" in result.stderr and "dataset.json not found" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run_cli("--debug", "dataset", "validate", str(tmp_path / "nowhere"))
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    after = run_cli("dataset", "validate", str(tmp_path / "nowhere"), "--debug")
    assert after.returncode == 2 and "Traceback" in after.stderr


def test_usage_errors_exit_2(tmp_path):
    assert run_cli("phantom").returncode == 2  # --out missing
    assert run_cli("phantom", "--out", str(tmp_path / "x"), "--kind", "pet").returncode == 2
    bad = run_cli("phantom", "--out", str(tmp_path / "x"), "--cases", "0")
    assert bad.returncode == 2 and "cases must be at least 1" in bad.stderr
    assert run_cli("no-such-command").returncode == 2


def test_invalid_dataset_lists_violations_and_exits_2(tmp_path):
    out = tmp_path / "ph"
    assert run_cli("phantom", "--out", str(out), "--cases", "5", "-q").returncode == 0
    document = json.loads((out / "dataset.json").read_text())
    document["training"][0]["birads"] = "7"
    (out / "dataset.json").write_text(json.dumps(document))
    result = run_cli("dataset", "validate", str(out))
    assert result.returncode == 2 and "birads: must be one of" in result.stderr
    result = run_cli("dataset", "validate", str(out), "--json")
    assert result.returncode == 2 and json.loads(result.stdout)["valid"] is False


def test_existing_output_is_protected(tmp_path):
    out = tmp_path / "ph"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    result = run_cli("phantom", "--out", str(out), "--cases", "3", "-q")
    assert result.returncode == 2 and "not empty" in result.stderr
    assert (out / "precious.txt").read_text() == "keep me"


def test_training_tour_runs_and_says_where_its_output_went(tmp_path):
    out = tmp_path / "demo"
    result = run_cli("demo-train", "--out", str(out), "--cases", "12", "--epochs", "1", "-q")
    assert result.returncode == 0, result.stderr
    assert f"Output: {out}" in result.stdout
    produced = json.loads((out / "demo_result.json").read_text())
    for key in ("dataset", "summary", "overview_png", "report", "report_markdown", "predictions"):
        assert (out / produced[key].split(str(out) + "/")[1]).exists()
    for bundle in produced["models"]:
        assert (Path(bundle) / "configs" / "metadata.json").is_file()
    report = (out / "report.md").read_text()
    assert "AUC" in report and "![ROC](roc_test.png)" in report and (out / "roc_test.png").stat().st_size > 1000
    for line in report.splitlines():  # every image the report shows exists
        if line.startswith("!["):
            for part in line.split(") "):
                assert (out / part.split("](", 1)[1].rstrip(")")).is_file(), part
    assert list((out / "predictions").glob("*/result.json"))
    for key, value in produced["metrics"].items():  # an AUC at chance level is said so in words beside it
        if "AUC" in key and isinstance(value, float) and value <= 0.6:
            assert "does NOT separate" in produced["metrics"][f"{key}: what it means"]
    from BreastUSAITraining.demo_folder import MARKER, prepare_demo_folder

    prepare_demo_folder(out)  # an earlier demo folder is replaced (what a second `demo --out` does first)
    assert [p.name for p in out.iterdir()] == [MARKER]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    refused = run_cli("demo-train", "--out", str(tmp_path / "other"), "-q")
    assert refused.returncode == 2 and (tmp_path / "other" / "notes.txt").exists()


def test_an_output_path_the_system_refuses_is_a_message_not_a_traceback(tmp_path):
    """`--out` naming an existing file (a folder is written there) - exit 2 and the reason."""
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    reads = tmp_path / "reads.csv"
    reads.write_text("reader,case_id,mode,birads,pathology\nR1,A,with_ai,3,benign\n")
    result = run_cli("reader-study", str(reads), "--out", str(taken))
    assert result.returncode == 2 and f"{taken} exists and is not a folder" in result.stderr
    assert "Traceback" not in result.stderr and taken.read_text() == "not a folder"
