"""`ml2p-proof fit`: exit codes, the --json schema on a tiny run, bad files, --out."""

import json

import pytest

from ml2p_symbolic.cli import main
from ml2p_symbolic.numeric import train

TINY = ["fit", "--students", "300", "--items", "9", "--traits", "3", "--epochs", "3", "--seed", "1"]


def test_json_schema_on_a_tiny_simulated_run(capsys):
    assert main(TINY + ["--json", "--iw-samples", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["recovery"]) == {"a", "b", "theta"}
    for name in ("a", "b", "theta"):
        assert set(out["recovery"][name]) == {"rmse", "bias", "corr"}
        assert all(isinstance(v, float) for v in out["recovery"][name].values())
    assert out["seconds"] >= 0 and out["epochs"] == 3 and out["iw_samples"] == 3
    assert (out["students"], out["items"], out["traits"]) == (300, 9, 3)


def test_text_output_and_quiet(capsys):
    assert main(TINY + ["--quiet"]) == 0
    captured = capsys.readouterr()
    assert "rmse" in captured.out and "theta" in captured.out and captured.err == ""
    assert main(TINY) == 0
    assert "epoch 3/3" in capsys.readouterr().err


def test_files_and_out_dir(tmp_path, capsys):
    (tmp_path / "u.csv").write_text("i1,i2,i3,i4\n" + "0,1,1,\n1,1,0,1\n0,0,1,1\n1,0,1,0\n" * 30)
    (tmp_path / "q.csv").write_text("t1,t2\n1,0\n1,1\n0,1\n0,1\n")
    out_dir = tmp_path / "est"
    args = ["fit", "--responses", str(tmp_path / "u.csv"), "--q", str(tmp_path / "q.csv"),
            "--epochs", "2", "--quiet", "--out", str(out_dir)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "truth unknown" in text and "a_hat.csv" in text
    assert (out_dir / "theta_hat.csv").read_text().count("\n") == 121  # header + 120 students
    assert main(args + ["--json"]) == 0
    assert json.loads(capsys.readouterr().out)["recovery"] is None


@pytest.mark.parametrize(
    "responses, q, message",
    [
        ("0,1\n1\n", "1\n1\n", "u.csv:2: ragged row: 1 cells"),
        ("0,1\n1,2\n", "1\n1\n", "u.csv:2:2: '2' is not a valid responses value; expected 0, 1 or empty"),
        ("0,1\n1,0\n", "1\n1\n1\n", "3 item rows but the responses have 2 items"),
        ("0,1\n1,0\n", "1,0\n1,0\n", "trait 2, column 2, is measured by no item"),
        ("i1;i2\n0;1\n", "1\n1\n", "u.csv:1: the cells are separated by semicolons"),
    ],
)
def test_bad_files_exit_2_with_a_message(tmp_path, capsys, responses, q, message):
    (tmp_path / "u.csv").write_text(responses)
    (tmp_path / "q.csv").write_text(q)
    status = main(["fit", "--responses", str(tmp_path / "u.csv"), "--q", str(tmp_path / "q.csv"), "--quiet"])
    assert status == 2
    err = capsys.readouterr().err
    assert "ml2p-proof fit: error:" in err and message in err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--responses", "u.csv"], "both a responses file and a Q-matrix file"),
        (["--hidden", "a,b"], "--hidden"),
        (["--iw-samples", "0"], "--iw-samples must be a positive integer; got 0"),
    ],
)
def test_bad_arguments_exit_2(capsys, extra, message):
    assert main(TINY + ["--quiet"] + extra) == 2
    assert message in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["fit", "--responses", str(tmp_path / "no.csv"), "--q", str(tmp_path / "no.csv")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_sim6_options_q_prob_correlated_and_no_refit(capsys):
    args = TINY + ["--items", "12", "--q-prob", "0.3", "--correlated", "--no-refit", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["recovery"]) == {"a", "b", "theta"}
    for name in ("a", "b", "theta"):
        assert set(out["recovery"][name]) == {"rmse", "bias", "corr"}
    assert out["refit_epochs"] == 0 and out["items"] == 12
    Sigma = out["Sigma"]  # the correlation matrix that generated theta and was given to fit
    assert len(Sigma) == 3 and all(Sigma[k][k] == 1.0 for k in range(3))
    assert all(0.0 <= Sigma[i][j] == Sigma[j][i] <= 0.5 for i in range(3) for j in range(3) if i != j)
    assert main(TINY + ["--q-prob", "1", "--quiet"]) == 0
    assert "Q_ik ~ Bernoulli(1)" in capsys.readouterr().out


def test_refit_is_the_default(capsys):
    assert main(TINY + ["--json"]) == 0
    assert json.loads(capsys.readouterr().out)["refit_epochs"] > 0


@pytest.mark.parametrize("p", ["0", "-0.2", "1.5", "nan"])
def test_q_prob_outside_the_unit_interval_exits_2(capsys, p):
    assert main(TINY + ["--quiet", "--q-prob", p]) == 2
    assert "--q-prob must be a probability in (0, 1]" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--q-prob", "0.2"], ["--correlated"]])
def test_simulation_options_with_files_exit_2(tmp_path, capsys, extra):
    (tmp_path / "u.csv").write_text("0,1\n1,0\n")
    (tmp_path / "q.csv").write_text("1\n1\n")
    args = ["fit", "--responses", str(tmp_path / "u.csv"), "--q", str(tmp_path / "q.csv"), "--quiet"]
    assert main(args + extra) == 2
    assert "describe simulated data" in capsys.readouterr().err



# --------------------------------------------------------------------------- issue 9: bad input
def _fit_files(tmp_path, responses, q, *extra):
    u, qf = tmp_path / "u.csv", tmp_path / "q.csv"
    u.write_bytes(responses if isinstance(responses, bytes) else responses.encode("utf-8"))
    qf.write_bytes(q if isinstance(q, bytes) else q.encode("utf-8"))
    return ["fit", "--responses", str(u), "--q", str(qf), "--epochs", "2", "--quiet", *extra]


def _one_error_line(capsys, command="fit"):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ml2p-proof {command}: error: "), err
    assert "Traceback" not in err and "np." not in err
    return err


def test_every_student_kept_with_an_id_column_bom_and_an_all_missing_row(tmp_path, capsys):
    """Excel's BOM must not eat student 1; ',,,' is a student with every answer missing."""
    rows = ["s%03d,%d,%d,%d,%d" % (j, j % 2, (j // 2) % 2, (j // 3) % 2, 1 - j % 2) for j in range(1, 41)]
    rows[6] = "s007,,,,"
    text = "\ufeffstudent,i1,i2,i3,i4\n" + "\n".join(rows) + "\n"
    out = tmp_path / "est"
    assert main(_fit_files(tmp_path, text, "t1,t2\n1,0\n1,1\n0,1\n0,1\n", "--out", str(out))) == 0
    theta = (out / "theta_hat.csv").read_text().splitlines()
    assert theta[0] == "student,theta1,theta2" and len(theta) == 41
    assert [line.split(",")[0] for line in theta[1:]] == ["s%03d" % j for j in range(1, 41)]
    # without an id column: the row number, counted from the first student row
    plain = "i1,i2\n" + "0,1\n,\n1,1\n" * 10
    assert main(_fit_files(tmp_path, plain, "1\n1\n", "--out", str(out))) == 0
    theta = (out / "theta_hat.csv").read_text().splitlines()
    assert len(theta) == 31 and theta[1].startswith("1,") and theta[30].startswith("30,")


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(train, "fit", lambda *a, **k: pytest.fail("trained before checking --out"))
    (tmp_path / "taken").write_text("not a directory")
    assert main(TINY + ["--quiet", "--out", str(tmp_path / "taken")]) == 2
    assert "exists and is not a directory" in _one_error_line(capsys)
    assert (tmp_path / "taken").read_text() == "not a directory"


def test_ctrl_c_during_fit_exits_130_with_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "fit", interrupted)
    assert main(TINY + ["--out", str(tmp_path / "est")]) == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == "ml2p-proof fit: interrupted" and "Traceback" not in err
    assert not (tmp_path / "est").exists()


@pytest.mark.parametrize("content", [
    "0,1\n1,0\n".encode("utf-16"),
    b"\x00\x01\x02PK\x03\x04binary\x00",
])
def test_binary_or_utf16_responses_exit_2_with_one_line(tmp_path, capsys, content):
    assert main(_fit_files(tmp_path, content, "1\n1\n")) == 2
    err = _one_error_line(capsys)
    assert "UTF-16" in err or "binary file" in err


@pytest.mark.parametrize("option, value, message", [
    ("--seed", "-1", "--seed must be an integer >= 0; got -1"),
    ("--lr", "-1", "--lr must be a positive number; got -1.0"),
    ("--lr", "0", "--lr must be a positive number; got 0.0"),
    ("--lr", "inf", "--lr must be a positive number; got inf"),
    ("--epochs", "0", "--epochs must be a positive integer; got 0"),
    ("--batch-size", "-5", "--batch-size must be a positive integer; got -5"),
    ("--holdout", "1", "--holdout must be a fraction in [0, 1); got 1.0"),
    ("--hidden", "64,0", "--hidden must be one or more positive integer widths; got 64,0"),
    ("--students", "0", "--students must be a positive integer; got 0"),
    ("--items", "-3", "--items must be a positive integer; got -3"),
    ("--traits", "0", "--traits must be a positive integer; got 0"),
])
def test_every_numeric_option_is_checked_before_work(capsys, monkeypatch, option, value, message):
    monkeypatch.setattr(train, "fit", lambda *a, **k: pytest.fail("trained with a bad option"))
    assert main(TINY + ["--quiet", option, value]) == 2
    assert message in _one_error_line(capsys)


def test_importance_samples_beyond_memory_refused_at_once_with_the_figure(capsys, monkeypatch):
    monkeypatch.setattr(train, "fit", lambda *a, **k: pytest.fail("trained"))
    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "16GB")
    assert main(TINY + ["--quiet", "--iw-samples", "1000000"]) == 2
    err = _one_error_line(capsys)
    assert "--iw-samples 1000000 needs about 56 GB of memory; the limit is 16 GB" in err


def test_students_beyond_memory_refused_at_once_with_the_figure(capsys, monkeypatch):
    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "16GB")
    assert main(["fit", "--students", "100000000", "--quiet"]) == 2
    err = _one_error_line(capsys)
    assert "fit --students 100000000 --items 28 --traits 3 needs about 1" in err
    assert "GB of memory; the limit is 16 GB (ML2P_MEMORY_LIMIT); use fewer students" in err


def test_an_item_nobody_answered_is_named_not_blamed_on_the_learning_rate(tmp_path, capsys):
    assert main(_fit_files(tmp_path, "i1,i2,i3\n" + "0,,1\n1,,0\n1,,1\n0,,0\n" * 5, "1\n1\n1\n")) == 2
    err = _one_error_line(capsys)
    assert "item 2 (column of the responses, counted from 1) was answered by no student" in err
    assert "lr" not in err


# --------------------------------------------------------------------------- issue 11: --estimate-correlation
def test_estimate_correlation_with_correlated_simulated_data(capsys, tmp_path):
    args = TINY + ["--items", "12", "--q-prob", "0.3", "--correlated", "--estimate-correlation", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["recovery"]) == {"a", "b", "theta", "Sigma"}
    R, Sigma = out["Sigma_hat"], out["Sigma"]  # the estimate, and the truth that drew the data
    assert len(R) == 3 and all(R[k][k] == 1.0 for k in range(3))
    assert all(R[i][j] == R[j][i] for i in range(3) for j in range(3))
    off = [(i, j) for i in range(3) for j in range(i + 1, 3)]
    rmse = (sum((R[i][j] - Sigma[i][j]) ** 2 for i, j in off) / 3) ** 0.5
    assert out["recovery"]["Sigma"]["rmse"] == pytest.approx(rmse)
    assert main(TINY + ["--correlated", "--estimate-correlation", "--quiet", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "Sigma estimated by the fit" in text and "estimated correlation matrix R" in text
    assert (tmp_path / "Sigma_hat.csv").read_text().splitlines()[0] == "theta1,theta2,theta3"


def test_correlated_without_the_flag_gives_sigma_to_the_fit(capsys):
    assert main(TINY + ["--correlated", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["Sigma_hat"] is None and "Sigma" not in out["recovery"] and len(out["Sigma"]) == 3


def test_estimate_correlation_with_files(tmp_path, capsys):
    (tmp_path / "u.csv").write_text("0,1,1,0\n1,1,0,1\n0,0,1,1\n1,0,1,0\n" * 30)
    (tmp_path / "q.csv").write_text("1,0\n1,1\n0,1\n0,1\n")
    args = ["fit", "--responses", str(tmp_path / "u.csv"), "--q", str(tmp_path / "q.csv"),
            "--epochs", "2", "--estimate-correlation", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["recovery"] is None and len(out["Sigma_hat"]) == 2 and out["Sigma_hat"][0][0] == 1.0


@pytest.mark.parametrize("method", ["vae", "mml"])
def test_estimate_correlation_with_one_trait_exits_2_before_any_work(capsys, monkeypatch, method):
    monkeypatch.setattr(train, "fit", lambda *a, **k: pytest.fail("trained"))
    extra = ["--epochs", "3"] if method == "vae" else []
    args = ["fit", "--students", "300", "--items", "4", "--traits", "1", "--quiet", "--method", method,
            "--estimate-correlation"] + extra
    assert main(args) == 2
    assert "--estimate-correlation needs --traits >= 2" in _one_error_line(capsys)


def test_estimate_correlation_with_mml(capsys):
    args = ["fit", "--students", "1000", "--items", "12", "--traits", "2", "--seed", "2", "--correlated",
            "--estimate-correlation", "--method", "mml", "--nodes", "11", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "mml" and out["Sigma_hat"][0][0] == 1.0
    assert abs(out["Sigma_hat"][0][1] - out["Sigma"][0][1]) == pytest.approx(out["recovery"]["Sigma"]["rmse"])


def test_estimate_correlation_with_a_one_trait_q_file_exits_2(tmp_path, capsys):
    assert main(_fit_files(tmp_path, "0,1\n1,0\n1,1\n", "1\n1\n", "--estimate-correlation")) == 2
    assert "estimate_correlation needs K >= 2 traits" in _one_error_line(capsys)


def test_a_batch_larger_than_the_students_is_counted_as_the_students(capsys, monkeypatch):
    """Issue 18, item 21: ``--batch-size 100000000`` with 200 students was refused as needing
    43 GB; no batch holds more than the 200 students, so the run needs a few MB."""
    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "1GB")
    argv = ["fit", "--students", "200", "--items", "9", "--traits", "3", "--epochs", "2", "--quiet", "--json"]
    assert main(argv + ["--batch-size", "100000000"]) == 0
    big = json.loads(capsys.readouterr().out)
    assert main(argv + ["--batch-size", "200"]) == 0  # the same run: one batch of every student
    same = json.loads(capsys.readouterr().out)
    assert big["recovery"] == same["recovery"]
    assert train.fit_bytes(200, 9, 3, batch_size=10 ** 8) == train.fit_bytes(200, 9, 3, batch_size=200) < 1e7


def test_a_held_out_split_of_too_few_students_is_refused_before_simulating(capsys, monkeypatch):
    import importlib

    simulate = importlib.import_module("ml2p_symbolic.numeric.simulate")
    monkeypatch.setattr(simulate, "simulate", lambda *a, **k: pytest.fail("simulated before the check"))
    assert main(["fit", "--students", "1", "--items", "9", "--traits", "3", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--holdout=0.1 leaves no students" in err and "N >= 6" in err
