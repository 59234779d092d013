"""`ml2p-proof fit`: exit codes, the --json schema on a tiny run, bad files, --out."""

import json

import pytest

from ml2p_symbolic.cli import main

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
        ("0,1\n1\n", "1\n1\n", "line 2 has 1 cells"),
        ("0,1\n1,2\n", "1\n1\n", "expected 0, 1 or empty"),
        ("0,1\n1,0\n", "1\n1\n1\n", "3 rows but the responses have 2 items"),
        ("0,1\n1,0\n", "1,0\n1,0\n", "have no items"),
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
        (["--iw-samples", "0"], "iw_samples"),
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
