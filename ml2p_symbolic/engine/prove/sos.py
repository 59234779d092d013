r"""Sums of squares: a Gram matrix found by a conic solver, rounded to rationals.

For a polynomial difference :math:`d` in generators :math:`g` (symbols, or real
subexpressions such as :math:`e^{x}` treated as variables) with rational coefficients:

1. a monomial vector :math:`m` (the monomials of half the degree in each generator, within
   the Newton polytope's bounding box);
2. the semidefinite program: find :math:`Q \succeq 0` and :math:`\lambda \ge 0` with
   :math:`d = m^{\mathsf T} Q m + \sum_\alpha \lambda_\alpha g^\alpha` coefficient by
   coefficient (:math:`g^\alpha` monomials of :math:`d` in nonnegative generators), solved by
   clarabel (an interior-point method: an interior solution, good for rounding; see
   ``benchmarks/bench_sos.py`` for clarabel against SCS);
3. rounding (Peyrl and Parrilo): :math:`Q` rounded to rationals of a bounded denominator and
   projected exactly onto the affine space of the coefficient equations (each residual spread
   evenly over the entries of its monomial), for a few denominators, until the rational
   :math:`Q` is positive semidefinite.

The certificate goes to the kernel (:func:`ml2p_symbolic.engine.kernel.sos.check_sos`).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import sympy as sp

from ..certificates import SumOfSquares
from ..kernel.sos import ldl_pivots

__all__ = ["find_sos", "gram_problem", "solve_clarabel", "solve_scs", "MAX_MONOMIALS"]

#: the largest monomial vector tried
MAX_MONOMIALS = 30
_DENOMINATORS = (1, 2, 4, 6, 12, 24, 60, 120, 720, 2 ** 10, 2 ** 16, 2 ** 24, 2 ** 32)


def gram_problem(d):
    """(gens, monomials (exponent tuples), coefficient dict, lp monomials) of the polynomial
    ``d``, or None when ``d`` is not a polynomial with rational coefficients in real generators."""
    d = sp.expand(d)
    try:
        poly = sp.Poly(d)
    except (sp.PolynomialError, sp.GeneratorsNeeded):
        return None
    gens = poly.gens
    if not gens or any(g.is_real is not True for g in gens) or not poly.domain.is_QQ and not poly.domain.is_ZZ:
        return None
    coeffs = {m: Fraction(int(c.p), int(c.q)) for m, c in zip(poly.monoms(), poly.coeffs())}
    nv = len(gens)
    top = [max(m[v] for m in coeffs) for v in range(nv)]
    low = [min(m[v] for m in coeffs) for v in range(nv)]
    total = max(sum(m) for m in coeffs)
    half = [range((low[v] + 1) // 2, top[v] // 2 + 1) for v in range(nv)]
    basis = [e for e in itertools.product(*half) if sum(e) <= total // 2]
    if not basis or len(basis) > MAX_MONOMIALS:
        return None
    nonneg = [v for v in range(nv) if gens[v].is_nonnegative is True]
    lp = [m for m, c in coeffs.items() if c > 0 and any(m) and all(m[v] == 0 or v in nonneg for v in range(nv))
          and any(m[v] % 2 for v in range(nv))]
    return gens, basis, coeffs, lp


def _equations(basis, coeffs, lp):
    """Rows (monomial -> list of (variable index, weight)) of the coefficient equations; the
    variables are the upper triangle of Q (i <= j) then the lambdas."""
    n = len(basis)
    pairs = [(i, j) for j in range(n) for i in range(j + 1)]
    rows = {}
    for k, (i, j) in enumerate(pairs):
        mono = tuple(a + b for a, b in zip(basis[i], basis[j]))
        rows.setdefault(mono, []).append((k, 1.0 if i == j else 2.0))
    for k, mono in enumerate(lp):
        rows.setdefault(mono, []).append((len(pairs) + k, 1.0))
    for mono in coeffs:
        rows.setdefault(mono, [])
    return pairs, rows


def _equality_rows(rows, coeffs, width):
    """The linear equations (A, b) matching every monomial's coefficient, one row a monomial."""
    A, b = [], []
    for mono, entries in rows.items():
        r = np.zeros(width)
        for k, w in entries:
            r[k] = w
        A.append(r)
        b.append(float(coeffs.get(mono, 0)))
    return A, b


def solve_clarabel(basis, coeffs, lp):
    """Numeric (Q, lambdas) by clarabel, or None."""
    import clarabel
    from scipy import sparse

    n = len(basis)
    pairs, rows = _equations(basis, coeffs, lp)
    nq, nl = len(pairs), len(lp)
    A, b = _equality_rows(rows, coeffs, nq + nl)
    # PSD cone on svec(Q): upper triangle by columns, off-diagonals times sqrt 2; s = svec(Q)
    S = np.zeros((nq, nq + nl))
    for k, (i, j) in enumerate(pairs):
        S[k, k] = -(1.0 if i == j else np.sqrt(2.0))
    L = np.zeros((nl, nq + nl))
    for k in range(nl):
        L[k, nq + k] = -1.0
    Amat = sparse.csc_matrix(np.vstack([np.array(A), S, L]))
    bvec = np.concatenate([np.array(b), np.zeros(nq + nl)])
    cones = [clarabel.ZeroConeT(len(A)), clarabel.PSDTriangleConeT(n)]
    if nl:
        cones.append(clarabel.NonnegativeConeT(nl))
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    P = sparse.csc_matrix((nq + nl, nq + nl))
    sol = clarabel.DefaultSolver(P, np.zeros(nq + nl), Amat, bvec, cones, settings).solve()
    if str(sol.status) not in ("Solved", "AlmostSolved"):
        return None
    x = np.array(sol.x)
    return _unpack(x, pairs, n, nl)


def solve_scs(basis, coeffs, lp):
    """Numeric (Q, lambdas) by SCS, or None (for the benchmark)."""
    import scs
    from scipy import sparse

    n = len(basis)
    pairs, rows = _equations(basis, coeffs, lp)
    nq, nl = len(pairs), len(lp)
    A, b = _equality_rows(rows, coeffs, nq + nl)
    # SCS: lower triangle by columns, off-diagonals times sqrt 2 (same entries as ours by symmetry)
    order = [(i, j) for j in range(n) for i in range(j, n)]
    index = {p: k for k, p in enumerate(pairs)}
    S = np.zeros((nq, nq + nl))
    for r, (i, j) in enumerate(order):
        S[r, index[(j, i)]] = -(1.0 if i == j else np.sqrt(2.0))
    L = np.zeros((nl, nq + nl))
    for k in range(nl):
        L[k, nq + k] = -1.0
    Amat = sparse.csc_matrix(np.vstack([np.array(A), L, S]))
    bvec = np.concatenate([np.array(b), np.zeros(nl + nq)])
    data = dict(A=Amat, b=bvec, c=np.zeros(nq + nl))
    cone = dict(z=len(A), l=nl, s=[n])
    sol = scs.SCS(data, cone, verbose=False, eps_abs=1e-9, eps_rel=1e-9, max_iters=20000).solve()
    if sol["info"]["status"] not in ("solved", "solved_inaccurate"):
        return None
    return _unpack(np.array(sol["x"]), pairs, n, nl)


def _unpack(x, pairs, n, nl):
    Q = np.zeros((n, n))
    for k, (i, j) in enumerate(pairs):
        Q[i, j] = Q[j, i] = x[k]
    return Q, x[len(pairs):len(pairs) + nl]


def _round(Q, lam, basis, coeffs, lp, denominator):
    """Rational (Q, lambdas) satisfying the coefficient equations exactly, or None."""
    n = len(basis)
    R = [[Fraction(round(Q[i, j] * denominator), denominator) for j in range(n)] for i in range(n)]
    for i in range(n):
        for j in range(i):
            R[i][j] = R[j][i]
    lams = [max(Fraction(round(v * denominator), denominator), Fraction(0)) for v in lam]
    cells = {}
    for i in range(n):
        for j in range(n):
            cells.setdefault(tuple(a + b for a, b in zip(basis[i], basis[j])), []).append((i, j))
    lp_index = {m: k for k, m in enumerate(lp)}
    for mono in set(cells) | set(coeffs):
        entries = cells.get(mono, [])
        k = lp_index.get(mono)
        have = sum((R[i][j] for i, j in entries), Fraction(0)) + (lams[k] if k is not None else 0)
        r = coeffs.get(mono, Fraction(0)) - have
        if r == 0:
            continue
        count = len(entries) + (1 if k is not None else 0)
        if count == 0:
            return None
        share = r / count
        for i, j in entries:
            R[i][j] += share
        if k is not None:
            lams[k] += share
            if lams[k] < 0:
                return None
    return R, lams


def find_sos(d, strict=False, solver=None):
    """A :class:`~ml2p_symbolic.engine.certificates.SumOfSquares` for ``d >= 0`` (to be
    re-checked by the kernel), or None."""
    problem = gram_problem(d)
    if problem is None:
        return None
    gens, basis, coeffs, lp = problem
    try:
        numeric = (solver or solve_clarabel)(basis, coeffs, lp)
    except Exception:  # a solver failure is no certificate
        return None
    if numeric is None:
        return None
    Q, lam = numeric
    monomials = tuple(sp.Mul(*[g ** e for g, e in zip(gens, mono)]) for mono in basis)
    for den in _DENOMINATORS:
        rounded = _round(Q, lam, basis, coeffs, lp, den)
        if rounded is None:
            continue
        R, lams = rounded
        pivots = ldl_pivots(R)
        if pivots is None or any(p < 0 for p in pivots):
            continue
        if strict and not (all(p > 0 for p in pivots) and any(m == 1 for m in monomials)):
            continue
        gram = tuple(tuple(sp.Rational(q.numerator, q.denominator) for q in row) for row in R)
        terms = tuple((sp.Rational(c.numerator, c.denominator), sp.Mul(*[g ** e for g, e in zip(gens, m)]))
                      for c, m in zip(lams, lp) if c)
        return SumOfSquares(monomials, gram, terms)
    return None
