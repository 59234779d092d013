"""Reading response and Q-matrix CSV files, and writing estimates.

Formats (comma separated, one row per line, blank lines ignored):

- responses: one row per student, one column per item; each cell is ``0``, ``1`` or empty
  (a missing response, read as NaN). An optional first header row (item names) is
  recognised by a cell that is not a number.
- Q-matrix: one row per item, one column per trait, cells ``0`` or ``1``. An optional
  header row (trait names) and an optional first column of item names are recognised the
  same way.

Every problem raises a :class:`~ml2p_symbolic.errors.ML2PError` (a ``ValueError``) whose
message names the file, the row and column (1-based, as a spreadsheet shows them) and what
was expected: ragged rows, values other than 0/1/empty, a Q-matrix whose number of rows is
not the number of items, a trait that no item measures, an item that measures no trait.
"""

from __future__ import annotations

import csv
import os

import numpy as np

from ..errors import DomainError, ShapeError

__all__ = ["read_responses", "read_q", "write_estimates", "load_or_simulate"]


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_rows(path, what):
    with open(path, newline="") as f:
        rows = [(i, [c.strip() for c in row]) for i, row in enumerate(csv.reader(f), start=1)]
    rows = [(i, r) for i, r in rows if r and any(r)]
    if not rows:
        raise ShapeError(f"{path}: the {what} file has no rows")
    return rows


def _parse_01(path, rows, what, *, allow_empty):
    width = len(rows[0][1])
    out = np.empty((len(rows), width))
    allowed = "0, 1 or empty" if allow_empty else "0 or 1"
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            raise ShapeError(
                f"{path}: line {line} has {len(row)} cells, but the first row has {width}; "
                f"every row of the {what} file must have the same number of columns"
            )
        for c, cell in enumerate(row):
            if cell in ("0", "1", "0.0", "1.0"):
                out[r, c] = float(cell)
            elif cell == "" and allow_empty:
                out[r, c] = np.nan
            else:
                raise DomainError(
                    f"{path}: line {line}, column {c + 1}: {cell!r} is not a valid {what} "
                    f"value; expected {allowed}"
                )
    return out


def read_responses(path):
    """Read a 0/1 response CSV into an (N, n) float64 array (NaN for an empty cell).

    Raises :class:`ShapeError` for ragged rows or an empty file and :class:`DomainError`
    for a value other than 0, 1 or empty.
    """
    rows = _read_rows(path, "responses")
    if any(c and not _is_number(c) for c in rows[0][1]):
        rows = rows[1:]  # a header of item names
        if not rows:
            raise ShapeError(f"{path}: the responses file has a header but no responses")
    return _parse_01(path, rows, "responses", allow_empty=True)


def read_q(path, n_items=None):
    """Read a 0/1 Q-matrix CSV into an (n, K) int array.

    ``n_items``: when given, the number of rows the Q-matrix must have (the number of
    response columns). Raises :class:`ShapeError` for ragged rows or the wrong number of
    items and :class:`DomainError` for a value other than 0 or 1, a trait with no items,
    or an item with no traits.
    """
    rows = _read_rows(path, "Q-matrix")
    if len(rows) > 1 and all(r[0] and not _is_number(r[0]) for _, r in rows[1:]):
        rows = [(i, r[1:]) for i, r in rows]  # a first column of item names
    if any(c and not _is_number(c) for c in rows[0][1]):
        rows = rows[1:]  # a header of trait names
        if not rows:
            raise ShapeError(f"{path}: the Q-matrix file has a header but no rows")
    Q = _parse_01(path, rows, "Q-matrix", allow_empty=False).astype(int)
    if n_items is not None and Q.shape[0] != n_items:
        raise ShapeError(
            f"{path}: the Q-matrix has {Q.shape[0]} rows but the responses have {n_items} "
            f"items; expected one Q-matrix row per item ({n_items} rows)"
        )
    empty_traits = np.flatnonzero(Q.sum(axis=0) == 0)
    if empty_traits.size:
        raise DomainError(
            f"{path}: trait(s) {', '.join(str(k + 1) for k in empty_traits)} (column) have no "
            "items; every trait must be measured by at least one item"
        )
    empty_items = np.flatnonzero(Q.sum(axis=1) == 0)
    if empty_items.size:
        raise DomainError(
            f"{path}: item(s) {', '.join(str(i + 1) for i in empty_items)} (row) load on no "
            "trait; every item must measure at least one trait"
        )
    return Q


def _write_matrix(path, X, header):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in np.atleast_2d(X):
            w.writerow([repr(float(v)) for v in row])


def write_estimates(out_dir, result):
    """Write a fit's estimates to CSV files in ``out_dir`` (created if needed).

    Files: ``a_hat.csv`` (n rows, K columns a1..aK), ``b_hat.csv`` (n rows), ``theta_hat.csv``
    (N rows, K columns), ``curve.csv`` (epoch, train_loss, holdout_loss). ``result`` is a
    :class:`~ml2p_symbolic.numeric.train.FitResult`. Returns the list of paths written.
    """
    os.makedirs(out_dir, exist_ok=True)
    K = result.A_hat.shape[1]
    paths = [os.path.join(out_dir, name) for name in ("a_hat.csv", "b_hat.csv", "theta_hat.csv", "curve.csv")]
    _write_matrix(paths[0], result.A_hat, [f"a{k + 1}" for k in range(K)])
    _write_matrix(paths[1], result.b_hat[:, None], ["b"])
    _write_matrix(paths[2], result.theta_hat, [f"theta{k + 1}" for k in range(K)])
    _write_matrix(paths[3], np.asarray(result.curve, dtype=float).reshape(-1, 3),
                  ["epoch", "train_loss", "holdout_loss"])
    return paths


def load_or_simulate(*, responses=None, q=None, students=10_000, items=28, traits=3, seed=0,
                     q_design="ecpe", correlated=False):
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
    does); ``truth.Sigma`` holds it. Giving only one of the two files raises
    :class:`ShapeError`; giving files together with a non-default ``q_design`` or
    ``correlated`` (options of the simulation) raises :class:`DomainError`.
    """
    from .simulate import random_correlation, simulate

    if (responses is None) != (q is None):
        raise ShapeError("give both a responses file and a Q-matrix file, or neither (to simulate)")
    if responses is not None:
        if correlated or not (isinstance(q_design, str) and q_design == "ecpe"):
            raise DomainError("the Q-matrix design and correlated traits are options of the "
                              "simulation; they cannot be used with responses and Q-matrix files")
        U = read_responses(responses)
        return U, read_q(q, n_items=U.shape[1]), None
    rng = np.random.default_rng(seed)
    Sigma = random_correlation(traits, low=0.0, high=0.5, seed=rng) if correlated else None
    d = simulate(students, items, traits, q=q_design, Sigma=Sigma, seed=rng)
    return d.U, d.Q, d
