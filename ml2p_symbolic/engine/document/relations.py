r"""The relations a document may write besides ``=`` and the orders: ``\neq`` and ``\approx``.

* ``a \neq b`` holds when :math:`a - b` is nonzero for every value the declarations allow. It is
  ``verified`` only from a proof that :math:`a > b` everywhere or that :math:`a < b` everywhere
  (either excludes :math:`a = b`); when :math:`a = b` is proved for every value the step is
  reported ``open`` with that proof in the detail (a refutation would need a confirmed point);
  otherwise ``open``.
* ``a \approx b`` states an approximation with no tolerance: it is never ``verified``. The step
  is ``open``; the detail says whether :math:`a = b` holds exactly (then write ``=``) or where it
  fails.

The verdicts of the underlying ``=``, ``<`` and ``>`` checks come from ``check`` (the step
checker's :func:`~ml2p_symbolic.engine.document.steps.check_relation`, handed in).
"""

from __future__ import annotations

import sympy as sp

from .. import kernel
from ..records import Verdict

__all__ = ["check_unequal", "check_approximation", "OTHER_RELATIONS"]


def check_unequal(lhs, rhs, decls, *, budget, check):
    """The verdict of ``lhs \\neq rhs`` (see the module docstring)."""
    tried = []
    for strict, word in ((">", "greater"), ("<", "less")):
        v = check(lhs, rhs, strict, decls, budget=budget / 3)
        if v.verdict == "verified":  # the kernel's proof of a strict order: a > b (or a < b) excludes a = b
            return kernel.restate(v, detail=f"the left side is {word} than the right side for every value "
                                            f"({v.detail}), so they are never equal")
        tried.append(f"lhs {strict} rhs: {v.verdict}")
    eq = check(lhs, rhs, "=", decls, budget=budget / 3)
    if eq.verdict == "verified":
        return Verdict("open", "equal everywhere",
                       detail=f"the two sides are equal for every value ({eq.detail}): this \\neq never holds")
    return Verdict("open", "not proved unequal",
                   detail="no proof that the two sides differ for every value (" + "; ".join(tried) + ")")


def check_approximation(lhs, rhs, decls, *, budget, check):
    """The verdict of ``lhs \\approx rhs``: always ``open`` (see the module docstring)."""
    eq = check(lhs, rhs, "=", decls, budget=budget)
    if eq.verdict == "verified":
        detail = f"holds exactly ({eq.method}): write '=' to have it verified"
    elif eq.verdict in ("refuted", "conditional"):
        detail = "an approximation with no stated tolerance; as an equation it is " + eq.verdict
        if eq.values:
            point = ", ".join(f"{sp.sstr(k)} = {sp.sstr(v)}" for k, v in (eq.counterexample or {}).items())
            detail += f" (lhs = {_digits(eq.values[0])}, rhs = {_digits(eq.values[1])}" + \
                (f" at {point})" if point else ")")
    else:
        detail = "an approximation with no stated tolerance (not checked)"
    return Verdict("open", "approximation", detail=detail, counterexample=None)


def _digits(value, digits=12):
    """A decimal string cut to ``digits`` significant digits (the verdict of the equation keeps all)."""
    try:
        return sp.sstr(sp.Float(value, 30).evalf(digits))
    except (TypeError, ValueError):
        return str(value)


#: relation -> its checking function
OTHER_RELATIONS = {"!=": check_unequal, "~=": check_approximation}
