r"""Does :math:`\mathbb E[f(\eta)]` exist for independent standard normals :math:`\eta`?

:func:`integrable` proves that :math:`|f(\eta)| \le C\,(1 + |\eta|)^m e^{c|\eta|}` for some
constants (a growth class every Gaussian integrates), by structural rules, each a bound:

* a term free of :math:`\eta` (finite), and :math:`\eta` itself;
* sums and products of terms of the class, nonnegative integer powers of them;
* :math:`e^{g}` with :math:`g` a polynomial of degree at most 1 in :math:`\eta` (real
  coefficients);
* bounded functions of a real argument: :math:`\sin`, :math:`\cos`, :math:`\tanh`,
  :math:`\arctan`, :math:`\operatorname{erf}`, and :math:`1/h^k` for :math:`h` bounded below
  by a positive number (a positive constant plus terms that are exponentials or even powers
  of real expressions, e.g. :math:`1 + e^{-x}`), or :math:`1/h^k` with :math:`h = N/D` in one
  fraction, :math:`D` of the class and :math:`1/N` of the class
  (:math:`1/(1 - 1/(1 + e^{u})) = (1 + e^{u})e^{-u}`);
* :math:`\log h` for :math:`h` of the class and bounded below by a positive number (then
  :math:`|\log h|` grows at most linearly), :math:`|h|`, and :math:`\sqrt{h}` for
  :math:`h \ge 0` of the class.

Anything else (:math:`e^{\eta^2}`, :math:`1/\eta`, :math:`\log|\eta|`) is *not shown*: the
rules that compute an expectation (moments, symmetry, completing the square) then do not
apply, and a numeric quadrature is not used as evidence either.

>>> import sympy as sp
>>> e = sp.Symbol("e", real=True); x = sp.Symbol("x", real=True)
>>> integrable(e * sp.exp(x + 2*e) / (1 + sp.exp(-x - e)), [e])
True
>>> integrable(e * sp.exp(e**2), [e]), integrable(1 / e, [e])
(False, False)
"""

from __future__ import annotations

import sympy as sp

__all__ = ["integrable", "bounded_below_positive"]

_BOUNDED = (sp.sin, sp.cos, sp.tanh, sp.atan, sp.erf)


def _real(expr):
    return expr.is_real is True or expr.is_extended_real is True


def bounded_below_positive(h, variables):
    """True when ``h >= c > 0`` for every value of ``variables`` (and every point of the
    other symbols' domain): a positive number plus terms that are nonnegative (exponentials of
    real expressions, even powers of real expressions, nonnegative symbols)."""
    if not h.has(*variables):
        return h.is_positive is True
    const, terms = h.as_independent(*variables, as_Add=True)
    if const.is_positive is not True:
        return False
    for t in sp.Add.make_args(terms):
        if t == 0:
            continue
        if t.is_nonnegative is True:
            continue
        coeff, rest = t.as_coeff_Mul()
        if coeff <= 0:
            return False
        ok = all((isinstance(f, sp.exp) and _real(f.args[0]))
                 or (isinstance(f, sp.Pow) and f.exp.is_even is True and _real(f.base))
                 or f.is_nonnegative is True
                 for f in sp.Mul.make_args(rest))
        if not ok:
            return False
    return True


def integrable(expr, variables) -> bool:
    """True when ``expr`` is proved to lie in the growth class of the module docstring in
    every variable of ``variables`` (so its expectation under independent standard normals
    exists); False when not shown."""
    variables = tuple(v for v in variables if expr.has(v))
    if not variables:
        return True
    return _in_class(sp.sympify(expr), variables)


def _reciprocal_in_class(base, k, vs):
    r"""``base**-k`` in the class through ``base = N / D`` (one fraction, :func:`sympy.together`):
    ``(D / N)**k`` with ``D`` of the class and ``1/N`` of the class (``N`` bounded below by a
    positive number, or ``1/N`` an exponential of a linear form), e.g.
    :math:`1/(1 - 1/(1 + e^{u})) = (1 + e^{u})\,e^{-u}`. Equal to ``base**-k`` wherever
    ``base`` is defined and nonzero."""
    num, den = sp.fraction(sp.together(base))
    if den == 1 or k.is_integer is not True:
        return False
    if not num.has(*vs):
        return num.is_zero is False and _in_class(den, vs)
    return _in_class(den, vs) and _in_class(sp.powsimp(1 / num), vs)


def _in_class(e, vs):
    if not e.has(*vs):
        return e.is_finite is not False
    if e in vs:
        return True
    if isinstance(e, (sp.Add, sp.Mul)):
        return all(_in_class(a, vs) for a in e.args)
    if isinstance(e, sp.Pow):
        base, ex = e.base, e.exp
        if ex.has(*vs):
            if base == sp.E:
                return _in_class(sp.exp(ex, evaluate=False), vs)
            return False
        if ex.is_integer is True and ex.is_nonnegative is True:
            return _in_class(base, vs)
        if ex.is_integer is True and ex.is_negative is True:
            return bounded_below_positive(base, vs) or _reciprocal_in_class(base, -ex, vs)
        if ex.is_positive is True and ex.is_rational is True:
            return base.is_nonnegative is True and _in_class(base, vs)
        return False
    if isinstance(e, sp.exp):
        arg = e.args[0]
        try:
            poly = sp.Poly(arg, *vs)
        except sp.PolynomialError:
            return False
        return poly.total_degree() <= 1 and all(_real(c) for c in poly.coeffs())
    if isinstance(e, _BOUNDED):
        return _real(e.args[0])
    if isinstance(e, sp.log):
        h = e.args[0]
        return bounded_below_positive(h, vs) and _in_class(h, vs)
    if isinstance(e, sp.Abs):
        return _in_class(e.args[0], vs)
    return False
