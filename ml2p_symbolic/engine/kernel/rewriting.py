r"""The kernel's exact rewritings: each maps an expression to one equal to it wherever both
are defined (SymPy's convention for ``cancel``: :math:`(x^2-1)/(x-1) = x + 1`).

:data:`REWRITINGS` preserve equality (a chain of them ending at 0 proves ``lhs - rhs = 0``);
:data:`SIGN_REWRITINGS` preserve the sign of a difference (they may change its size: the
sum of logarithms :math:`\sum_i c_i\log a_i` of positive numbers becomes
:math:`\prod_i a_i^{c_i/|c_1|} - 1`). A search may name only these.
"""

from __future__ import annotations

import sympy as sp

from .sums import normalise, sums_as_atoms

__all__ = ["REWRITINGS", "SIGN_REWRITINGS", "rewrite", "is_zero", "fraction_form", "logs_combined"]

_EXPAND_PRODUCTS = dict(mul=True, multinomial=False, power_exp=False, power_base=False, log=False)


def fraction_form(x):
    """``x`` as one fraction whose numerator and denominator are expanded products, squares
    kept whole (``(a - b)^2`` stays a square, so its sign stays readable)."""
    num, den = sp.fraction(sp.together(x))
    return sp.expand(num, **_EXPAND_PRODUCTS) / sp.expand(den, **_EXPAND_PRODUCTS)


def logs_combined(d):
    r"""For :math:`d = \sum_i c_i \log a_i` with every :math:`a_i > 0` (proved by SymPy's
    assumptions): :math:`P - 1` with :math:`P = \prod_i a_i^{c_i/|c_1|}`, in
    :func:`fraction_form`; it has the sign of :math:`d` since :math:`d = |c_1|\log P` and
    :math:`\log` is increasing. ``d`` itself otherwise."""
    parts = []
    for term in sp.Add.make_args(d):
        c, rest = term.as_coeff_Mul()
        if not (isinstance(rest, sp.log) and rest.args[0].is_positive is True and c != 0):
            return d
        parts.append((c, rest.args[0]))
    c0 = abs(parts[0][0])
    return fraction_form(sp.Mul(*[a ** (c / c0) for c, a in parts]) - 1)


def _matrix_aware(f):
    def apply(d):
        if isinstance(d, sp.MatrixBase):
            return d.applyfunc(f)
        return f(d)
    return apply


#: equality-preserving rewritings, by the name a certificate uses
REWRITINGS = {
    "structural": lambda d: d,
    "is_zero": _matrix_aware(lambda d: sp.S.Zero if d.is_zero is True else d),
    "expand": _matrix_aware(sp.expand),
    "cancel(together)": _matrix_aware(lambda d: sp.cancel(sp.together(d))),
    "rewrite(exp)+cancel": _matrix_aware(lambda d: sp.cancel(sp.together(sp.expand_power_exp(d.rewrite(sp.exp))))),
    "simplify": _matrix_aware(sp.simplify),
    "simplify(rewrite(exp))": _matrix_aware(lambda d: sp.simplify(sp.expand(d.rewrite(sp.exp)))),
    "doit": _matrix_aware(lambda d: d.doit()),
    "doit+simplify": _matrix_aware(lambda d: sp.simplify(d.doit())),
    "factor": _matrix_aware(sp.factor),
    "expand_log": _matrix_aware(lambda d: sp.expand_log(d, force=False)),
    # sums with canonical bound indices and constants taken out, positive sums as positive atoms
    "sums normalised+cancel": lambda d: sp.cancel(sp.together(sums_as_atoms(normalise(d)))),
    "sums normalised+expand_log": lambda d: sp.cancel(sp.together(sp.expand_log(
        sp.expand_power_exp(sums_as_atoms(normalise(sp.expand_power_exp(d)))), force=False))),
    "sums normalised+simplify": lambda d: sp.simplify(sums_as_atoms(normalise(d))),
}

#: sign-preserving rewritings of a difference (equality-preserving ones included)
SIGN_REWRITINGS = {
    "assumptions": lambda d: d,
    "factor": sp.factor,
    "cancel(together)": lambda d: sp.cancel(sp.together(d)),
    "one fraction, squares kept": fraction_form,
    "logarithms combined": logs_combined,
    "simplify": sp.simplify,
    "expand": sp.expand,
}


def rewrite(expr, steps, table=None):
    """``expr`` after the named rewritings of ``table`` (default :data:`REWRITINGS`), in turn;
    KeyError for an unknown name."""
    table = REWRITINGS if table is None else table
    for name in steps:
        expr = table[name](expr)
    return expr


def is_zero(result) -> bool:
    """True when ``result`` is the number 0 or an explicit zero matrix (nothing weaker)."""
    if isinstance(result, sp.MatrixBase):
        return all(isinstance(e, sp.Expr) and e.is_Number and e == 0 for e in result)
    if isinstance(result, sp.ZeroMatrix):
        return True
    return isinstance(result, sp.Expr) and result.is_Number and result == 0
