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
        (["study", "summarize", "r.csv", "--out", "./r.csv"], "--out ./r.csv is the results file"),
    ],
)
def test_usage_errors_exit_2(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "ml2p-proof study: error:" in err and message in err


# --------------------------------------------------------------------------- issue 18
def _one_line(err):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("ml2p-proof study: error: ")
    return lines[0]


def _no_cluster(monkeypatch):
    from ml2p_symbolic.study import runner

    monkeypatch.setattr(runner, "start_local_cluster", lambda *a: pytest.fail("a cluster was started"))


def _results_of(spec_text, path, tmp_path):
    """A results file of the spec's one N = 120 task, written in this process (no cluster)."""
    from ml2p_symbolic.study import ResultsWriter, expand_tasks, parse_spec, run_task

    spec = parse_spec(spec_text, str(tmp_path / "x.toml"))
    task = [t for t in expand_tasks(spec) if t.condition["students"] == 120][0]
    with ResultsWriter(path) as w:
        w.append(run_task(task))


@pytest.mark.parametrize(
    "edit, message",
    [
        (('name = "cli"', 'name = "other"'), "r.csv: the results file is of the study 'cli', not 'other'"),
        (("nodes = 5", "nodes = 7"), "r.csv: the results file was written with another version of the spec of 'cli'"),
        (("seed = 2", "seed = 3"), "another version of the spec"),
    ],
)
def test_resume_with_another_study_or_a_changed_spec_is_refused(tmp_path, capsys, monkeypatch, edit, message):
    """Issue 18, item 7: ``study B.toml --resume`` on study A's results mixed both."""
    monkeypatch.chdir(tmp_path)
    _results_of(SPEC, "r.csv", tmp_path)
    before = (tmp_path / "r.csv").read_bytes()
    (tmp_path / "b.toml").write_text(SPEC.replace(*edit))
    _no_cluster(monkeypatch)
    assert main(["study", "b.toml", "--results", "r.csv", "--resume", "--workers", "1"]) == 2
    assert message in _one_line(capsys.readouterr().err)
    assert (tmp_path / "r.csv").read_bytes() == before  # nothing mixed in
    # the same spec (comments and layout aside) is not refused: its one finished task is kept
    (tmp_path / "same.toml").write_text("# the same study\n" + SPEC.replace("students = [3, 120]", "students = [ 3, 120 ]"))
    from ml2p_symbolic.study import load_spec, read_results
    from ml2p_symbolic.study.runner import pending_tasks

    pending, finished = pending_tasks(load_spec("same.toml"), read_results("r.csv"))
    assert len(finished) == 1 and len(pending) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--workers", "0"], "--workers must be at least 1; got 0"),
        (["--workers", "-1"], "--workers must be at least 1; got -1"),
        (["--workers", "100000"], "--workers 100000 is above the limit of"),
        (["--scheduler", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'"),
    ],
)
def test_a_refused_run_leaves_no_results_file(tmp_path, capsys, monkeypatch, argv, message):
    """Issue 18, items 8 and 14: a refused run left a header-only results file, and the
    corrected command was then refused with 'the results file exists'."""
    from ml2p_symbolic.study import runner

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runner, "SCHEDULER_TIMEOUT", "1s", raising=False)
    (tmp_path / "spec.toml").write_text(SPEC.replace("students = [3, 120]", "students = 120"))
    assert main(["study", "spec.toml", "--results", "r.csv", "--quiet"] + argv) == 2
    assert message in _one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == [tmp_path / "spec.toml"]


def test_a_run_stopped_before_its_first_row_removes_the_file_it_created(tmp_path, capsys, monkeypatch):
    from ml2p_symbolic.study import runner

    class Client:
        def submit(self, *a, **k):
            raise KeyboardInterrupt  # Ctrl-C while the tasks are submitted

        def close(self):
            pass

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runner, "_connect", lambda *a: (Client(), None))
    (tmp_path / "spec.toml").write_text(SPEC)
    assert main(["study", "spec.toml", "--results", "r.csv", "--quiet"]) == 130
    assert not (tmp_path / "r.csv").exists()
    assert "interrupted before the first task finished; nothing was written" in capsys.readouterr().err
    # so the same command is not refused ("the results file exists") when given again
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text(SPEC.replace("students = [3, 120]", "students = 120"))
    assert main(["study", "spec.toml", "--results", "r.csv", "--quiet", "--workers", "1"]) == 0
    assert (tmp_path / "r.csv").read_text().count("\n") == 2  # the header and one row


def test_a_huge_grid_is_refused_before_it_is_built(tmp_path, capsys, monkeypatch):
    """Issue 18, item 16: 10^7 cells took 2 GB and 10 s to be refused, 10^8 a MemoryError."""
    from ml2p_symbolic.study.spec import StudySpec

    monkeypatch.setattr(StudySpec, "conditions", lambda self: pytest.fail("the grid was built"))
    for traits, cells in ((10, "1e+07"), (100, "1e+08")):
        text = SPEC.replace("students = [3, 120]", f"students = {list(range(100, 1100))}").replace(
            "items = 6", f"items = {list(range(400, 1400))}").replace("traits = 2", f"traits = {list(range(1, traits + 1))}")
        (tmp_path / "big.toml").write_text(text)
        assert main(["study", str(tmp_path / "big.toml")]) == 2
        line = _one_line(capsys.readouterr().err)
        assert f"the spec makes {cells} tasks ({cells} conditions x 1 estimators x 1 replications)" in line
        assert "above the limit of 1e+06" in line


@pytest.mark.parametrize(
    "students, estimator, message",
    [
        ("[3, 120]", '[estimators.vae]\nmethod = "vae"\n', "spec.toml:15:1: estimator 'vae' can never run on the condition students=3: "
         "holdout=0.1 leaves no students for training or validation (N=3); the held-out split needs N >= 6"),
        ("[1, 120]", '[estimators.vae]\nmethod = "vae"\nholdout = 0.5\n', "spec.toml:17:11: estimator 'vae' can never "
         "run on the condition students=1"),
        ("[120]", '[estimators.vae]\nmethod = "vae"\niw_samples = 1000000\n', "spec.toml:17:14: estimator 'vae' on the "
         "condition students=120, items=6, traits=2 needs about 35 GB of memory; the limit is 1.0 GB"),
        # 40 k B n + 24 k B K + 8 k N_val K = 1e6 x (40 x 120 x 6 + 24 x 120 x 2 + 8 x 12 x 2) = 34.8e9
    ],
)
def test_tasks_that_can_never_run_are_refused_before_any_work(tmp_path, capsys, monkeypatch, students, estimator,
                                                              message):
    """Issue 18, item 21: a VAE on N = 1 (its held-out split) or options needing far more
    memory than the machine were only found failing, task after task, during the run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "1GB")
    _no_cluster(monkeypatch)
    text = SPEC.replace("students = [3, 120]", f"students = {students}") + "\n" + estimator
    (tmp_path / "spec.toml").write_text(text)
    assert main(["study", "spec.toml", "--workers", "1"]) == 2
    assert message in _one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == [tmp_path / "spec.toml"]


def test_a_results_file_without_spec_digests_is_summarized_but_not_resumed(tmp_path, capsys, monkeypatch):
    """Files written before rows recorded their spec: still read, never continued (the spec
    that made them cannot be told)."""
    from ml2p_symbolic.study.tasks import COLUMNS

    monkeypatch.chdir(tmp_path)
    _results_of(SPEC, "new.csv", tmp_path)
    import csv

    with open(tmp_path / "new.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    at = list(COLUMNS).index("spec_digest")
    assert rows[0][at] == "spec_digest" and rows[1][at]
    with open(tmp_path / "old.csv", "w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([r[:at] + r[at + 1:] for r in rows])
    assert main(["study", "summarize", "old.csv"]) == 0
    assert "| N=120, n=6, K=2, ECPE-like Q | mml | 1 |" in capsys.readouterr().out
    (tmp_path / "spec.toml").write_text(SPEC)
    _no_cluster(monkeypatch)
    before = (tmp_path / "old.csv").read_bytes()
    assert main(["study", "spec.toml", "--results", "old.csv", "--resume"]) == 2
    assert "does not record its spec (written by an older version)" in _one_line(capsys.readouterr().err)
    assert (tmp_path / "old.csv").read_bytes() == before
