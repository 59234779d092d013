r"""Helpers that turn computations into evidence: high-precision values, verdicts from identities.

Every counterexample the engine shows is evaluated with mpmath at :data:`DPS` significant
digits (plus guard digits), so a reader can rerun it and see the two sides differ.

Examples
========

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> fmt(value_at(sp.exp(x), {x: 1}), 12)
'2.71828182846'
>>> latex_number("-1.5e-16"), latex_number(f"{0.25:.3g}")
('-1.5 \\cdot 10^{-16}', '0.25')
"""

from __future__ import annotations

import re

import mpmath
import sympy as sp

from .records import Verdict
from .richtext import literal

__all__ = ["DPS", "fmt", "latex_number", "value_at", "verdict_from_identity"]

#: decimal digits of every high-precision evaluation of a counterexample
DPS = 40


def fmt(x, digits=DPS):
    """An mpmath (or SymPy) number as a decimal string with ``digits`` significant digits."""
    return mpmath.nstr(x, digits, min_fixed=-5, max_fixed=5)


_DECIMAL = re.compile(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?")
_SPECIAL = {"inf": r"\infty", "+inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{NaN}"}


def latex_number(x):
    r"""A decimal number as LaTeX math (no dollars): the digits as given, an exponent as
    :math:`\cdot 10^{e}`, so ``"1.1e-16"`` reads :math:`1.1 \cdot 10^{-16}`.

    ``x`` is a decimal string (from :func:`fmt` or a Python format such as ``f"{v:.3g}"``)
    or a number (an mpmath number goes through :func:`fmt`, others through ``repr``); no
    digit is added or dropped. Raises ``ValueError`` for anything that is not a decimal.
    """
    if isinstance(x, str):
        s = x.strip()
    elif isinstance(x, (mpmath.mpf, sp.Float)):
        s = fmt(x)
    else:
        s = repr(float(x)) if not isinstance(x, int) else str(x)
    if s.lower() in _SPECIAL:
        return _SPECIAL[s.lower()]
    m = _DECIMAL.fullmatch(s)
    if m is None:
        raise ValueError(f"not a decimal number: {x!r}")
    sign, mantissa, exponent = m.groups()
    sign = "-" if sign == "-" else ""
    if exponent is None:
        return sign + mantissa
    if float(mantissa) == 0:
        return "0"
    return rf"{sign}{mantissa} \cdot 10^{{{int(exponent)}}}"


def value_at(expr, point, digits=DPS):
    r"""``expr`` with the exact values of ``point`` substituted, evaluated to ``digits``
    digits (plus ten guard digits) and returned as an :class:`mpmath.mpf`."""
    with mpmath.workdps(digits + 10):
        return mpmath.mpf(sp.N(sp.sympify(expr).subs(point), digits + 10))


def verdict_from_identity(v, *, method_prefix="", detail="", evidence=(), corrected=None):
    """A statement's :class:`~ml2p_symbolic.engine.records.Verdict` from a
    :func:`~ml2p_symbolic.engine.identity.check_identity` verdict ``v``.

    ``detail`` and ``evidence`` are rich text (:mod:`~ml2p_symbolic.engine.richtext`). The
    identity checker's own plain text is kept for proofs and open cases (escaped as rich text,
    as a sentence); a refutation's point and values are already in ``counterexample`` and
    ``values``, so only their precision is added to ``detail``.
    """
    extra = literal(v.detail or "")  # the identity checker's plain text, as rich text
    if v.verdict == "refuted":
        extra = "The counterexample was evaluated at 50 and 80 digits."
    elif extra:
        extra = extra[0].upper() + extra[1:] + ("" if extra.endswith(".") else ".")
    return Verdict(
        verdict=v.verdict,
        method=(method_prefix + v.method) if method_prefix else v.method,
        counterexample=v.counterexample,
        values=v.values,
        detail=(detail.strip() + (" " if detail and extra else "") + extra).strip(),
        evidence=tuple(evidence),
        corrected=corrected,
    )
