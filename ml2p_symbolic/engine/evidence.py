r"""Helpers that turn computations into evidence: high-precision values, verdicts from identities.

Every counterexample the engine shows is evaluated with mpmath at :data:`DPS` significant
digits (plus guard digits), so a reader can rerun it and see the two sides differ.

Examples
========

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> fmt(value_at(sp.exp(x), {x: 1}), 12)
'2.71828182846'
"""

from __future__ import annotations

import mpmath
import sympy as sp

from .records import Verdict

__all__ = ["DPS", "fmt", "value_at", "verdict_from_identity"]

#: decimal digits of every high-precision evaluation of a counterexample
DPS = 40


def fmt(x, digits=DPS):
    """An mpmath (or SymPy) number as a decimal string with ``digits`` significant digits."""
    return mpmath.nstr(x, digits, min_fixed=-5, max_fixed=5)


def value_at(expr, point, digits=DPS):
    r"""``expr`` with the exact values of ``point`` substituted, evaluated to ``digits``
    digits (plus ten guard digits) and returned as an :class:`mpmath.mpf`."""
    with mpmath.workdps(digits + 10):
        return mpmath.mpf(sp.N(sp.sympify(expr).subs(point), digits + 10))


def verdict_from_identity(v, *, method_prefix="", detail="", evidence=(), corrected=None):
    """A statement's :class:`~ml2p_symbolic.engine.records.Verdict` from a
    :func:`~ml2p_symbolic.engine.identity.check_identity` verdict ``v``.

    The identity checker's own text is kept for proofs and open cases; a refutation's point
    and values are already in ``counterexample`` and ``values``, so only their precision is
    added to ``detail``.
    """
    extra = v.detail or ""
    if v.verdict == "refuted":
        extra = "The counterexample was evaluated at 50 and 80 digits."
    return Verdict(
        verdict=v.verdict,
        method=(method_prefix + v.method) if method_prefix else v.method,
        counterexample=v.counterexample,
        values=v.values,
        detail=(detail.strip() + (" " if detail and extra else "") + extra).strip(),
        evidence=tuple(evidence),
        corrected=corrected,
    )
