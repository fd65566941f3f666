"""The command line, as a user runs it: help, exit codes, messages, the demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run_cli


def _parsers():
    """(command words, parser) of the top level and every sub-command, from the real parser."""
    import argparse

    from BreastUSAITraining.cli.main import build_parser

    found = [((), build_parser())]
    for words, parser in found:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                found.extend(((*words, name), child) for name, child in action.choices.items())
    return found


def test_help_explains_every_option():
    """Every option of every command has its own help text (argparse's own --help aside), and no
    doubled percent sign shows on screen; checked on the parser objects, not by scraping."""
    import argparse

    parsers = _parsers()
    assert len(parsers) >= 21
    for words, parser in parsers:
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help == argparse.SUPPRESS:
                continue
            where = f"{' '.join(words) or 'top'} {'/'.join(action.option_strings) or action.dest}"
            assert action.help and len(action.help.strip()) > 3, f"{where}: no help"
            if action.choices and not isinstance(action.choices, dict):
                assert action.metavar is None or "{" not in str(action.metavar), where
        text = parser.format_help()
        assert "%%" not in text, [line for line in text.splitlines() if "%%" in line]


def test_help_runs_as_a_program_and_names_it():
    from BreastUSAITraining.cli.main import build_parser

    result = run_cli("predict", "--help")
    assert result.returncode == 0 and "usage: python -m BreastUSAITraining predict" in result.stdout
    script = Path(sys.executable).with_name("breastusai")
    assert script.is_file(), "the breastusai console script is not installed (pip install -e .)"
    console = subprocess.run([str(script), "train", "mupnet", "--help"], capture_output=True, text=True, timeout=60)
    assert console.returncode == 0 and "usage: breastusai train mupnet" in console.stdout, console.stderr
    top = build_parser().format_help()
    assert "exit codes:" in top and "1  the run failed part-way" in top and "2  a usage or input error" in top


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


def _main(capsys, *argv: str) -> tuple[int, str, str]:
    from BreastUSAITraining.cli.main import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("command", [
    ("predict", "x.nrrd"), ("evaluate", "--model", "m", "--data", "d"), ("restratify", "--lh", "a", "--bm", "b", "--data", "d"),
    ("reader-study", "reads.csv"), ("compare", "a", "b"),
])
def test_commands_refuse_a_non_empty_output_folder_without_overwrite(command, capsys, tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "earlier.txt").write_text("a reader's earlier results")
    code, _, err = _main(capsys, *command, "--out", str(out))
    assert code == 2 and "--overwrite" in err and str(out) in err
    assert (out / "earlier.txt").read_text() == "a reader's earlier results"
    # with --overwrite the command goes on to its own checks (here: the missing inputs), still exit 2 for those
    code, _, err = _main(capsys, *command, "--out", str(out), "--overwrite")
    assert code == 2 and "--overwrite" not in err


def test_shared_option_conventions(capsys):
    parsers = dict(_parsers())
    for words in (("train", "segmentation"), ("train", "abvs-planes"), ("train", "mupnet"), ("train", "dlum"),
                  ("train", "dlr"), ("predict",), ("evaluate",), ("restratify",), ("demo",), ("demo-train",)):
        options = {o for action in parsers[words]._actions for o in action.option_strings}
        assert "--threads" in options, words
    for words in (("train", "segmentation"), ("predict",), ("evaluate",), ("restratify",)):
        options = {o for action in parsers[words]._actions for o in action.option_strings}
        assert "--device" in options, words
    for words, parser in parsers.items():
        options = {o for action in parser._actions for o in action.option_strings}
        if "--out" in options and words[:1] not in (("train",), ("demo",), ("demo-train",), ("phantom",), ("dataset",)):
            assert "--overwrite" in options, words
    american = parsers[("train", "abvs-planes")].parse_args(["--data", "d", "--out", "o", "--optimizer", "adam"])
    assert american.optimiser == "adam"
    code, _, err = _main(capsys, "train", "abvs-planes", "--data", "d", "--out", "o", "--threads", "0")
    assert code == 2 and "--threads must be at least 1" in err


def test_cli_start_up_imports_no_torch():
    """--help and argument errors load no torch, MONAI or model family code (they answer at once)."""
    probe = ("import sys\nfrom BreastUSAITraining.cli.main import main\n"
             "codes = [main(['--help']), main(['train', 'mupnet', '--help']), main(['predict'])]\n"
             "heavy = sorted(m for m in ('torch', 'monai', 'scipy.stats', 'sklearn') if m in sys.modules)\n"
             "print('RESULT', codes, heavy)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "RESULT [0, 0, 2] []" in done.stdout, done.stdout[-500:] + done.stderr[-2000:]
