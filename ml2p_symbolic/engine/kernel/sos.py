r"""The kernel's check of a sum-of-squares certificate (:class:`~ml2p_symbolic.engine.certificates.SumOfSquares`).

For a difference :math:`d` (``rhs - lhs`` of ``lhs <= rhs``) the certificate claims

.. math:: d = m^{\mathsf T} Q m + \sum_j c_j t_j

with :math:`m` a vector of real expressions, :math:`Q = Q^{\mathsf T}` rational and positive
semidefinite, :math:`c_j \ge 0` rational and :math:`t_j \ge 0`. Then :math:`d \ge 0` at every
point: :math:`m^{\mathsf T} Q m = \sum_k D_k (L^{\mathsf T} m)_k^2` with :math:`D_k \ge 0`.
Checked exactly: SymPy's ``expand`` of the difference minus the certificate is the number 0,
and :math:`Q = L D L^{\mathsf T}` is computed in rationals (:func:`ldl_pivots`).
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from ..certificates import SumOfSquares
from . import rewriting

__all__ = ["check_sos", "ldl_pivots", "difference"]


def difference(goal):
    """``rhs - lhs`` for ``<=``/``<``, ``lhs - rhs`` for ``>=``/``>`` (None for an equation)."""
    if goal.relation in ("<=", "<"):
        return goal.rhs - goal.lhs
    if goal.relation in (">=", ">"):
        return goal.lhs - goal.rhs
    return None


def _fraction(x):
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int):
        return Fraction(x)
    x = sp.sympify(x, strict=True)
    if not x.is_Rational:
        raise ValueError(f"not a rational number: {x}")
    return Fraction(int(x.p), int(x.q))


def ldl_pivots(Q):
    r"""The pivots :math:`D_k` of :math:`Q = L D L^{\mathsf T}` in exact rationals, or None when
    :math:`Q` is not symmetric or a zero pivot has a nonzero rest of its column (then
    :math:`Q` is not positive semidefinite).

    >>> ldl_pivots([[1, 1], [1, 1]])
    [Fraction(1, 1), Fraction(0, 1)]
    >>> ldl_pivots([[0, 1], [1, 0]]) is None
    True
    """
    n = len(Q)
    A = [[_fraction(Q[i][j]) for j in range(n)] for i in range(n)]
    if any(len(row) != n for row in Q) or any(A[i][j] != A[j][i] for i in range(n) for j in range(n)):
        return None
    pivots = []
    for k in range(n):
        p = A[k][k]
        pivots.append(p)
        if p == 0:
            if any(A[i][k] != 0 for i in range(k + 1, n)):
                return None
            continue
        for i in range(k + 1, n):
            f = A[i][k] / p
            if f:
                for j in range(k + 1, n):
                    A[i][j] -= f * A[k][j]
    return pivots


def check_sos(goal, cert: SumOfSquares):
    """(ok, why) for the certificate against ``goal``."""
    d = difference(goal)
    if d is None:
        return False, "a sum of squares for an equation"
    m = [sp.sympify(x, strict=True) for x in cert.monomials]
    if not m or any(x.is_real is not True for x in m):
        return False, "a monomial is not real"
    pivots = ldl_pivots(cert.gram)
    if pivots is None or len(pivots) != len(m) or any(p < 0 for p in pivots):
        return False, "the Gram matrix is not positive semidefinite"
    terms = []
    for c, t in cert.nonnegative:
        c, t = _fraction(c), sp.sympify(t, strict=True)
        if c < 0 or t.is_nonnegative is not True:
            return False, f"{c} * {t} is not known to be nonnegative"
        terms.append((c, t))
    d = rewriting.rewrite(d, cert.steps)
    n = len(m)
    square = sp.Add(*[sp.Rational(q.numerator, q.denominator) * m[i] * m[j]
                      for i in range(n) for j in range(n) if (q := _fraction(cert.gram[i][j]))])
    rest = sp.Add(*[sp.Rational(c.numerator, c.denominator) * t for c, t in terms])
    if sp.expand(d - square - rest) != 0:
        return False, "the difference is not m^T Q m plus the nonnegative terms"
    if goal.relation in ("<", ">"):
        definite = all(p > 0 for p in pivots) and any(x == 1 for x in m)
        positive_term = any(c > 0 and t.is_positive is True for c, t in terms)
        if not (definite or positive_term):
            return False, "a strict inequality needs a positive definite Gram matrix with 1 among the monomials"
    return True, ""
