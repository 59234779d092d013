r"""SymPy nodes for the notation a document writes but SymPy must not evaluate on sight.

* :class:`Expect` -- :math:`\mathbb E_{v}[f]`, the expectation of ``f`` over the random
  variables ``v`` (declared ``%! random``);
* :class:`EvalAt` -- :math:`f\big|_{x=a,\ y=b}`, an evaluation bar;
* :class:`Diff` -- :math:`\partial^{m} f / \partial x^{m}\cdots`, a derivative that may be taken
  with respect to a *defined* quantity (``%! define``), which only the step checker can do;
* :class:`Approx` -- :math:`a \approx b`, an approximation as a statement (never proved).

SymPy's own ``Subs`` and ``Derivative`` are not used: ``Subs(f, x, a)`` drops ``x`` when ``f``
does not show it (a defined quantity hides its ingredients), and ``Derivative`` may evaluate
to 0 for the same reason. These nodes are inert: only :mod:`ml2p_symbolic.engine.document.steps`
gives them meaning. Each prints back with ``sympy.latex`` in notation the reader parses.

An :class:`Expect` whose integrand has no free symbol other than its bound standard normals
evaluates numerically (``evalf``) by :func:`ml2p_symbolic.expectation.expectation_numeric`
(mpmath quadrature at the requested precision).

Examples
========

>>> import sympy as sp
>>> x, a = sp.symbols('x a', real=True)
>>> sp.latex(EvalAt(x**2, [(x, a)]))
'\\left. x^{2} \\right|_{\\substack{ x=a }}'
"""

from __future__ import annotations

from functools import lru_cache

import mpmath
import sympy as sp
from sympy.core.expr import Expr
from sympy.core.containers import Tuple

__all__ = ["Expect", "EvalAt", "Diff", "StandardNormal", "Approx"]


class StandardNormal(sp.Symbol):
    """A bound standard normal variable inside an :class:`Expect` (a real Symbol of its own
    class, so that it never equals a free variable of the same name)."""

    def __new__(cls, name):
        return super().__new__(cls, name, real=True)

    def __getnewargs_ex__(self):
        return ((self.name,), {})


class Expect(Expr):
    r""":math:`\mathbb E_{\mathrm{variables}}[\mathrm{body}]`.

    ``variables`` are what the document names (random families as ``IndexedBase``, single
    random variables as ``Symbol``/``Indexed``) before the step checker concretises them,
    and :class:`StandardNormal` symbols after.

    An expectation not shown to exist (:func:`ml2p_symbolic.engine.expectation.integrable`)
    carries a fresh tag, so that two of them never cancel as equal terms
    (:math:`\mathbb E[e^{\varepsilon^2}] - \mathbb E[e^{\varepsilon^2}]` is not 0: it is
    :math:`\infty - \infty`).
    """

    is_commutative = True

    def __new__(cls, body, variables, tag=None):
        from ..expectation.integrability import integrable

        body = sp.sympify(body)
        if tag is None:
            randoms = [v for v in variables if isinstance(v, (sp.Symbol, sp.Indexed))]
            randoms += [a for v in variables if isinstance(v, sp.IndexedBase) for a in body.atoms(sp.Indexed)
                        if a.base == v]
            if not integrable(body, randoms):
                tag = sp.Dummy("nonexistent")
        if tag is None:
            return Expr.__new__(cls, body, Tuple(*variables))
        return Expr.__new__(cls, body, Tuple(*variables), tag)

    @property
    def body(self):
        return self.args[0]

    @property
    def variables(self):
        return tuple(self.args[1])

    @property
    def free_symbols(self):
        bound = {v for v in self.variables if isinstance(v, sp.Symbol)}
        return self.body.free_symbols - bound

    def _latex(self, printer):
        sub = ", ".join(printer._print(v) for v in self.variables)
        return r"\mathbb{E}_{%s}\left[%s\right]" % (sub, printer._print(self.body))

    def _sympystr(self, printer):
        return "E[%s; %s]" % (printer._print(self.body), ", ".join(map(str, self.variables)))

    def _eval_evalf(self, prec):
        if not all(isinstance(v, StandardNormal) for v in self.variables):
            return None
        if self.free_symbols:
            return None
        dps = max(15, mpmath.libmp.prec_to_dps(prec))
        value = _numeric_expectation(self.body, self.variables, dps)
        if value is None:
            return None
        return sp.Float(value, dps)


def _one_dimensional(body, variables):
    r"""Reduce :math:`\mathbb E[f(c\cdot\eta)]` over several standard normals to one:
    when ``body`` (free of other symbols) depends on ``variables`` only through one linear
    form :math:`c\cdot\eta` (read off an ``exp`` argument), :math:`c\cdot\eta\sim
    \mathcal N(0, |c|^2)`. Returns (body, variables), reduced when possible."""
    if len(variables) < 2:
        return body, variables
    body = body.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.expand(e.args[0])))
    for power in body.atoms(sp.exp):
        arg = power.args[0]
        coeffs = []
        try:
            poly = sp.Poly(arg, *variables)
        except sp.PolynomialError:
            continue
        if poly.total_degree() != 1:
            continue
        coeffs = [poly.coeff_monomial(v) for v in variables]
        pivot = next((i for i, c in enumerate(coeffs) if c != 0), None)
        if pivot is None:
            continue
        scale = sp.sqrt(sum(c**2 for c in coeffs))
        xi = StandardNormal("xi")
        others = sum(c * v for i, (c, v) in enumerate(zip(coeffs, variables)) if i != pivot)
        reduced = body.xreplace({variables[pivot]: (scale * xi - others) / coeffs[pivot]})
        reduced = reduced.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.expand(e.args[0])))
        reduced = sp.expand(reduced) if not reduced.has(sp.exp) else reduced
        if not any(reduced.has(v) for v in variables):
            return reduced, (xi,)
    return body, variables


_PROBES = ("-1e8", "-1e4", "-60", "-7.5", "0", "3.25", "60", "1e4", "1e8")


@lru_cache(maxsize=256)
def _integrand(body, x):
    """An mpmath function of ``x`` for ``body`` that stays finite far out in the tails.

    Tried in turn: ``body`` as written, ``cancel(together(body))``, ``simplify(body)``; the
    first that evaluates to a finite number at every probe point (up to ``|x| = 1e8``, where
    the quadrature's nodes go) is used. A form such as ``1/(1 - 1/(1 + e^{-x}))`` divides by
    a rounded zero there, its cancelled form does not."""
    forms = (lambda b: b, lambda b: sp.cancel(sp.together(b)), sp.simplify)
    for form in forms:
        try:
            f = sp.lambdify(x, form(body), modules="mpmath")
            with mpmath.workdps(40):
                if all(mpmath.isfinite(f(mpmath.mpf(t))) for t in _PROBES):
                    return f
        except Exception:
            continue
    return None


@lru_cache(maxsize=256)
def _numeric_expectation(body, variables, dps):
    """mpmath quadrature of ``body`` against standard normal densities (None if impossible).

    Only one-dimensional quadratures are run (after :func:`_one_dimensional`); a
    two-dimensional tanh-sinh quadrature at 30+ digits takes minutes. The polynomial part is
    integrated exactly by the moment rule of :mod:`ml2p_symbolic.expectation`
    (``gaussian_moment``); the rest by :func:`mpmath.quad` over the real line, split at 0, at
    ``dps + 10`` digits."""
    from ..expectation.gaussian import gaussian_moment

    body, variables = _one_dimensional(body, tuple(variables))
    live = [v for v in variables if body.has(v)]
    try:
        if not live:
            return mpmath.nstr(mpmath.mpf(sp.N(body, dps + 10)), dps + 5) if body.is_number else None
        if len(live) > 1:
            return None
        x = live[0]
        if body.is_polynomial(x):
            poly = sp.Poly(sp.expand(body), x)
            exact = sp.Add(*[c * gaussian_moment(m[0]) for m, c in zip(poly.monoms(), poly.coeffs())])
            return mpmath.nstr(mpmath.mpf(sp.N(exact, dps + 10)), dps + 5)
        f = _integrand(body, x)
        if f is None:
            return None
        with mpmath.workdps(dps + 10):
            phi = lambda t: mpmath.exp(-t * t / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
            value = mpmath.quad(lambda t: f(t) * phi(t), [-mpmath.inf, 0, mpmath.inf])
            if not mpmath.isfinite(value) or mpmath.im(value) != 0:
                return None
            return mpmath.nstr(mpmath.re(value), dps + 5)
    except Exception:  # an integrand mpmath cannot evaluate
        return None


class EvalAt(Expr):
    r""":math:`\mathrm{expr}\,\big|_{t_1 = v_1, \ldots}`: substitute after evaluating ``expr``."""

    is_commutative = True

    def __new__(cls, expr, pairs):
        return Expr.__new__(cls, sp.sympify(expr), Tuple(*[Tuple(t, v) for t, v in pairs]))

    @property
    def expr(self):
        return self.args[0]

    @property
    def pairs(self):
        return tuple((p[0], p[1]) for p in self.args[1])

    def _latex(self, printer):
        subs = r" \\ ".join("%s=%s" % (printer._print(t), printer._print(v)) for t, v in self.pairs)
        return r"\left. %s \right|_{\substack{ %s }}" % (printer._print(self.expr), subs)

    def _sympystr(self, printer):
        return "(%s)|_{%s}" % (printer._print(self.expr), ", ".join(f"{t}={v}" for t, v in self.pairs))


class Diff(Expr):
    r""":math:`\frac{\partial^{m}}{\partial x_1^{m_1}\cdots} \mathrm{expr}` with ``variables``
    a sequence of ``(x, m)``."""

    is_commutative = True

    def __new__(cls, expr, variables):
        return Expr.__new__(cls, sp.sympify(expr), Tuple(*[Tuple(x, sp.Integer(m)) for x, m in variables]))

    @property
    def expr(self):
        return self.args[0]

    @property
    def variables(self):
        return tuple((p[0], int(p[1])) for p in self.args[1])

    def _latex(self, printer):
        # the fraction form delimits the body, so a product after it is not swallowed
        order = sum(m for _, m in self.variables)
        num = r"\partial" if order == 1 else r"\partial^{%d}" % order
        den = " ".join(r"\partial %s" % printer._print(x) if m == 1 else r"\partial %s^{%d}" % (printer._print(x), m)
                       for x, m in self.variables)
        body = printer._print(self.expr)
        if not isinstance(self.expr, (sp.Symbol, sp.Indexed)):
            body = r"\left(%s\right)" % body
        return r"\frac{%s %s}{%s}" % (num, body, den)

    def _sympystr(self, printer):
        return "D(%s, %s)" % (printer._print(self.expr), ", ".join(f"({x}, {m})" for x, m in self.variables))


class Approx(sp.Basic):
    r""":math:`a \approx b` as a statement: an approximation with no stated tolerance. It has no
    truth value of its own (the step checker never reports it ``verified``); it prints back as
    written.

    >>> x = sp.Symbol('x')
    >>> sp.latex(Approx(sp.sin(x), x))
    '\\sin{\\left(x \\right)} \\approx x'
    """

    def __new__(cls, lhs, rhs, evaluate=False):
        return sp.Basic.__new__(cls, sp.sympify(lhs), sp.sympify(rhs))

    @property
    def lhs(self):
        return self.args[0]

    @property
    def rhs(self):
        return self.args[1]

    def _latex(self, printer):
        return r"%s \approx %s" % (printer._print(self.lhs), printer._print(self.rhs))

    def _sympystr(self, printer):
        return "%s ≈ %s" % (printer._print(self.lhs), printer._print(self.rhs))
