r"""Expectations over the VAE noise :math:`\varepsilon \sim \mathcal N(0, I_K)`.

Symbolic where SymPy can, by high-precision quadrature otherwise; never by substituting a
value for :math:`\varepsilon`.

The symbolic rules, each exact:

* **moments**: where the integrand is a polynomial in :math:`\varepsilon_k`, each power is
  replaced by its Gaussian moment :math:`\mathbb E[\varepsilon^m]`, itself computed by
  SymPy as :math:`\int x^m \phi(x)\,dx`;
* **symmetry**: :math:`\mathcal N(0, I)` is invariant under :math:`\varepsilon\mapsto-\varepsilon`,
  so an integrand :math:`g` with :math:`g(-\varepsilon) = -g(\varepsilon)` (proved by the
  kernel) whose expectation exists (:func:`~.integrability.integrable`) has expectation 0.

What is left (e.g. :math:`\mathbb E[\sigma(z + s\varepsilon)]`, which has no closed form)
is integrated numerically with :func:`mpmath.quad` at the requested precision.

Examples
========

>>> import sympy as sp
>>> e = sp.Symbol('varepsilon_1', real=True)
>>> x = sp.Symbol('x', real=True)
>>> gaussian_expectation(x + 3*e**2 + e, [e]).value
x + 3
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy as sp

from ...errors import ML2PError
from .. import kernel
from ..certificates import Goal, Rewriting
from .integrability import integrable

__all__ = ["gaussian_moment", "Expectation", "gaussian_expectation", "expectation_numeric"]


#: the kernel's rewritings tried to prove an integrand odd
_ODD_PROOFS = ("structural", "expand", "cancel(together)", "rewrite(exp)+cancel")


@lru_cache(maxsize=None)
def gaussian_moment(m):
    r""":math:`\mathbb E[\varepsilon^m]` for :math:`\varepsilon\sim\mathcal N(0,1)`, by SymPy integration.

    >>> [gaussian_moment(m) for m in range(5)]
    [1, 0, 1, 0, 3]
    """
    x = sp.Dummy("x", real=True)
    return sp.integrate(x**m * sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi), (x, -sp.oo, sp.oo))


@dataclass(frozen=True)
class Expectation:
    r"""The result of :func:`gaussian_expectation`.

    ``value`` is the exact expectation (a SymPy expression free of the noise symbols) or
    ``None`` when SymPy could not finish; ``residual`` is then the integrand left over the
    noise symbols ``remaining``, for :func:`expectation_numeric`. ``steps`` lists the rules
    applied, as rich text (:mod:`ml2p_symbolic.engine.richtext`).
    """

    value: object
    residual: object
    remaining: tuple
    steps: tuple


def _integrate_polynomial_part(expr, e):
    """E over ``e`` of ``expr`` when ``expr`` is a polynomial in ``e``; None otherwise."""
    expr = sp.expand(expr)
    if not expr.has(e):
        return expr
    if not expr.is_polynomial(e):
        return None
    poly = sp.Poly(expr, e)
    return sp.Add(*[c * gaussian_moment(mon[0]) for mon, c in zip(poly.monoms(), poly.coeffs())])


def gaussian_expectation(expr, eps):
    r"""Exact :math:`\mathbb E_{\varepsilon\sim\mathcal N(0,I)}[\,\mathrm{expr}\,]` where SymPy can.

    Parameters
    ==========
    expr : sympy.Expr
        The integrand; bounded by a polynomial in :math:`\varepsilon` (true of every
        integrand of the seed: sigmoids times affine functions of the noise).
    eps : sequence of sympy.Symbol
        The independent standard-normal noise symbols.

    Returns
    =======
    Expectation
        ``value`` is exact when found, else ``None`` with the ``residual`` integrand.
    """
    eps = tuple(eps)
    expr = sp.sympify(expr)
    steps = []
    remaining = []
    for e in eps:
        if not expr.has(e):
            continue
        reduced = _integrate_polynomial_part(expr, e)
        if reduced is None:
            remaining.append(e)
        else:
            expr = reduced
            steps.append(f"moments of ${sp.latex(e)}$")
    remaining = tuple(e for e in remaining if expr.has(e))
    if not remaining:
        return Expectation(sp.simplify(expr), None, (), tuple(steps))
    if not integrable(expr, remaining):
        steps.append("integrability not shown: the symmetry rule does not apply")
        return Expectation(None, expr, remaining, tuple(steps))
    flipped = expr.subs({e: -e for e in remaining}, simultaneous=True)
    odd = Goal(flipped, -expr)
    if any(kernel.accepts(odd, Rewriting((name,)), limit=3.0) for name in _ODD_PROOFS):
        flips = ", ".join(rf"${sp.latex(e)} \to -{sp.latex(e)}$" for e in remaining)
        steps.append(f"odd under {flips}: expectation 0 by symmetry")
        return Expectation(sp.Integer(0), None, (), tuple(steps))
    return Expectation(None, expr, remaining, tuple(steps))


def expectation_numeric(expr, eps, values=None, *, dps=40):
    r""":math:`\mathbb E_\varepsilon[\mathrm{expr}]` at the point ``values``, to ``dps`` digits.

    The polynomial part in each noise symbol is integrated exactly first (see
    :func:`gaussian_expectation`); what remains is integrated with :func:`mpmath.quad`
    against the standard normal density, over at most two noise symbols.

    Parameters
    ==========
    expr : sympy.Expr
    eps : sequence of sympy.Symbol
    values : dict, optional
        Exact values (SymPy numbers) for every other free symbol of ``expr``.
    dps : int
        Working precision in decimal digits (>= 30).

    Returns
    =======
    mpmath.mpf

    Examples
    ========

    >>> import sympy as sp
    >>> e = sp.Symbol('varepsilon_1', real=True)
    >>> v = expectation_numeric(1/(1 + sp.exp(-e)), [e], dps=30)
    >>> print(mpmath.nstr(v, 20))
    0.5
    """
    expr = sp.sympify(expr).subs(values or {})
    eps = tuple(eps)
    for e in eps:
        reduced = _integrate_polynomial_part(expr, e) if expr.has(e) else expr
        if reduced is not None:
            expr = reduced
    remaining = tuple(e for e in eps if expr.has(e))
    free = expr.free_symbols - set(remaining)
    if free:
        raise ML2PError(
            "expectation_numeric needs a value for every symbol other than the noise; "
            f"missing: {', '.join(sorted(map(str, free)))}"
        )
    if len(remaining) > 2:
        raise ML2PError("expectation_numeric integrates over at most two noise symbols")
    with mpmath.workdps(dps + 10):
        if not remaining:
            val = mpmath.mpf(sp.N(expr, dps + 10))
            return val
        # simplify after substitution: removes cancellations such as 1 - 1/(1 + exp(-x))
        # that underflow at the far nodes of the tanh-sinh rule
        f = sp.lambdify(remaining, sp.simplify(expr), modules="mpmath")
        phi = lambda x: mpmath.exp(-(x**2) / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
        inf = mpmath.inf
        if len(remaining) == 1:
            val = mpmath.quad(lambda x: f(x) * phi(x), [-inf, 0, inf])
        else:
            val = mpmath.quad(lambda x, y: f(x, y) * phi(x) * phi(y), [-inf, 0, inf], [-inf, 0, inf])
    return val  # keeps its working precision (unary + would round to the global one)
