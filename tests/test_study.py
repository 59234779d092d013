"""Studies: spec validation, seeded tasks, the results file (CSV and Parquet), and runs on a
local Dask cluster: a tiny study, a failing task recorded, an interrupted study resumed to
the same table, a resumed study with changed options, clean shutdown (the CLI test checks
the cluster that run_study starts itself)."""

import dataclasses
import json
import os

import numpy as np
import psutil
import pytest

from ml2p_symbolic.errors import ResultsError, SpecError
from ml2p_symbolic.numeric.data import load_or_simulate
from ml2p_symbolic.study import (ResultsWriter, expand_tasks, parse_spec, read_results, run_study,
                                 run_task, summarize, summary_latex, summary_markdown)
from ml2p_symbolic.study.runner import pending_tasks, start_local_cluster
from ml2p_symbolic.study.tasks import COLUMNS, error_row

TINY = """
[study]
name = "tiny"
replications = 2
seed = 3

[grid]
students = [150, 300]
items = 9
traits = 3

[estimators."vae k=2"]
method = "vae"
iw_samples = 2
epochs = 2

[estimators.mml]
method = "mml"
nodes = 5
"""

FIGS = ("a_rmse", "a_bias", "a_corr", "b_rmse", "b_bias", "theta_rmse", "theta_corr")


def _table(path):
    """The summary table without the timing column (which differs from run to run)."""
    return summary_markdown(summarize(read_results(path), figures=FIGS), figures=FIGS)


# --------------------------------------------------------------------------- specs
@pytest.mark.parametrize(
    "edit, where, message",
    [
        (("students = [150, 300]", "studnets = [150, 300]"), "spec.toml:8:1",
         "unknown key 'studnets' in [grid] (did you mean 'students'?)"),
        (("students = [150, 300]", "students = []"), "spec.toml:8:12", "grid.students is empty"),
        (("students = [150, 300]", "students = [150, -300]"), "spec.toml:8:12",
         "every value of grid.students must be a positive integer; got -300"),
        (("items = 9", "items = 0"), "spec.toml:9:9", "grid.items must be a positive integer; got 0"),
        (("traits = 3", "traits = 2.5"), "spec.toml:10:10", "grid.traits must be a positive integer"),
        (("replications = 2", "replications = -1"), "spec.toml:4:16", "study.replications must be a positive integer"),
        (("seed = 3", "seed = -3"), "spec.toml:5:8", "study.seed must be an integer >= 0"),
        (("iw_samples = 2", "iw_sample = 2"), "spec.toml:14:1", "unknown key 'iw_sample' in [estimators.\"vae k=2\"] (method vae)"),
        (("epochs = 2", "epochs = 0"), "spec.toml:15:10", "[estimators.\"vae k=2\"] epochs must be a positive integer"),
        (("nodes = 5", "nodes = -5"), "spec.toml:19:9", "[estimators.mml] nodes must be a positive integer"),
        (('method = "mml"', 'method = "em"'), "spec.toml:18:10", "needs method = \"vae\" or \"mml\"; got 'em'"),
        (("items = 9", "items = 6"), "spec.toml:9:9", "the 'ecpe' Q design needs items >= 3 x traits"),
        (("[grid]", "[gird]"), "spec.toml:7:1", "unknown key 'gird' in the spec (tables) (did you mean 'grid'?)"),
        (("seed = 3", "seed = 3 3"), "spec.toml:5:10", "TOML syntax error"),
        (("nodes = 5", "nodes = 15\nmax_work = 1e3"), "spec.toml:19:9", "above the limit max_work"),
        (("epochs = 2", 'epochs = 2\nactivation = "relu6"'), "spec.toml:16:14", "activation must be an activation name"),
        (("traits = 3", "traits = 3\nq = [0.2, 0.2000001]"), "spec.toml:11:5", "two grid values name the same condition"),
        (("replications = 2", "replications = 300000"), "spec.toml:4:16", "above the limit of 1e+06"),
    ],
)
def test_bad_specs_are_refused_naming_the_key(edit, where, message):
    text = TINY.replace(*edit)
    assert text != TINY
    with pytest.raises(SpecError) as info:
        parse_spec(text, "spec.toml")
    assert str(info.value).startswith(where + ": ") and message in str(info.value)


def test_missing_pieces_are_named():
    with pytest.raises(SpecError, match=r"^s.toml: missing table \[estimators\]"):
        parse_spec(TINY.split("[estimators")[0], "s.toml")
    with pytest.raises(SpecError, match=r"^s.toml:2:1: \[study\] needs replications"):
        parse_spec(TINY.replace("replications = 2\n", ""), "s.toml")
    with pytest.raises(SpecError, match=r"^s.toml:7:1: \[grid\] needs traits"):
        parse_spec(TINY.replace("traits = 3\n", ""), "s.toml")
    with pytest.raises(SpecError, match=r"\[estimators\] is empty"):
        parse_spec(TINY.split("[estimators")[0] + "[estimators]\n", "s.toml")


def test_spec_values_and_digest():
    spec = parse_spec(TINY, "tiny.toml")
    assert spec.grid == {"students": (150, 300), "items": (9,), "traits": (3,), "q": ("ecpe",),
                         "correlated": (False,)}
    assert [e.name for e in spec.estimators] == ["vae k=2", "mml"]
    assert spec.estimators[0].options == {"iw_samples": 2, "epochs": 2}
    # comments and layout do not change the digest; a value does
    assert parse_spec("# hello\n" + TINY, "tiny.toml").digest == spec.digest
    assert parse_spec(TINY.replace("seed = 3", "seed = 4"), "tiny.toml").digest != spec.digest


# --------------------------------------------------------------------------- tasks
def test_tasks_and_seeds():
    spec = parse_spec(TINY, "tiny.toml")
    tasks = expand_tasks(spec)
    assert len(tasks) == 2 * 2 * 2 and len({t.task_id for t in tasks}) == len(tasks)
    assert tasks[0].task_id == "N150-n9-K3-qecpe-indep/vae k=2/rep0"
    by = {(t.condition["students"], t.rep): set() for t in tasks}
    for t in tasks:
        by[(t.condition["students"], t.rep)].add(t.seed)
    assert all(len(s) == 1 for s in by.values())  # every estimator sees the same data set
    assert len({next(iter(s)) for s in by.values()}) == 4  # "spawn": all different
    # adding a grid value changes no other condition's seeds
    wider = parse_spec(TINY.replace("[150, 300]", "[150, 300, 600]"), "tiny.toml")
    old = {t.task_id: t.seed for t in tasks}
    assert all(old[t.task_id] == t.seed for t in expand_tasks(wider) if t.task_id in old)
    seq = parse_spec(TINY.replace("seed = 3", 'seed = 3\nseeding = "sequential"'), "tiny.toml")
    assert sorted({t.seed for t in expand_tasks(seq)}) == [3, 4]


def test_a_task_reruns_alone_with_the_same_data_and_result():
    task = expand_tasks(parse_spec(TINY, "tiny.toml"))[1]  # mml, N = 150, rep 0
    row1, row2 = run_task(task), run_task(task)
    assert row1["status"] == "ok" and set(row1) == set(COLUMNS)
    assert all(row1[f] == row2[f] for f in FIGS)
    U, Q, truth = load_or_simulate(students=150, items=9, traits=3, seed=row1["seed"])
    assert json.loads(row1["b_true"]) == pytest.approx(truth.b.tolist(), abs=1e-9)


def test_a_failing_fit_gives_an_error_row():
    # a spec with N = 3 is refused (the VAE's held-out split); a task with it fails when run
    spec = parse_spec(TINY, "tiny.toml")
    tasks = [dataclasses.replace(t, condition={**t.condition, "students": 3}) for t in expand_tasks(spec)[:2]]
    rows = [run_task(t) for t in tasks]
    assert [r["status"] for r in rows] == ["error", "error"]
    assert "DomainError" in rows[0]["error"] and "holdout" in rows[0]["error"]
    assert "every observed response is the same" in rows[1]["error"]
    assert rows[0]["a_rmse"] is None
    # a message on several lines is kept on one, so every row is one line of a CSV file
    row = error_row(expand_tasks(spec)[0], ValueError("first\n  second\n"))
    assert row["error"] == "ValueError: first | second" and row["status"] == "error"


# --------------------------------------------------------------------------- results files
def _rows():
    spec = parse_spec(TINY, "tiny.toml")
    rows = []
    for i, t in enumerate(expand_tasks(spec)[:3]):
        r = dict.fromkeys(COLUMNS)
        r.update(task_id=t.task_id, study="tiny", condition="c", students=150, items=9, traits=3, q="ecpe",
                 correlated=False, estimator=t.estimator, method=t.method, options="{}", rep=t.rep,
                 seed=t.seed, status="ok", error="", a_rmse=0.1 * (i + 1), finished_at=float(i))
        rows.append(r)
    return rows


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_results_round_trip_and_latest_row_wins(tmp_path, suffix):
    path = str(tmp_path / ("r" + suffix))
    rows = _rows()
    with ResultsWriter(path) as w:
        for r in rows:
            w.append(r)
    back = read_results(path)
    assert [r["a_rmse"] for r in back] == [0.1, 0.2, pytest.approx(0.3)]
    assert back[0]["correlated"] is False and back[0]["b_rmse"] is None and back[0]["seed"] == rows[0]["seed"]
    with pytest.raises(ResultsError, match="exists; pass --resume"):
        ResultsWriter(path)
    with ResultsWriter(path, resume=True) as w:
        w.append({**rows[0], "a_rmse": 0.9, "finished_at": 10.0})
    back = read_results(path)
    assert len(back) == 3 and back[-1]["a_rmse"] == 0.9
    if suffix == ".parquet":  # the parts of each run were merged into one file
        assert len([f for f in os.listdir(path) if f.endswith(".parquet")]) == 1


def test_a_csv_line_cut_short_is_dropped_on_resume(tmp_path):
    path = str(tmp_path / "r.csv")
    with ResultsWriter(path) as w:
        for r in _rows()[:2]:
            w.append(r)
    with open(path, "a") as fh:
        fh.write("N150-n9-K3-qecpe-indep/mml/rep0,tiny,c,15")  # a hard kill mid-line
    assert len(read_results(path)) == 2
    with ResultsWriter(path, resume=True) as w:
        w.append(_rows()[2])
    assert len(read_results(path)) == 3
    with open(path) as fh:
        assert all(line.count(",") == len(COLUMNS) - 1 for line in fh if '"' not in line)


def test_foreign_results_files_are_refused(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ResultsError, match=r"x.csv:1: not a results file"):
        read_results(str(tmp_path / "x.csv"))
    with pytest.raises(ResultsError, match=r"x.csv:1: not a results file"):
        ResultsWriter(str(tmp_path / "x.csv"), resume=True)
    with pytest.raises(ResultsError, match=r"must be named \*.csv or \*.parquet"):
        ResultsWriter(str(tmp_path / "x.txt"))


# --------------------------------------------------------------------------- on a local cluster
def _children():
    return {p.pid for p in psutil.Process().children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())}


@pytest.fixture(scope="module")
def scheduler():
    """A local Dask cluster (2 worker processes) shared by the tests below; shut down after."""
    before = _children()
    cluster = start_local_cluster(2)
    yield cluster.scheduler_address
    cluster.close()
    assert _children() <= before, "the local cluster left processes behind"


@pytest.fixture(scope="module")
def full_run(scheduler, tmp_path_factory):
    """The tiny study, uninterrupted, on the shared cluster."""
    path = str(tmp_path_factory.mktemp("full") / "tiny.results.csv")
    run = run_study(parse_spec(TINY, "tiny.toml"), path, scheduler=scheduler, quiet=True)
    return run, path


def test_a_tiny_study_on_a_local_cluster(full_run):
    run, path = full_run
    assert (run["tasks"], run["ran"], run["skipped"], run["failed"]) == (8, 8, 0, 0)
    rows = read_results(path)
    assert len(rows) == 8 and all(r["status"] == "ok" for r in rows)
    assert len({r["worker"] for r in rows}) >= 1
    # the cluster computed what the task computes in this process
    task = expand_tasks(parse_spec(TINY, "tiny.toml"))[3]
    mine = run_task(task)
    theirs = next(r for r in rows if r["task_id"] == task.task_id)
    assert all(mine[f] == theirs[f] for f in FIGS)
    summary = summarize(rows)
    assert [(s["students"], s["estimator"], s["reps"]) for s in summary] == [
        (150, "vae k=2", 2), (150, "mml", 2), (300, "vae k=2", 2), (300, "mml", 2)]
    a = [r["a_rmse"] for r in rows if r["students"] == 150 and r["estimator"] == "mml"]
    assert summary[1]["a_rmse"]["mean"] == pytest.approx(np.mean(a))
    assert summary[1]["a_rmse"]["se"] == pytest.approx(np.std(a, ddof=1) / np.sqrt(2))
    latex = summary_latex(summary)
    assert latex.startswith(r"\begin{tabular}") and r"\toprule" in latex and r"\bottomrule" in latex


def test_a_failing_task_is_recorded_and_the_study_goes_on(scheduler, tmp_path):
    # (with its default held-out split the VAE cannot run on N = 3: the spec would be refused)
    spec = parse_spec(TINY.replace("[150, 300]", "[3, 150]").replace("replications = 2", "replications = 1")
                      .replace("epochs = 2", "epochs = 2\nholdout = 0"), "tiny.toml")
    path = str(tmp_path / "f.csv")
    run = run_study(spec, path, scheduler=scheduler, quiet=True)
    assert (run["ran"], run["failed"]) == (4, 1)
    rows = {r["task_id"]: r for r in read_results(path)}
    assert rows["N3-n9-K3-qecpe-indep/mml/rep0"]["status"] == "error"
    assert "every observed response is the same" in rows["N3-n9-K3-qecpe-indep/mml/rep0"]["error"]
    assert rows["N150-n9-K3-qecpe-indep/mml/rep0"]["status"] == "ok"
    s = summarize(list(rows.values()))
    assert [x["failed"] for x in s] == [0, 1, 0, 0] and "failed" in summary_markdown(s)


def test_an_interrupted_study_resumes_to_the_same_table(scheduler, full_run, tmp_path):
    spec = parse_spec(TINY, "tiny.toml")
    path = str(tmp_path / "tiny.results.csv")

    def interrupt(done, total, failed, elapsed):
        if done == 3:
            raise KeyboardInterrupt  # as Ctrl-C after the third row

    with pytest.raises(KeyboardInterrupt):
        run_study(spec, path, scheduler=scheduler, progress=interrupt)
    assert len(read_results(path)) == 3
    pending, finished = pending_tasks(spec, read_results(path))
    assert (len(pending), len(finished)) == (5, 3)
    # a hard kill may also leave half a line: it is dropped
    with open(path, "a") as fh:
        fh.write("N300-n9-K3-qecpe-indep/mml/rep1,tiny,N300")
    run = run_study(spec, path, scheduler=scheduler, resume=True, quiet=True)
    assert (run["ran"], run["skipped"]) == (5, 3)
    assert _table(path) == _table(full_run[1])
    run = run_study(spec, path, scheduler=scheduler, resume=True, quiet=True)
    assert (run["ran"], run["skipped"]) == (0, 8)


def test_resume_with_a_changed_spec_is_refused_and_mixes_nothing(scheduler, full_run, tmp_path):
    path = str(tmp_path / "tiny.results.parquet")
    run_study(parse_spec(TINY, "tiny.toml"), path, scheduler=scheduler, quiet=True)
    assert _table(path) == _table(full_run[1])  # Parquet holds the same results as CSV
    before = read_results(path)
    changed = parse_spec(TINY.replace("nodes = 5", "nodes = 6"), "tiny.toml")
    with pytest.raises(ResultsError, match="another version of the spec of 'tiny'"):
        run_study(changed, path, scheduler=scheduler, resume=True, quiet=True)
    assert read_results(path) == before
