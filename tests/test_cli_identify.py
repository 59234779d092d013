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
    [("", "empty"), ("1,0\n1\n", "ragged"), ("1,2\n", "0 or 1"), ("1,0,1,1\n", "1, 2 or 3")],
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
