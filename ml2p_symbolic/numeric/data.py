r"""Reading response and Q-matrix CSV files, and writing estimates: the package's one reader.

``ml2p-proof fit --responses/--q`` and ``ml2p-proof identify`` read their files here, by
the same rules and with the same messages.

The files
---------
Comma-separated UTF-8 text (a byte-order mark, as Excel's "CSV UTF-8" writes, is
skipped), one row per line:

- **responses**: one row per student, one column per item; a cell is ``0``, ``1`` (also
  written ``0.0``, ``1.0``) or empty (a missing response, read as NaN). A row of empty
  cells (``,,,``) is a student with every answer missing: kept, like every other row.
- **Q-matrix**: one row per item, one column per trait, cells ``0`` or ``1`` (``0.0``,
  ``1.0``). Every trait must be measured by an item and every item must measure a trait.

Both may have

- a *header*: the first row is taken as column names when none of its cells is a 0/1
  value and some cell after the first is not empty (so ``s1,,,`` is a student, not a
  header);
- a *first column of names* (student ids, item names): when every cell of the first
  column below the header is non-empty, no two are equal, and at least one is not a 0/1
  value (numbered ids ``1, 2, 3, ...`` qualify; a column of responses, whose values
  repeat, never does);
- comment lines, whose first cell starts with ``#``, and blank lines at the start and at
  the end, all skipped. In a Q-matrix blank lines are skipped anywhere; in a responses
  file with more than one item a blank line between rows is refused (a student with
  every answer missing is written ``,,,``), and with one item it is that student's
  missing answer.

Anything else is refused with a :class:`~ml2p_symbolic.errors.DataFileError` (responses)
or :class:`~ml2p_symbolic.errors.QMatrixError` (Q-matrix), both ``ValueError``\ s, whose
message starts with ``FILE:LINE:COL`` (line and column 1-based, as an editor shows them):
a binary or UTF-16 file, bytes that are not UTF-8, cells separated by semicolons or tabs
(said at line 1), ragged rows, a value other than 0/1/empty, a file with no rows, a
Q-matrix whose number of rows is not the number of items.

Written files (:func:`write_estimates`)
---------------------------------------
``a_hat.csv`` (header ``a1..aK``, one row per item), ``b_hat.csv`` (header ``b``),
``theta_hat.csv`` (header ``student,theta1..thetaK``, one row per student in the order of
the responses file: ``student`` is the file's first-column id when it has one, else the
row number 1, 2, ..., counted from the first student row) and ``curve.csv`` (``epoch,
train_loss, holdout_loss``), and ``Sigma_hat.csv`` (header ``theta1..thetaK``, K rows) when
the fit estimated the latent correlation matrix. Numbers are written with ``repr(float)``
(shortest round-trip form). All are written to temporary files in the target directory and
renamed into place only when all are complete, so a failure leaves the old files as they
were.
"""

from __future__ import annotations

import csv
import io
import os
import re

import numpy as np

from ..errors import DataFileError, DomainError, QMatrixError, ShapeError
from ..input_files import read_input_bytes
from ..output import atomic_write_many
from .validate import as_generator

__all__ = ["read_responses", "read_q", "read_sigma", "write_estimates", "load_or_simulate", "check_out_dir"]

_VALUE = re.compile(r"[01](?:\.0*)?")  # 0, 1, 0.0, 1.0, 1.00 ...


def _is_value(cell):
    return _VALUE.fullmatch(cell) is not None


# --------------------------------------------------------------------------- text and rows
def _looks_utf16(raw):
    """A UTF-16 byte-order mark, or text whose every other byte is NUL."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    head = raw[:200]
    even, odd = head[0::2], head[1::2]
    return len(head) >= 4 and (
        (odd.count(0) >= 0.8 * len(odd) and even.count(0) == 0)
        or (even.count(0) >= 0.8 * len(even) and odd.count(0) == 0)
    )


def _decode(path, what, error):
    """The file's text: UTF-8 (a BOM skipped), or ``error`` for binary/UTF-16/other bytes."""
    raw = read_input_bytes(path, what, error=error)
    if _looks_utf16(raw):
        raise error(f"{path}: the {what} file is UTF-16 text; save it as UTF-8 CSV "
                    "(comma-separated; in Excel: 'CSV UTF-8')")
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw[:nul].count(b"\n") + 1
        raise error(f"{path}:{line}: a binary file (a NUL byte), not a comma-separated text "
                    f"{what} file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(f"{path}:{line}:{col}: byte 0x{raw[exc.start]:02x} is not UTF-8 text; save "
                    f"the {what} file as UTF-8 CSV") from None


_DELIMITERS = {";": "semicolons (';')", "\t": "tabs"}


def _rows(path, what, error):
    """``[(line, cells or None for a blank line), ...]`` without comments, stripped cells,
    leading and trailing blank lines removed."""
    text = _decode(path, what, error)
    lines = text.splitlines()
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for cells in reader:
            line = reader.line_num
            cells = [c.strip() for c in cells]
            if not any(cells):
                if len(cells) <= 1:  # nothing on the line (or only spaces)
                    rows.append((line, None))
                    continue
            elif cells[0].startswith("#"):
                continue
            if all(r is None for _, r in rows):  # the first row says how cells are separated
                raw = lines[line - 1] if line <= len(lines) else ""
                for delim, name in _DELIMITERS.items():
                    if "," not in raw and delim in raw:
                        raise error(f"{path}:{line}: the cells are separated by {name}, not "
                                    f"commas; save the {what} file as comma-separated CSV")
            rows.append((line, cells))
    except csv.Error as exc:
        raise error(f"{path}:{reader.line_num}: not a CSV {what} file ({exc})") from None
    while rows and rows[-1][1] is None:
        rows.pop()
    while rows and rows[0][1] is None:
        rows.pop(0)
    if not rows:
        raise error(f"{path}: the {what} file is empty (no rows)")
    return rows


def _table(path, what, error, *, blank_is_missing):
    """Split rows into (header or None, names or None, [(line, cells)]) and check the shape.

    ``blank_is_missing``: a blank line inside the file is a row of one empty cell (a
    responses file with one item); otherwise a responses file with more items refuses it,
    and a Q-matrix skips it.
    """
    rows = _rows(path, what, error)
    width = len(next(r for _, r in rows if r is not None))
    out = []
    for line, cells in rows:
        if cells is None:
            if not blank_is_missing:
                continue
            if width == 1:
                cells = [""]
            else:
                raise error(f"{path}:{line}: a blank line between rows; a student with every "
                            f"answer missing is written as {width} empty cells "
                            f"({',' * (width - 1)!r})")
        out.append((line, cells))
    header = None
    first = out[0][1]
    if not any(_is_value(c) for c in first) and (any(first[1:]) or (len(first) == 1 and first[0])):
        header = first
        out = out[1:]
        if not out:
            raise error(f"{path}: the {what} file has a header but no rows")
    for line, cells in out:
        if len(cells) != width:
            raise error(f"{path}:{line}: ragged row: {len(cells)} cells, but the first row has "
                        f"{width}; every row of the {what} file must have the same number of cells")
    names = None
    firsts = [cells[0] for _, cells in out]
    if width > 1 and all(firsts) and len(set(firsts)) == len(firsts) and not all(map(_is_value, firsts)):
        names = tuple(firsts)
        out = [(line, cells[1:]) for line, cells in out]
    return header, names, out


def _values(path, what, error, rows, *, offset, allow_empty):
    """The (rows, columns) float array of 0/1 (NaN for empty cells when allowed)."""
    out = np.empty((len(rows), len(rows[0][1]) if rows else 0))
    allowed = "0, 1 or empty (a missing response)" if allow_empty else "0 or 1"
    for r, (line, cells) in enumerate(rows):
        for c, cell in enumerate(cells):
            if _is_value(cell):
                out[r, c] = float(cell)
            elif cell == "" and allow_empty:
                out[r, c] = np.nan
            else:
                raise error(f"{path}:{line}:{c + 1 + offset}: {cell!r} is not a valid {what} value; "
                            f"expected {allowed}")
    return out


def read_responses(path, *, with_ids=False):
    """Read a 0/1 response CSV into an (N, n) float64 array (NaN for an empty cell).

    See the module docstring for the format. With ``with_ids=True`` returns ``(U, ids)``,
    ``ids`` a tuple of N strings: the file's first-column student ids, or the row numbers
    ``"1"`` .. ``"N"``. Raises :class:`~ml2p_symbolic.errors.DataFileError`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "u.csv"
    >>> _ = f.write_text("\\ufeffstudent,i1,i2\\ns7,1,0\\ns8,,\\n")
    >>> U, ids = read_responses(f, with_ids=True)
    >>> U.tolist(), ids
    ([[1.0, 0.0], [nan, nan]], ('s7', 's8'))
    """
    header, names, rows = _table(path, "responses", DataFileError, blank_is_missing=True)
    U = _values(path, "responses", DataFileError, rows, offset=names is not None, allow_empty=True)
    if not with_ids:
        return U
    ids = names if names is not None else tuple(str(i) for i in range(1, len(rows) + 1))
    return U, ids


def read_q(path, n_items=None):
    """Read a 0/1 Q-matrix CSV into an (n, K) int array.

    See the module docstring for the format (optional header of trait names and first
    column of item names). ``n_items``: when given, the number of rows the Q-matrix must
    have (the number of response columns). Raises
    :class:`~ml2p_symbolic.errors.QMatrixError` for every problem: the file's encoding,
    delimiter or shape, a value other than 0 or 1, the wrong number of items, a trait that
    no item measures, an item that measures no trait.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "q.csv"
    >>> _ = f.write_text("item,t1,t2\\nx1,1,0\\nx2,1.0,1\\n# a comment\\nx3,0,1\\n")
    >>> read_q(f).tolist()
    [[1, 0], [1, 1], [0, 1]]
    """
    header, names, rows = _table(path, "Q-matrix", QMatrixError, blank_is_missing=False)
    offset = int(names is not None)
    Q = _values(path, "Q-matrix", QMatrixError, rows, offset=offset, allow_empty=False).astype(int)
    if n_items is not None and Q.shape[0] != n_items:
        raise QMatrixError(
            f"{path}: the Q-matrix has {Q.shape[0]} item rows but the responses have {n_items} "
            f"items; expected one Q-matrix row per item ({n_items} rows)"
        )
    for k in np.flatnonzero(Q.sum(axis=0) == 0):
        label = f" ({header[k + offset]!r})" if header is not None and header[k + offset] else ""
        raise QMatrixError(
            f"{path}: trait {k + 1}{label}, column {k + 1 + offset}, is measured by no item (the "
            "column is all 0); every trait must be measured by at least one item"
        )
    for i in np.flatnonzero(Q.sum(axis=1) == 0):
        label = f" ({names[i]!r})" if names is not None else ""
        raise QMatrixError(
            f"{path}:{rows[i][0]}: item {i + 1}{label} measures no trait (the row is all 0); "
            "every item must measure at least one trait"
        )
    return Q


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def read_sigma(path, K, *, correlation=False):
    r"""Read the traits' covariance (or correlation) matrix from a CSV file: a ``(K, K)`` array.

    ``K`` rows of ``K`` comma-separated decimal numbers (``1``, ``0.35``, ``-2.5e-1``),
    optionally with a header row of trait names and a first column of names (recognised when
    their cells are not numbers), ``#`` comment lines and blank lines; UTF-8 with or without a
    byte-order mark. The matrix must be symmetric and positive definite, and with
    ``correlation=True`` have a unit diagonal
    (:func:`ml2p_symbolic.numeric.validate.check_covariance`). Raises
    :class:`~ml2p_symbolic.errors.DataFileError` (``FILE:LINE:COL`` for a cell that is not a
    number, ``FILE:LINE`` for a ragged row) and, with the file name,
    :class:`~ml2p_symbolic.errors.ShapeError` for another size than ``K x K`` and
    :class:`~ml2p_symbolic.errors.DomainError` for a matrix that is not a valid covariance.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "sigma.csv"
    >>> _ = f.write_text(",t1,t2\nt1,1,0.4\nt2,0.4,1\n")
    >>> read_sigma(f, 2, correlation=True).tolist()
    [[1.0, 0.4], [0.4, 1.0]]
    """
    from .validate import check_covariance

    what = "covariance"
    rows = [(line, cells) for line, cells in _rows(path, what, DataFileError) if cells is not None]
    first = rows[0][1]
    if len(rows) > 1 and any(first) and not any(_NUMBER.fullmatch(c) for c in first):
        rows = rows[1:]  # a header of trait names: no number in it
    width = len(rows[0][1])
    for line, cells in rows:
        if len(cells) != width:
            raise DataFileError(f"{path}:{line}: ragged row: {len(cells)} cells, but the first row has "
                                f"{width}; every row of the {what} file must have the same number of cells")
    offset = int(width > 1 and not any(_NUMBER.fullmatch(cells[0]) for _, cells in rows))
    out = np.empty((len(rows), width - offset))
    for r, (line, cells) in enumerate(rows):
        for c, cell in enumerate(cells[offset:]):
            if not _NUMBER.fullmatch(cell):
                raise DataFileError(f"{path}:{line}:{c + 1 + offset}: {cell!r} is not a number; expected "
                                    f"a decimal number such as 0.35 in every cell of the {what} matrix")
            out[r, c] = float(cell)
    if out.shape != (K, K):
        raise ShapeError(f"{path}: the {what} matrix has {out.shape[0]} rows and {out.shape[1]} columns, but "
                         f"the Q-matrix has {K} trait{'s' if K != 1 else ''}; expected {K} x {K}")
    try:
        return check_covariance(out, K, name="the matrix", correlation=correlation)[0]
    except DomainError as exc:
        raise DomainError(f"{path}: {exc}") from None


# --------------------------------------------------------------------------- writing
def check_out_dir(path):
    """Check, before any work, that ``path`` can receive the output files.

    ``path`` is an existing writable directory, or does not exist and its nearest existing
    ancestor is a writable directory (it is created only when the files are written).
    Raises :class:`~ml2p_symbolic.errors.DataFileError` saying which.
    """
    path = os.fspath(path)
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise DataFileError(f"--out {path}: exists and is not a directory; give a directory "
                                "for a_hat.csv, b_hat.csv, theta_hat.csv and curve.csv")
        if not os.access(path, os.W_OK | os.X_OK):
            raise DataFileError(f"--out {path}: the directory is not writable")
        return
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise DataFileError(f"--out {path}: {parent} is a file, so the directory cannot be created")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataFileError(f"--out {path}: cannot create it, {parent} is not writable")


def _matrix_text(X, header, ids=None):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r, row in enumerate(np.atleast_2d(X)):
        w.writerow(([ids[r]] if ids is not None else []) + [repr(float(v)) for v in row])
    return buf.getvalue()


def write_estimates(out_dir, result, student_ids=None):
    """Write a fit's estimates to CSV files in ``out_dir`` (created if needed), atomically.

    Files (see the module docstring): ``a_hat.csv`` (n rows, columns a1..aK), ``b_hat.csv``
    (n rows), ``theta_hat.csv`` (N rows: ``student`` then theta1..thetaK), ``curve.csv``
    (epoch, train_loss, holdout_loss), and ``Sigma_hat.csv`` (K rows, columns
    theta1..thetaK: the estimated correlation matrix) when the fit estimated one. ``result`` is a
    :class:`~ml2p_symbolic.numeric.train.FitResult`; ``student_ids``: N labels for the
    ``student`` column (default: the row numbers 1..N). Each file is first written in full
    to a temporary file in ``out_dir``; only when all are written are they renamed
    over the old ones (with Ctrl-C held back during the renames), so an error leaves no
    partial file and no mix of old and new files. Returns the list of paths written.
    """
    check_out_dir(out_dir)
    K = result.A_hat.shape[1]
    N = result.theta_hat.shape[0]
    ids = [str(i) for i in range(1, N + 1)] if student_ids is None else [str(s) for s in student_ids]
    if len(ids) != N:
        raise ShapeError(f"student_ids has {len(ids)} labels for {N} students")
    texts = {
        "a_hat.csv": _matrix_text(result.A_hat, [f"a{k + 1}" for k in range(K)]),
        "b_hat.csv": _matrix_text(np.asarray(result.b_hat)[:, None], ["b"]),
        "theta_hat.csv": _matrix_text(result.theta_hat, ["student"] + [f"theta{k + 1}" for k in range(K)], ids),
        "curve.csv": _matrix_text(np.asarray(result.curve, dtype=float).reshape(-1, 3),
                                  ["epoch", "train_loss", "holdout_loss"]),
    }
    if getattr(result, "Sigma_hat", None) is not None:
        texts["Sigma_hat.csv"] = _matrix_text(np.asarray(result.Sigma_hat), [f"theta{k + 1}" for k in range(K)])
    os.makedirs(out_dir, exist_ok=True)
    return atomic_write_many({os.path.join(out_dir, name): text for name, text in texts.items()})


# --------------------------------------------------------------------------- data for a fit
def load_or_simulate(*, responses=None, q=None, students=10_000, items=28, traits=3, seed=0,
                     q_design="ecpe", correlated=False, with_ids=False):
    """The data for a fit: read from CSV files, or simulated with the Sim-ECPE-like defaults.

    With ``responses`` and ``q`` (paths): returns ``(U, Q, None)`` from :func:`read_responses`
    and :func:`read_q` (the truth is unknown). With neither: returns ``(U, Q, truth)`` from
    :func:`~ml2p_symbolic.numeric.simulate.simulate` (``students``, ``items``, ``traits``,
    ``seed``), ``truth`` being the :class:`~ml2p_symbolic.numeric.simulate.SimulatedData`.
    ``q_design`` is the ``q`` of :func:`~ml2p_symbolic.numeric.simulate.simulate`:
    ``"ecpe"`` or a probability p for Q_ik ~ Bernoulli(p) (Sim-6). With ``correlated``,
    theta ~ N(0, Sigma), Sigma drawn by
    :func:`~ml2p_symbolic.numeric.simulate.random_correlation` (off-diagonal entries
    ~ U(0, 0.5)) from the same generator, before the data (as ``benchmarks/recovery_study.py``
    does); ``truth.Sigma`` holds it. With ``with_ids=True`` a fourth element is added: the
    student ids of the responses file (or row numbers; ``"1"`` .. ``"N"`` when simulated).
    Giving only one of the two files raises :class:`ShapeError`; giving files together with
    a non-default ``q_design`` or ``correlated`` (options of the simulation) raises
    :class:`DomainError`.
    """
    from .simulate import random_correlation, simulate

    if (responses is None) != (q is None):
        raise ShapeError("give both a responses file and a Q-matrix file, or neither (to simulate)")
    if responses is not None:
        if correlated or not (isinstance(q_design, str) and q_design == "ecpe"):
            raise DomainError("the Q-matrix design and correlated traits are options of the "
                              "simulation; they cannot be used with responses and Q-matrix files")
        U, ids = read_responses(responses, with_ids=True)
        out = (U, read_q(q, n_items=U.shape[1]), None)
        return out + (ids,) if with_ids else out
    rng = as_generator(seed)
    Sigma = random_correlation(traits, low=0.0, high=0.5, seed=rng) if correlated else None
    d = simulate(students, items, traits, q=q_design, Sigma=Sigma, seed=rng)
    out = (d.U, d.Q, d)
    return out + (tuple(str(i) for i in range(1, d.U.shape[0] + 1)),) if with_ids else out
