"""CSV readers for responses and Q-matrices (one reader for fit and identify), and the
atomic writing of estimates: good files, every row kept, clear errors with FILE:LINE:COL."""

import os
import signal

import numpy as np
import pytest

from ml2p_symbolic.errors import DataFileError, ML2PError, QMatrixError
from ml2p_symbolic.identifiability import read_q_matrix
from ml2p_symbolic.numeric import data
from ml2p_symbolic.numeric.data import check_out_dir, read_q, read_responses, write_estimates


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return str(path)


# --------------------------------------------------------------------------- responses
def test_responses_with_header_and_missing(tmp_path):
    U = read_responses(_write(tmp_path, "u.csv", "i1,i2,i3\n0,1,\n1,1,0\n\n"))
    assert U.shape == (2, 3)
    assert np.isnan(U[0, 2]) and U[1].tolist() == [1.0, 1.0, 0.0]


def test_responses_without_header(tmp_path):
    assert read_responses(_write(tmp_path, "u.csv", "0,1\n1,0\n")).tolist() == [[0, 1], [1, 0]]


def test_a_byte_order_mark_does_not_make_row_1_a_header(tmp_path):
    """Excel's "CSV UTF-8" starts with a BOM; the first student must not be dropped."""
    U = read_responses(_write(tmp_path, "u.csv", "\ufeff0,1\n1,0\n1,1\n"))
    assert U.tolist() == [[0, 1], [1, 0], [1, 1]]
    U = read_responses(_write(tmp_path, "h.csv", "\ufeffi1,i2\n0,1\n"))
    assert U.tolist() == [[0, 1]]


def test_a_row_of_empty_cells_is_a_student_with_every_answer_missing(tmp_path):
    U, ids = read_responses(_write(tmp_path, "u.csv", "i1,i2,i3\n0,1,1\n,,\n1,1,0\n"), with_ids=True)
    assert U.shape == (3, 3) and np.isnan(U[1]).all() and U[2].tolist() == [1, 1, 0]
    assert ids == ("1", "2", "3")
    U = read_responses(_write(tmp_path, "v.csv", ",,\n0,1,1\n"))  # first row, no header
    assert U.shape == (2, 3) and np.isnan(U[0]).all()


def test_one_item_files_blank_line_is_a_missing_answer(tmp_path):
    U = read_responses(_write(tmp_path, "u.csv", "item1\n1\n\n0\n"))
    assert U.shape == (3, 1) and np.isnan(U[1, 0])


def test_a_blank_line_between_students_is_refused_not_skipped(tmp_path):
    path = _write(tmp_path, "u.csv", "0,1\n\n1,1\n")
    with pytest.raises(DataFileError, match=r"u\.csv:2: a blank line between rows; .*','"):
        read_responses(path)


@pytest.mark.parametrize("text, ids", [
    ("student,i1,i2\ns7,1,0\ns8,,\ns9,0,0\n", ("s7", "s8", "s9")),
    ("id,i1,i2\n1,1,0\n2,0,1\n3,1,1\n", ("1", "2", "3")),   # numbered ids: 1 is a 0/1 value
    ("s7,1,0\ns8,,\n", ("s7", "s8")),                       # no header; s8 answered nothing
])
def test_student_id_column(tmp_path, text, ids):
    U, got = read_responses(_write(tmp_path, "u.csv", text), with_ids=True)
    assert got == ids and U.shape == (len(ids), 2)


def test_a_typo_in_row_1_is_reported_not_taken_for_a_header(tmp_path):
    with pytest.raises(DataFileError, match=r"u\.csv:1:3: 'x' is not a valid responses value"):
        read_responses(_write(tmp_path, "u.csv", "0,1,x\n1,0,1\n0,0,1\n"))


@pytest.mark.parametrize(
    "text, match",
    [
        ("0,1,1\n1,0\n", r":2: ragged row: 2 cells, but the first row has 3"),
        ("0,1\n1,2\n", r":2:2: '2' is not a valid responses value; expected 0, 1 or empty"),
        ("0,1\n1,0.5\n", r":2:2: '0.5' is not a valid responses value"),
        ("", r"u\.csv: the responses file is empty \(no rows\)"),
        ("a,b\n", "has a header but no rows"),
        ("i1;i2;i3\n0;1;1\n", r"u\.csv:1: the cells are separated by semicolons \(';'\), not commas"),
        ("# exported\n0;1\n", r"u\.csv:2: the cells are separated by semicolons"),
        ("i1\ti2\n0\t1\n", r"u\.csv:1: the cells are separated by tabs, not commas"),
    ],
)
def test_bad_responses(tmp_path, text, match):
    with pytest.raises(DataFileError, match=match) as info:
        read_responses(_write(tmp_path, "u.csv", text))
    assert isinstance(info.value, ML2PError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "content, match",
    [
        ("i1,i2\n0,1\n".encode("utf-16"), "UTF-16 text; save it as UTF-8 CSV"),
        ("i1,i2\n0,1\n".encode("utf-16-le"), "UTF-16 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"u\.csv:3: a binary file"),
        ("0,1\n1,\u00e9\n".encode("latin-1"), r"u\.csv:2:3: byte 0xe9 is not UTF-8 text"),
    ],
)
def test_files_that_are_not_utf8_text(tmp_path, content, match):
    path = _write(tmp_path, "u.csv", content)
    with pytest.raises(DataFileError, match=match):
        read_responses(path)
    with pytest.raises(QMatrixError, match=match.replace("u\\.csv", "q\\.csv")):
        read_q(_write(tmp_path, "q.csv", content))


# --------------------------------------------------------------------------- Q-matrix
READERS = [pytest.param(read_q, id="fit --q"), pytest.param(read_q_matrix, id="identify")]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("text", [
    "item,t1,t2\nx1,1,0\nx2,1,1\nx3,0,1\n",
    "\ufefft1,t2\n1,0\n1.0,1\n0,1.0\n",
    "# a comment\ntrait1,trait2\n1,0\n\n1,1\n0,1\n",
    "1,1,0\n2,1,1\n3,0,1\n",            # numbered item names
])
def test_fit_and_identify_read_a_q_file_the_same_way(tmp_path, reader, text):
    assert np.asarray(reader(_write(tmp_path, "q.csv", text))).tolist() == [[1, 0], [1, 1], [0, 1]]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    "text, match",
    [
        ("1,0\n1\n", r"q\.csv:2: ragged row: 1 cells, but the first row has 2"),
        ("1,0\n0,2\n", r"q\.csv:2:2: '2' is not a valid Q-matrix value; expected 0 or 1"),
        ("1,0\n,1\n", r"q\.csv:2:1: '' is not a valid Q-matrix value"),
        ("", r"q\.csv: the Q-matrix file is empty"),
        ("# only a comment\n", "empty"),
        ("t1;t2\n1;0\n", r"q\.csv:1: the cells are separated by semicolons"),
        ("t1,t2\n1,0\n1,0\n", r"trait 2 \('t2'\), column 2, is measured by no item"),
        ("x,t1,t2\ni1,1,0\ni2,0,0\ni3,0,1\n", r"q\.csv:3: item 2 \('i2'\) measures no trait"),
    ],
)
def test_fit_and_identify_refuse_a_bad_q_file_with_the_same_message(tmp_path, reader, text, match):
    with pytest.raises(QMatrixError, match=match) as info:
        reader(_write(tmp_path, "q.csv", text))
    assert isinstance(info.value, ValueError)


def test_q_rows_must_match_the_responses(tmp_path):
    with pytest.raises(QMatrixError, match="2 item rows but the responses have 3 items"):
        read_q(_write(tmp_path, "q.csv", "1,0\n0,1\n"), n_items=3)


# --------------------------------------------------------------------------- writing
class _Result:
    A_hat = np.array([[1.0, 0.0], [0.5, 0.7]])
    b_hat = np.array([0.1, -0.2])
    theta_hat = np.array([[0.25, -1.0], [2.0, 0.0], [0.0, 0.0]])
    curve = ((1, 2.0, 2.1), (2, 1.9, 2.0))


def test_write_estimates_with_a_student_column(tmp_path):
    paths = write_estimates(str(tmp_path / "out"), _Result)
    assert [p.rsplit("/", 1)[1] for p in paths] == ["a_hat.csv", "b_hat.csv", "theta_hat.csv", "curve.csv"]
    lines = (tmp_path / "out" / "a_hat.csv").read_text().splitlines()
    assert lines[0] == "a1,a2" and lines[2] == "0.5,0.7"
    theta = (tmp_path / "out" / "theta_hat.csv").read_text().splitlines()
    assert theta == ["student,theta1,theta2", "1,0.25,-1.0", "2,2.0,0.0", "3,0.0,0.0"]
    write_estimates(str(tmp_path / "out"), _Result, student_ids=("s7", "s8", "s9"))
    assert (tmp_path / "out" / "theta_hat.csv").read_text().splitlines()[1] == "s7,0.25,-1.0"
    assert sorted(os.listdir(tmp_path / "out")) == ["a_hat.csv", "b_hat.csv", "curve.csv", "theta_hat.csv"]


def test_a_failed_write_leaves_the_old_files_and_no_temporary(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_estimates(str(out), _Result)
    before = {name: (out / name).read_text() for name in os.listdir(out)}
    calls = []
    real = os.fdopen

    def failing_fdopen(fd, *args, **kwargs):
        calls.append(fd)
        if len(calls) == 3:  # theta_hat.csv: the disk is full
            os.close(fd)
            raise OSError(28, "No space left on device")
        return real(fd, *args, **kwargs)

    monkeypatch.setattr(data.os, "fdopen", failing_fdopen)

    class New(_Result):
        b_hat = np.array([9.0, 9.0])

    with pytest.raises(OSError, match="No space"):
        write_estimates(str(out), New)
    assert {name: (out / name).read_text() for name in os.listdir(out)} == before


def test_ctrl_c_during_the_renames_is_held_until_every_file_is_new(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_estimates(str(out), _Result)
    real = os.replace
    sent = []

    def replace_then_interrupt(src, dst):
        real(src, dst)
        if not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C after the first rename

    monkeypatch.setattr(data.os, "replace", replace_then_interrupt)

    class New(_Result):
        b_hat = np.array([9.0, 9.0])
        A_hat = np.array([[9.0, 0.0], [9.0, 9.0]])

    with pytest.raises(KeyboardInterrupt):
        write_estimates(str(out), New)
    assert "9.0" in (out / "a_hat.csv").read_text() and "9.0" in (out / "b_hat.csv").read_text()
    assert sorted(os.listdir(out)) == ["a_hat.csv", "b_hat.csv", "curve.csv", "theta_hat.csv"]


def test_out_dir_checked_before_any_work(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataFileError, match="exists and is not a directory"):
        check_out_dir(str(tmp_path / "file"))
    with pytest.raises(DataFileError, match="is a file, so the directory cannot be created"):
        check_out_dir(str(tmp_path / "file" / "sub"))
    check_out_dir(str(tmp_path / "new" / "deeper"))  # created later, when the files are written
    assert not (tmp_path / "new").exists()
