"""`ml2p-proof study`: bad specs (exit 2, key named), the missing extra, a run on the default
local cluster with a failing task (exit 1), an existing results file, --resume, and
`study summarize` in every format with plots."""

import json
import subprocess
import sys

import psutil
import pytest

from ml2p_symbolic.cli import main

SPEC = """\
[study]
name = "cli"
replications = 1
seed = 2

[grid]
students = [3, 120]
items = 6
traits = 2

[estimators.mml]
method = "mml"
nodes = 5
"""


@pytest.mark.parametrize(
    "edit, message",
    [
        (("students = [3, 120]", "studnets = [3, 120]"), "spec.toml:7:1: unknown key 'studnets' in [grid]"),
        (("students = [3, 120]", "students = []"), "spec.toml:7:12: grid.students is empty"),
        (("items = 6", "items = -6"), "spec.toml:8:9: grid.items must be a positive integer; got -6"),
        (("replications = 1", "replications = 0"), "spec.toml:3:16: study.replications must be a positive integer"),
    ],
)
def test_bad_specs_exit_2_naming_the_key(tmp_path, capsys, monkeypatch, edit, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC.replace(*edit))
    assert main(["study", "spec.toml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ml2p-proof study: error: ") and message in err
    assert not list(tmp_path.glob("*.results*"))  # refused before any work


def test_unreadable_spec_exits_2(tmp_path, capsys):
    assert main(["study", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read the spec" in capsys.readouterr().err
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00[study]")
    assert main(["study", str(tmp_path / "bin.toml")]) == 2
    assert "not UTF-8 text" in capsys.readouterr().err


def test_without_dask_the_study_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC)
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["study", "spec.toml"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'ml2p-symbolic[study]'" in err and "Traceback" not in err


def test_without_dask_the_library_and_check_work():
    code = ("import sys; sys.modules['dask'] = sys.modules['distributed'] = None\n"
            "import ml2p_symbolic, ml2p_symbolic.study, ml2p_symbolic.numeric\n"
            "from ml2p_symbolic.cli import main\n"
            "raise SystemExit(main(['check', 'eq1.P', '--quiet']))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "eq1.P" in done.stdout and "verified" in done.stdout


def _children():
    return {p.pid for p in psutil.Process().children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())}


def test_run_resume_and_summarize(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC)
    before = _children()
    # N = 3 fails (an item with one answer only): recorded, exit status 1
    assert main(["study", "spec.toml", "--workers", "1", "--results", "r.csv"]) == 1
    captured = capsys.readouterr()
    assert "| N=120, n=6, K=2, ECPE-like Q | mml | 1 | 0 |" in captured.out
    assert "| N=3, n=6, K=2, ECPE-like Q | mml | 0 | 1 |" in captured.out
    assert "failed: N=3, n=6, K=2, ECPE-like Q, mml: DomainError" in captured.err
    assert "2 tasks run, 0 finished before, 1 failed" in captured.err
    assert "tasks" in captured.err and "elapsed" in captured.err  # the progress bar

    assert main(["study", "spec.toml", "--results", "r.csv"]) == 2
    assert "exists; pass --resume" in capsys.readouterr().err
    # --resume skips the finished task and runs the failed one again
    assert main(["study", "spec.toml", "--results", "r.csv", "--resume", "--workers", "1", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["run"]["ran"], out["run"]["skipped"]) == (1, 1)
    assert _children() <= before, "the local cluster left processes behind"

    assert main(["study", "summarize", "r.csv"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("| condition | estimator | reps | failed | a RMSE |")
    assert main(["study", "summarize", "r.csv", "--format", "latex", "--out", "t.tex", "--plots", "plots"]) == 0
    tex = (tmp_path / "t.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex and "N=120" in tex
    assert (tmp_path / "plots" / "rmse_vs_n.png").stat().st_size > 1000
    assert (tmp_path / "plots" / "estimates.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["study", "summarize", "r.csv", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [s["reps"] for s in summary] == [0, 1] and summary[1]["a_rmse"]["n"] == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["study", "summarize"], "summarize needs the results file"),
        (["study", "summarize", "r.csv", "--resume"], "--resume run a study; they cannot be used with summarize"),
        (["study", "summarize", "nothing.csv"], "nothing.csv: no such results file"),
        (["study", "summarize", "r.txt"], "must be named *.csv or *.parquet"),
        (["study", "spec.toml", "--plots", "p"], "options of 'study summarize RESULTS'"),
        (["study", "spec.toml", "extra.csv"], "unexpected argument 'extra.csv'"),
        (["study", "spec.toml", "--workers", "0"], "workers must be at least 1"),
    ],
)
def test_usage_errors_exit_2(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "ml2p-proof study: error:" in err and message in err
