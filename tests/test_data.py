"""CSV readers for responses and Q-matrices: good files and clear errors."""

import numpy as np
import pytest

from ml2p_symbolic.errors import DomainError, ML2PError, ShapeError
from ml2p_symbolic.numeric.data import read_q, read_responses, write_estimates


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_responses_with_header_and_missing(tmp_path):
    U = read_responses(_write(tmp_path, "u.csv", "i1,i2,i3\n0,1,\n1,1,0\n\n"))
    assert U.shape == (2, 3)
    assert np.isnan(U[0, 2]) and U[1].tolist() == [1.0, 1.0, 0.0]


def test_responses_without_header(tmp_path):
    assert read_responses(_write(tmp_path, "u.csv", "0,1\n1,0\n")).tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize(
    "text, error, match",
    [
        ("0,1,1\n1,0\n", ShapeError, "line 2 has 2 cells"),
        ("0,1\n1,2\n", DomainError, "line 2, column 2: '2'"),
        ("0,1\n1,x\n", DomainError, "'x' is not a valid responses value"),
        ("0,1\n1,0.5\n", DomainError, "expected 0, 1 or empty"),
        ("", ShapeError, "no rows"),
        ("a,b\n", ShapeError, "header but no responses"),
    ],
)
def test_bad_responses(tmp_path, text, error, match):
    with pytest.raises(error, match=match):
        read_responses(_write(tmp_path, "u.csv", text))


def test_q_with_names(tmp_path):
    Q = read_q(_write(tmp_path, "q.csv", "item,t1,t2\nx1,1,0\nx2,1,1\nx3,0,1\n"), n_items=3)
    assert Q.tolist() == [[1, 0], [1, 1], [0, 1]]
    assert read_q(_write(tmp_path, "q1.csv", "t1\n1\n1\n")).tolist() == [[1], [1]]


@pytest.mark.parametrize(
    "text, n_items, error, match",
    [
        ("1,0\n1\n", None, ShapeError, "line 2 has 1 cells"),
        ("1,0\n0,2\n", None, DomainError, "expected 0 or 1"),
        ("1,0\n,1\n", None, DomainError, "line 2, column 1: ''"),
        ("1,0\n0,1\n", 3, ShapeError, "2 rows but the responses have 3 items"),
        ("1,0\n1,0\n", None, DomainError, r"trait\(s\) 2 \(column\) have no items"),
        ("1,0\n0,0\n0,1\n", None, DomainError, r"item\(s\) 2 \(row\) load on no trait"),
    ],
)
def test_bad_q(tmp_path, text, n_items, error, match):
    with pytest.raises(error, match=match) as info:
        read_q(_write(tmp_path, "q.csv", text), n_items=n_items)
    assert isinstance(info.value, ML2PError) and isinstance(info.value, ValueError)


def test_write_estimates(tmp_path):
    class R:
        A_hat = np.array([[1.0, 0.0], [0.5, 0.7]])
        b_hat = np.array([0.1, -0.2])
        theta_hat = np.zeros((3, 2))
        curve = ((1, 2.0, 2.1), (2, 1.9, 2.0))

    paths = write_estimates(str(tmp_path / "out"), R)
    assert [p.rsplit("/", 1)[1] for p in paths] == ["a_hat.csv", "b_hat.csv", "theta_hat.csv", "curve.csv"]
    lines = (tmp_path / "out" / "a_hat.csv").read_text().splitlines()
    assert lines[0] == "a1,a2" and lines[2] == "0.5,0.7"
