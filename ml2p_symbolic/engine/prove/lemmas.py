r"""Matching the kernel's inequality lemmas (:mod:`ml2p_symbolic.engine.kernel.lemmas`) to a difference.

Each matcher reads the difference :math:`d` (``rhs - lhs`` of ``lhs <= rhs``) and proposes
``(name, instance, L)``: the lemma, its parameters (with the weight :math:`w`) and its
nonnegative expression :math:`L`, so that the rest :math:`r = d - wL` is simpler (0, a square, a
sign SymPy sees). The caller (:mod:`.inequality`) proves the rest and the hypotheses and hands the
:class:`~ml2p_symbolic.engine.certificates.Lemma` to the kernel. Nothing here decides.
"""

from __future__ import annotations

import itertools

import sympy as sp

from ..kernel.lemmas import sigma

__all__ = ["matches"]


def _terms(d):
    return sp.Add.make_args(sp.expand(d, deep=False, mul=True, multinomial=False, power_exp=False,
                                      power_base=False, log=False))


def _log_terms(d):
    for term in _terms(d):
        c, rest = term.as_coeff_Mul()
        if isinstance(rest, sp.log):
            yield c, rest.args[0]


def _logs(d):
    """``log x <= x - 1`` at every ``-w log u`` term (``w > 0``), and at ``x = e^u`` for every
    ``w e^u`` term (``e^u >= 1 + u``)."""
    for c, u in _log_terms(d):
        if c < 0:
            yield "log x <= x - 1", {"x": u, "weight": -c}, u - 1 - sp.log(u), [(u, ">")]
        elif c > 0:  # w log u = -w log(1/u)
            v = 1 / u
            yield "log x <= x - 1", {"x": v, "weight": c}, v - 1 - sp.log(v), [(v, ">")]
    for term in _terms(d):
        c, rest = term.as_coeff_Mul()
        if c > 0 and isinstance(rest, sp.exp):
            yield "log x <= x - 1", {"x": rest, "weight": c}, rest - 1 - sp.log(rest), []


def _softplus(d):
    for c, u in _log_terms(d):
        if c > 0 and isinstance(u, sp.Add) and len(u.args) == 2 and sp.S.One in u.args:
            e = u - 1
            if isinstance(e, sp.exp):
                x = e.args[0]
                yield "log(1 + e^x) >= x", {"x": x, "weight": c}, sp.log(1 + sp.exp(x)) - x, []
                yield "log(1 + e^x) >= 0", {"x": x, "weight": c}, sp.log(1 + sp.exp(x)), []


def _sigmas(d):
    """``sigma(x)(1 - sigma(x)) <= 1/4`` where ``d`` is quadratic in a logistic term."""
    seen = set()
    for e in sp.preorder_traversal(d):
        if isinstance(e, sp.Pow) and e.exp == -1 and isinstance(e.base, sp.Add) and sp.S.One in e.base.args:
            rest = e.base - 1
            if isinstance(rest, sp.exp) and e not in seen:
                seen.add(e)
                x = -rest.args[0]
                S = sp.Dummy("S")
                try:
                    p = sp.Poly(sp.expand(d.xreplace({e: S})), S)
                except sp.PolynomialError:
                    continue
                if p.degree() != 2:
                    continue
                w = p.coeff_monomial(S ** 2)
                s = sigma(x)
                yield ("sigma(x)(1 - sigma(x)) <= 1/4", {"x": x, "weight": w},
                       sp.Rational(1, 4) - s * (1 - s), [(w, ">=")])


def _am_gm(d):
    for term in _terms(d):
        c, rest = term.as_coeff_Mul()
        roots = [f for f in sp.Mul.make_args(rest) if isinstance(f, sp.Pow) and f.exp == sp.Rational(1, 2)]
        if c < 0 and len(roots) == 2 and sp.Mul(*roots) == rest:
            a, b = roots[0].base, roots[1].base
            yield "AM-GM", {"a": a, "b": b, "weight": -c}, (a + b) / 2 - sp.sqrt(a * b), [(a, ">="), (b, ">=")]
        if c < 0 and isinstance(rest, sp.Pow) and rest.exp == sp.Rational(1, 2) and isinstance(rest.base, sp.Mul):
            factors = rest.base.args
            for r in range(1, len(factors)):
                for pick in itertools.combinations(range(len(factors)), r):
                    a = sp.Mul(*[factors[k] for k in pick])
                    b = sp.Mul(*[factors[k] for k in range(len(factors)) if k not in pick])
                    yield ("AM-GM", {"a": a, "b": b, "weight": -c}, (a + b) / 2 - sp.sqrt(a * b),
                           [(a, ">="), (b, ">=")])


def _cauchy_schwarz(d):
    for term in _terms(d):
        c, rest = term.as_coeff_Mul()
        if c < 0 and isinstance(rest, sp.Pow) and rest.exp == 2 and isinstance(rest.base, sp.Sum) \
                and len(rest.base.limits) == 1:
            f = rest.base.function
            k, lo, hi = rest.base.limits[0]
            factors = sp.Mul.make_args(f)
            splits = [(f, sp.S.One)]
            for r in range(1, len(factors)):
                for pick in itertools.combinations(range(len(factors)), r):
                    splits.append((sp.Mul(*[factors[j] for j in pick]),
                                   sp.Mul(*[factors[j] for j in range(len(factors)) if j not in pick])))
            for x, y in splits:
                S = lambda g: sp.Sum(g, (k, lo, hi))  # noqa: E731
                yield ("Cauchy-Schwarz", {"x": x, "y": y, "k": k, "lo": lo, "hi": hi, "weight": -c},
                       S(x ** 2) * S(y ** 2) - S(x * y) ** 2, [])


def _jensen(d):
    """Uniform-weight Jensen at every ``F(mean)`` with ``mean = (1/n) sum_{k=1}^{n} x_k``."""
    for e in sp.preorder_traversal(d):
        if not isinstance(e, (sp.exp, sp.log, sp.Pow)):
            continue
        u = e.args[0] if not isinstance(e, sp.Pow) else e.base
        sums = [a for a in sp.Mul.make_args(u) if isinstance(a, sp.Sum)]
        if len(sums) != 1 or len(sums[0].limits) != 1:
            continue
        s = sums[0]
        k, lo, hi = s.limits[0]
        if lo != 1 or sp.simplify(u * hi - s) != 0:
            continue
        positive = e.has(sp.log) or (isinstance(e, sp.Pow) and not (e.exp.is_Integer and e.exp > 0))
        t = sp.Dummy("t", positive=True) if positive else sp.Dummy("t", real=True)
        F = e.xreplace({u: t})
        for sign in (1, -1):
            f = sp.Lambda(t, sign * F)
            L = sp.Sum(f(s.function), (k, 1, hi)) / hi - f(u)
            yield ("Jensen", {"f": f, "x": s.function, "k": k, "n": hi},
                   L, [("convex", sp.diff(f.expr, t, 2))])


def _jensen_points(d):
    """Jensen with explicit weights at every ``F(w_1 x_1 + ... + w_m x_m)``, the ``w_j``
    nonnegative rationals summing to 1 and ``F`` one of ``exp``, ``log``, a square."""
    for e in sp.preorder_traversal(d):
        if isinstance(e, sp.exp):
            u, kind = e.args[0], "real"
        elif isinstance(e, sp.log):
            u, kind = e.args[0], "positive"
        elif isinstance(e, sp.Pow) and e.exp == 2:
            u, kind = e.base, "real"
        else:
            continue
        if not isinstance(u, sp.Add):
            continue
        weights, points = [], []
        for term in u.args:
            w, x = term.as_coeff_Mul()
            if not w.is_Rational or w <= 0 or x.is_Number:
                break
            weights.append(w)
            points.append(x)
        else:
            if sum(weights) != 1:
                continue
            t = sp.Dummy("t", positive=True) if kind == "positive" else sp.Dummy("t", real=True)
            F = e.func(t) if not isinstance(e, sp.Pow) else t ** 2
            for sign in (1, -1):
                f = sp.Lambda(t, sign * F)
                L = sp.Add(*[w * f(x) for w, x in zip(weights, points)]) - f(u)
                yield ("Jensen", {"f": f, "points": tuple(points), "weights": tuple(weights)},
                       L, [("convex", sp.diff(f.expr, t, 2))])


def _gibbs(d):
    r"""``sum_j p_j log(p_j / q_j)``: log terms grouped by their coefficient ``p_j``."""
    groups = {}
    for term in sp.Add.make_args(d):
        factors = sp.Mul.make_args(term)
        logs = [f for f in factors if isinstance(f, sp.log)]
        if len(logs) != 1:
            return
        coeff = sp.Mul(*[f for f in factors if f is not logs[0]])
        num, p = coeff.as_coeff_Mul()
        if num not in (1, -1):
            return
        if p.could_extract_minus_sign():
            num, p = -num, -p
        groups.setdefault(p, []).append((num, logs[0].args[0]))
    if len(groups) < 2:
        return
    ps, qs = [], []
    for p, items in groups.items():
        ratio = sp.Mul(*[a ** n for n, a in items])  # p / q
        plus = [a for n, a in items if n == 1]
        minus = [a for n, a in items if n == -1]
        if len(plus) == 1 and len(minus) == 1 and plus[0] == p:
            q = minus[0]  # p log p - p log q: q as written
        elif len(plus) == 1 and not minus:
            q = p / plus[0]  # p log(p / q)
        else:
            q = sp.cancel(sp.together(p / ratio))
        ps.append(p)
        qs.append(q)
    hypotheses = [(v, ">") for v in ps + qs]
    for L in (sp.Add(*[p * sp.log(p / q) for p, q in zip(ps, qs)]),
              sp.Add(*[p * (sp.log(p) - sp.log(q)) for p, q in zip(ps, qs)])):  # the kernel's two forms
        yield ("Gibbs", {"p": tuple(ps), "q": tuple(qs)}, L, hypotheses)


MATCHERS = (_softplus, _sigmas, _logs, _am_gm, _cauchy_schwarz, _jensen, _jensen_points, _gibbs)


def matches(d):
    """``(name, instance, L, hypotheses)`` for every lemma that may apply to ``d``;
    hypotheses are ``(expr, ">"|">=")`` to prove, or ``("convex", second_derivative)``."""
    for m in MATCHERS:
        try:
            yield from m(d)
        except (TypeError, ValueError, AttributeError, NotImplementedError, sp.PolynomialError):
            continue
