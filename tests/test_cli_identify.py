"""Tests of ``ml2p-proof identify``: parsing and printing around identifiability.analyze."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from ml2p_symbolic.cli import main
from ml2p_symbolic.identifiability import analyze
from strategies import q_matrices


def _write(tmp_path, rows, name="q.csv"):
    f = tmp_path / name
    f.write_text("\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return str(f)


def test_json_prints_exactly_the_three_fields(tmp_path, capsys):
    assert main(["identify", _write(tmp_path, [[1, 1]] * 4), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"free_dimensions", "identified", "symmetries"}
    assert out["free_dimensions"] == 1 and out["identified"] is False


def test_no_positive_adds_sign_flips(tmp_path, capsys):
    path = _write(tmp_path, [[1]] * 3)
    assert main(["identify", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "free_dimensions": 0, "identified": True, "symmetries": []
    }
    assert main(["identify", path, "--json", "--no-positive"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["identified"] is False and "sign flip" in out["symmetries"][0]


def test_table_output(tmp_path, capsys):
    assert main(["identify", _write(tmp_path, [[1, 0]] * 3 + [[0, 1]] * 3)]) == 0
    out = capsys.readouterr().out
    assert "identified:       yes" in out and "agree" in out


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("1,0\n1\n", "ragged"), ("1,2\n", "0 or 1"), ("1,1,1,1\n", "handles 1 to 3 traits")],
)
def test_malformed_file_exit_2(tmp_path, capsys, text, message):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    assert main(["identify", str(f)]) == 2
    err = capsys.readouterr().err
    assert "ml2p-proof identify: error:" in err and message in err


def test_missing_file_exit_2(tmp_path, capsys):
    assert main(["identify", str(tmp_path / "nope.csv")]) == 2
    assert "error" in capsys.readouterr().err


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q_matrices(max_items=5, max_traits=2))
def test_json_matches_the_library(tmp_path, capsys, Q):
    path = _write(tmp_path, np.asarray(Q).tolist())
    assert main(["identify", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == analyze(Q).to_dict()



# --------------------------------------------------------------------------- issue 9: bad input
def _one_error_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ml2p-proof identify: error: "), err
    assert "Traceback" not in err
    return err


def test_reads_q_exactly_as_fit_does(tmp_path, capsys):
    """Item-name column, header, 1.0 and a BOM: the file fit --q reads."""
    f = tmp_path / "q.csv"
    f.write_text("\ufeffitem,t1,t2\nx1,1,0\nx2,1.0,0\nx3,1,0\nx4,0,1\nx5,0,1.0\nx6,0,1\n")
    assert main(["identify", str(f), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["identified"] is True


def test_a_trait_with_no_items_is_refused_not_identified(tmp_path, capsys):
    assert main(["identify", _write(tmp_path, [[1, 0]] * 4)]) == 2
    assert "trait 2, column 2, is measured by no item" in _one_error_line(capsys)


@pytest.mark.parametrize("content, words", [
    ("1,0\n0,1\n".encode("utf-16"), "UTF-16"),
    (b"\x7fELF\x02\x01\x01\x00\x00", "binary file"),
    ("t1;t2\n1;0\n0;1\n".encode(), "q.csv:1: the cells are separated by semicolons"),
])
def test_binary_utf16_or_semicolon_files_exit_2_with_one_line(tmp_path, capsys, content, words):
    f = tmp_path / "q.csv"
    f.write_bytes(content)
    assert main(["identify", str(f)]) == 2
    assert words in _one_error_line(capsys)


def test_help_says_the_trait_limit(capsys):
    with pytest.raises(SystemExit):
        main(["identify", "--help"])
    assert "1 to 3 traits" in " ".join(capsys.readouterr().out.split())


def test_progress_on_stderr_for_a_large_q_unless_quiet(tmp_path, capsys):
    path = _write(tmp_path, [[1, 0]] * 6 + [[0, 1]] * 6)
    assert main(["identify", path]) == 0
    err = capsys.readouterr().err
    assert "identify: Jacobian Gram matrix of the moments of 12 items" in err
    assert main(["identify", path, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_a_q_too_large_for_memory_is_refused_with_the_figure(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "50MB")
    path = _write(tmp_path, [[1, 0, 0]] * 100 + [[0, 1, 0]] * 100 + [[0, 0, 1]] * 100)
    assert main(["identify", path]) == 2
    assert "300 items and 3 traits needs about" in _one_error_line(capsys)


# --------------------------------------------------------------------------- issue 11: priors
def test_prior_correlation_json_matches_the_library(tmp_path, capsys):
    Q = [[1, 0]] + [[1, 1]] * 4
    assert main(["identify", _write(tmp_path, Q), "--prior", "correlation", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == analyze(Q, prior="correlation").to_dict()
    assert out["free_dimensions"] == 1 and out["identified"] is False


def test_prior_known_reads_sigma_with_names(tmp_path, capsys):
    Q = _write(tmp_path, [[1, 0]] * 3 + [[0, 1]] * 3)
    sigma = tmp_path / "sigma.csv"
    sigma.write_text("# the traits' covariance\n,t1,t2\nt1,1,0.5\nt2,0.5,2\n")
    assert main(["identify", Q, "--prior", "known", "--sigma", str(sigma), "--no-positive"]) == 0
    out = capsys.readouterr().out
    assert "identified:       no" in out and "Sigma known" in out
    assert "sign flip of traits 1 and 2 together" in out and "$" not in out  # rich text shown plain


@pytest.mark.parametrize("args, content, words", [
    (["--prior", "known"], None, "--prior known needs --sigma"),
    (["--sigma", "S"], "1,0\n0,1\n", "--sigma needs --prior known or --prior correlation"),
    (["--prior", "known", "--sigma", "S"], "1,0.5\n0.5,x\n", "sigma.csv:2:2: 'x' is not a number"),
    (["--prior", "known", "--sigma", "S"], "1,0.5\n0.5\n", "sigma.csv:2: ragged row"),
    (["--prior", "known", "--sigma", "S"], "1,0,0\n0,1,0\n0,0,1\n", "has 3 rows and 3 columns, but the Q-matrix has 2 traits"),
    (["--prior", "known", "--sigma", "S"], "1,2\n2,1\n", "positive definite"),
    (["--prior", "correlation", "--sigma", "S"], "2,0.5\n0.5,1\n", "unit diagonal"),
    (["--prior", "known", "--sigma", "S"], "1,0.5\n0.4,1\n", "symmetric"),
])
def test_bad_prior_or_sigma_exit_2_with_one_line(tmp_path, capsys, args, content, words):
    sigma = tmp_path / "sigma.csv"
    if content is not None:
        sigma.write_text(content)
    args = [str(sigma) if a == "S" else a for a in args]
    assert main(["identify", _write(tmp_path, [[1, 0]] * 3 + [[0, 1]] * 3)] + args) == 2
    assert words in _one_error_line(capsys)


def test_help_documents_the_priors(capsys):
    with pytest.raises(SystemExit):
        main(["identify", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--prior {standard,known,correlation}" in text and "--sigma FILE.csv" in text
