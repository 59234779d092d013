r"""Evaluation bars that stay inside the declared domain.

SymPy simplifies with a symbol's assumptions as soon as an expression is built:
:math:`\sqrt{p^2}` is already :math:`p` for a positive :math:`p`. A bar
:math:`\sqrt{p^2}\big|_{p=-1}` that substitutes a value outside the declared domain would then
give :math:`-1`. And a derivative of :math:`|x|` is :math:`\operatorname{sign}(x)`, which SymPy
evaluates to 0 at :math:`x = 0`, where no derivative exists. :func:`substitute` refuses both.
"""

from __future__ import annotations

import sympy as sp

from ...errors import NotCheckableError

__all__ = ["substitute"]

_FACTS = ("positive", "nonnegative", "negative", "nonpositive", "nonzero", "real", "integer")


def substitute(body, targets):
    """``body.xreplace(targets)``, or :class:`NotCheckableError` when a value is not known to
    lie in its symbol's declared domain, or when the point makes the argument of a
    ``sign``, ``Heaviside`` or ``DiracDelta`` in ``body`` possibly 0 (a kink: a derivative
    there does not exist)."""
    for sym, value in targets.items():
        value = sp.sympify(value)
        for fact in _FACTS:
            if getattr(sym, "is_" + fact, None) is True and getattr(value, "is_" + fact, None) is not True:
                raise NotCheckableError(f"the bar sets {sym} = {value}, which is not known to be {fact} "
                                        f"as {sym} is declared")
    for f in body.atoms(sp.sign, sp.Heaviside, sp.DiracDelta):
        arg = f.args[0]
        if any(s in arg.free_symbols for s in targets) and arg.xreplace(targets).is_zero is not False:
            raise NotCheckableError(f"the bar evaluates {f} where its argument may be 0: a derivative "
                                    "there may not exist")
    return body.xreplace(targets)
