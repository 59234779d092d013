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

__all__ = ["DPS", "fmt", "latex_number", "value_at", "sizes_text", "verdict_from_identity"]

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


def sizes_text(sizes):
    """``sizes`` (a mapping such as ``{"K": [2]}``) as rich text: ``$K = 2$``, ``$n = 1, 2$``."""
    return ", ".join(f"${name} = {', '.join(str(v) for v in values)}$" for name, values in sizes.items())


def verdict_from_identity(v, *, method_prefix="", detail="", evidence=(), corrected=None, sizes="all"):
    """A statement's :class:`~ml2p_symbolic.engine.records.Verdict` from a
    :func:`~ml2p_symbolic.engine.identity.check_identity` verdict ``v``.

    ``detail`` and ``evidence`` are rich text (:mod:`~ml2p_symbolic.engine.richtext`). The
    identity checker's own plain text is kept for proofs and open cases (escaped as rich text,
    as a sentence); a refutation's point and values are already in ``counterexample`` and
    ``values``, so only their precision is added to ``detail``.

    ``sizes`` says what ``v`` covers: ``"all"`` when the identity checked is the statement for
    every size (its sizes symbols), else the sizes it was instantiated at (``{"K": [2]}``). A
    proof of the identity is then the kernel's ``verified``, restated (``"all"``), or
    ``tested`` at those sizes: an identity proved at ``K = 2`` is not proved for every ``K``.
    A refutation at any size refutes the statement; ``sizes`` records where it was found.
    """
    from .identity import CONFIRM_DIGITS
    from . import kernel

    extra = literal(v.detail or "")  # the identity checker's plain text, as rich text
    if v.verdict == "refuted":
        extra = (f"The counterexample was evaluated at {CONFIRM_DIGITS[0]} and {CONFIRM_DIGITS[1]} digits.")
    elif extra:
        extra = extra[0].upper() + extra[1:] + ("" if extra.endswith(".") else ".")
    method = (method_prefix + v.method) if method_prefix else v.method
    text = (detail.strip() + (" " if detail and extra else "") + extra).strip()
    if v.verdict == "verified":
        kernel_lines = tuple(literal(e) for e in v.evidence if e.startswith("kernel: "))
        if sizes == "all":
            return kernel.restate(v, method=method, detail=text, evidence=tuple(evidence) + kernel_lines,
                                  corrected=corrected)
        return Verdict("tested", method, detail=(text + f" Proved at {sizes_text(sizes)} only: not proved for "
                                                 "every size.").strip(),
                       evidence=tuple(evidence), corrected=corrected, sizes=sizes)
    fields = dict(counterexample=v.counterexample, values=v.values, detail=text, evidence=tuple(evidence),
                  corrected=corrected, sizes=v.sizes if v.sizes != "all" else sizes)
    if v.verdict == "refuted":
        return Verdict("refuted", method, **fields)
    if v.verdict == "tested":
        return Verdict("tested", method, **fields)
    if v.verdict == "open":
        return Verdict("open", method, **fields)
    raise ValueError(f"check_identity gives verified, tested, refuted or open, not {v.verdict!r}")
