r"""Expectations in a statement: :class:`~ml2p_symbolic.engine.latex_input.nodes.Expect`
nodes replaced by their exact values where a rule applies, innermost first.

Every rule applies only once :func:`~.integrability.integrable` has shown that the
expectation exists; then, in turn: completing the square
(:math:`\mathbb E[p(\eta)e^{\alpha+\beta\eta}] = e^{\alpha+\beta^2/2}\mathbb E[p(\eta+\beta)]`),
Gaussian moments and odd symmetry (:func:`~.gaussian.gaussian_expectation`), and
:math:`\mathbb E f = c/2` when :math:`f(\eta) + f(-\eta) = c`. Linearity splits a sum into
terms first when the whole has no rule.
"""

from __future__ import annotations

import sympy as sp

from ..latex_input.nodes import Expect
from ..limits import OutOfTime, time_limit
from .gaussian import gaussian_expectation, gaussian_moment
from .integrability import integrable

__all__ = ["reduce_expectations"]


def reduce_expectations(expr, steps=None):
    """Replace each :class:`Expect` by its exact value where the symbolic rules find it
    (moments, symmetry; linearity over sums), innermost first. ``steps`` collects the rules."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: reduce_expectations(e, steps))
    if not expr.has(Expect):
        return expr

    def value_of(body, variables):
        variables = [v for v in variables if body.has(v)]
        if not variables:
            return body
        if body.has(sp.log):
            body = sp.expand_log(body, force=False)  # exact: only logs of positive factors split
            variables = [v for v in variables if body.has(v)]
            if not variables:
                return body
        if not integrable(body, variables):
            if steps is not None:
                steps.append("integrability not shown: no rule applied")
            return None
        shifted = _exponential_rule(body, variables)
        if shifted is not None:
            if steps is not None:
                steps.append("E[p(eps) exp(a + b eps)] = exp(a + b^2/2) E[p(eps + b)] (completing the square)")
            return shifted
        res = gaussian_expectation(body, variables)
        if res.value is not None:
            if steps is not None:
                steps.extend(res.steps)
            return res.value
        even = _symmetric_part(body, variables)
        if even is not None:
            if steps is not None:
                steps.append("f(eps) + f(-eps) is constant c: E[f] = c/2 by the symmetry eps -> -eps")
            return even
        return None

    def reduce(node):
        if isinstance(node, Expect):
            body = reduce(node.body)
            variables = node.variables
            whole = value_of(body, variables)
            if whole is not None:
                return whole
            # linearity: constant factors out, term by term
            terms = sp.Add.make_args(sp.expand(body, deep=False, mul=True, power_exp=False, log=False,
                                               multinomial=False, power_base=False))
            values, rest = [], []
            for term in terms:
                const, dep = term.as_independent(*variables, as_Add=False)
                v = value_of(dep, variables)
                if v is None:
                    rest.append((const, dep))
                else:
                    values.append(const * v)
            if not values:
                return Expect(body, variables)
            left = sp.Add(*[c * Expect(d, [v for v in variables if d.has(v)]) for c, d in rest])
            return sp.Add(*values) + left
        if not node.args or isinstance(node, (sp.Symbol, sp.Number)):
            return node
        return node.func(*[reduce(a) for a in node.args])

    return reduce(expr)


def _symmetric_part(body, variables):
    r""":math:`c/2` when :math:`f(\eta) + f(-\eta) = c` is proved free of the noise
    (:math:`\mathcal N(0, I)` is symmetric, so :math:`\mathbb E f = \mathbb E[f(\eta) + f(-\eta)]/2`),
    e.g. :math:`\mathbb E[\sigma(s\varepsilon)] = 1/2`; None otherwise. ``f`` is bounded by
    a polynomial times an exponential of a linear form (checked by the caller with
    :func:`~.integrability.integrable`), so the expectations exist."""
    flipped = body.xreplace({v: -v for v in variables})
    both = flipped + body
    for step in (lambda d: sp.cancel(sp.together(d)),
                 lambda d: sp.cancel(sp.together(sp.expand_power_exp(d.rewrite(sp.exp))))):
        try:
            with time_limit(3.0):
                out = step(both)
        except (OutOfTime, Exception):
            continue
        if not any(out.has(v) for v in variables):
            return out / 2
    return None


def _exponential_rule(body, variables):
    r"""Exact :math:`\mathbb E` of a sum of terms :math:`p(\eta)\,e^{\alpha + \beta\eta}` (``p`` a
    polynomial, :math:`\alpha, \beta` free of :math:`\eta`) over independent standard normals:
    completing the square, :math:`\mathbb E[p(\eta)e^{\alpha+\beta\eta}] =
    e^{\alpha+\beta^2/2}\,\mathbb E[p(\eta+\beta)]`, then Gaussian moments. None when a term
    has another form (or no exponential at all: the moment rule handles polynomials)."""
    if not body.has(sp.exp):
        return None
    expr = sp.expand(body, power_exp=False, log=False, multinomial=True, mul=True, deep=False)
    for eta in variables:
        if not expr.has(eta):
            continue
        total = []
        for term in sp.Add.make_args(expr):
            if not term.has(eta):
                total.append(term)
                continue
            exps, rest = [], []
            for f in sp.Mul.make_args(term):
                if isinstance(f, sp.exp) and f.has(eta):
                    exps.append(f.args[0])
                elif isinstance(f, sp.Pow) and isinstance(f.base, sp.exp) and f.exp.is_Integer and f.has(eta):
                    exps.append(f.base.args[0] * f.exp)
                else:
                    rest.append(f)
            arg = sp.expand(sp.Add(*exps))
            poly_part = sp.Mul(*rest)
            try:
                lin = sp.Poly(arg, eta) if exps else None
            except sp.PolynomialError:
                return None
            if lin is not None and lin.degree() > 1:
                return None
            beta = lin.coeff_monomial(eta) if lin is not None else sp.Integer(0)
            alpha = sp.expand(arg - beta * eta)
            if not poly_part.is_polynomial(eta):
                return None
            shifted = sp.Poly(sp.expand(poly_part.xreplace({eta: eta + beta})), eta)
            moments = sp.Add(*[c * gaussian_moment(m[0]) for m, c in zip(shifted.monoms(), shifted.coeffs())])
            total.append(sp.exp(alpha + beta**2 / 2) * moments)
        expr = sp.expand(sp.Add(*total), power_exp=False, log=False, multinomial=True, mul=True, deep=False)
    return expr
