r"""The kernel's inequality lemmas, registered in :data:`ml2p_symbolic.engine.kernel.LEMMAS`.

Each lemma states :math:`L \ge 0` (:math:`L > 0` for a strict lemma) for its instance's
parameters, under hypotheses proved by SymPy's assumptions or by the certificate's side
conditions (which the kernel re-checks before a lemma's checker runs). A lemma proves the goal
with difference :math:`d` (``rhs - lhs`` of ``lhs <= rhs``) when

.. math:: d = w L + r

with the weight :math:`w = ` ``instance["weight"]`` (default 1) proved :math:`\ge 0` and the
rest :math:`r` either rewriting to 0 (the kernel's exact rewritings) or proved :math:`\ge 0` by
a side condition ``Goal(r, 0, ">=")``. A strict goal needs a strict lemma and :math:`w > 0`,
or a rest proved :math:`> 0`. Side conditions count only with no more assumptions than the
goal's and its free indices.

The lemmas (``name``: :math:`L`, parameters, hypotheses):

* ``log x <= x - 1``: :math:`x - 1 - \log x`; ``x``; :math:`x > 0`.
* ``sigma(x)(1 - sigma(x)) <= 1/4``: :math:`\tfrac14 - \sigma(x)(1 - \sigma(x))`,
  :math:`\sigma(x) = 1/(1 + e^{-x})`; ``x``; :math:`x` real (it is :math:`(\sigma - \tfrac12)^2`).
* ``log(1 + e^x) >= x``: :math:`\log(1 + e^x) - x` (strict); ``x``; real.
* ``log(1 + e^x) >= 0``: :math:`\log(1 + e^x)` (strict); ``x``; real.
* ``AM-GM``: :math:`\tfrac{a + b}{2} - \sqrt{ab}`; ``a``, ``b``; :math:`a, b \ge 0`.
* ``Cauchy-Schwarz``: :math:`\sum x_k^2 \sum y_k^2 - (\sum x_k y_k)^2` over
  :math:`k = lo..hi`; ``x``, ``y`` (summands in ``k``), ``k``, ``lo``, ``hi``; real summands,
  integer bounds (any size: an empty range gives 0).
* ``Jensen``: for :math:`f` = ``f`` (a ``Lambda`` of one real or positive variable :math:`t`)
  with :math:`f''(t) \ge 0` a side condition (convexity), either
  :math:`\tfrac1n \sum_{k=1}^{n} f(x_k) - f(\tfrac1n \sum_{k=1}^{n} x_k)` (``x``, ``k``,
  ``n`` a positive integer) or :math:`\sum_j w_j f(x_j) - f(\sum_j w_j x_j)` (``points``,
  ``weights`` nonnegative rationals summing to 1); every point in :math:`f`'s domain.
* ``Gibbs``: :math:`\sum_j p_j (\log p_j - \log q_j)`; ``p``, ``q`` (explicit vectors);
  every :math:`p_j, q_j > 0` and :math:`\sum p_j = \sum q_j = 1` (exact rewriting).
* ``convex above its tangent``: :math:`d` itself, a continuous function of one real variable
  ``x`` with :math:`d'' \ge 0` (a side condition), :math:`d'(c) = 0` and :math:`d(c) \ge 0` at
  the rational ``c``.
* ``termwise``: :math:`d` itself: its sums merged over equal ranges
  (:func:`~ml2p_symbolic.engine.kernel.sums.summands`), each merged summand in the kernel's
  bound index :math:`k` proved :math:`\ge 0` by a side condition (for every integer
  :math:`k`, or with the free index :math:`(k, lo, hi)`), and what is not a sum rewriting to 0
  or proved :math:`\ge 0`: the sums' inequality for every size.
"""

from __future__ import annotations

import sympy as sp

from . import rewriting, sums
from .sos import difference

__all__ = ["LEMMA_CHECKERS", "sigma"]

_ZERO_STEPS = (("expand",), ("cancel(together)",), ("doit", "expand"), ("expand", "cancel(together)"))


def sigma(x):
    """The logistic function as the kernel writes it: :math:`1/(1 + e^{-x})`."""
    return 1 / (1 + sp.exp(-x))


def _zero(e):
    """True when one of a few exact rewritings takes ``e`` to 0."""
    if e == 0:
        return True
    for steps in _ZERO_STEPS:
        try:
            if rewriting.is_zero(rewriting.rewrite(e, steps)):
                return True
        except Exception:  # SymPy fails on unusual input: not shown zero
            continue
    return False


def _canonical_sums(e):
    """``e`` with the bound index of every sum renamed to one dummy per range (exact)."""
    names = {}

    def visit(x):
        if not x.args or isinstance(x, sp.Indexed):
            return x
        x = x.func(*[visit(a) for a in x.args])
        if isinstance(x, sp.Sum) and len(x.limits) == 1:
            var, lo, hi = x.limits[0]
            k = names.setdefault((lo, hi), sp.Dummy("k", integer=True))
            return sp.Sum(x.function.xreplace({var: k}), (k, lo, hi))
        return x

    return visit(sp.sympify(e, strict=True))


def _proved(goal, cert, e, strict=False):
    """True when ``e >= 0`` (``> 0``) by SymPy's assumptions or by a side condition of the
    certificate (no assumption beyond the goal's, the goal's free indices)."""
    e = sp.sympify(e, strict=True)
    if (e.is_positive if strict else e.is_nonnegative) is True:
        return True
    rels = (">", "<") if strict else (">=", ">", "<=", "<")
    for side, _ in cert.side_conditions:
        if side.relation not in rels or not set(side.assumptions) <= set(goal.assumptions):
            continue
        if tuple(side.indices) not in ((), tuple(goal.indices)):
            continue
        s = difference(side)
        if s == e or _zero(_canonical_sums(s - e)):
            return True
    return False


def _applies(goal, cert, L, lemma_strict):
    """``d = w L + r`` with ``w >= 0`` and ``r`` zero or proved ``>= 0`` (see the module docstring)."""
    d = difference(goal)
    if d is None:
        return False
    inst = cert.instance if isinstance(cert.instance, dict) else {}
    w = sp.sympify(inst.get("weight", 1), strict=True)
    strict = goal.relation in ("<", ">")
    w_positive = _proved(goal, cert, w, strict=True)
    if not (w_positive or _proved(goal, cert, w)):
        return False
    r = d - w * L
    if _zero(_canonical_sums(r)):
        return not strict or (lemma_strict and w_positive)
    return _proved(goal, cert, r, strict=strict)


def _param(cert, name):
    inst = cert.instance if isinstance(cert.instance, dict) else {}
    if name not in inst:
        raise KeyError(name)
    return sp.sympify(inst[name], strict=True)


def _log(goal, cert):
    x = _param(cert, "x")
    return _proved(goal, cert, x, strict=True) and _applies(goal, cert, x - 1 - sp.log(x), False)


def _sigma(goal, cert):
    x = _param(cert, "x")
    s = sigma(x)
    return x.is_real is True and _applies(goal, cert, sp.Rational(1, 4) - s * (1 - s), False)


def _softplus_x(goal, cert):
    x = _param(cert, "x")
    return x.is_real is True and _applies(goal, cert, sp.log(1 + sp.exp(x)) - x, True)


def _softplus_0(goal, cert):
    x = _param(cert, "x")
    return x.is_real is True and _applies(goal, cert, sp.log(1 + sp.exp(x)), True)


def _am_gm(goal, cert):
    a, b = _param(cert, "a"), _param(cert, "b")
    return (_proved(goal, cert, a) and _proved(goal, cert, b)
            and _applies(goal, cert, (a + b) / 2 - sp.sqrt(a * b), False))


def _bounds(cert):
    k, lo, hi = _param(cert, "k"), _param(cert, "lo"), _param(cert, "hi")
    ok = isinstance(k, sp.Symbol) and k.is_integer is True and lo.is_integer is True and hi.is_integer is True
    return ok and not (lo.has(k) or hi.has(k)), k, lo, hi


def _cauchy_schwarz(goal, cert):
    ok, k, lo, hi = _bounds(cert)
    x, y = _param(cert, "x"), _param(cert, "y")
    if not ok or x.is_real is not True or y.is_real is not True:
        return False
    S = lambda f: sp.Sum(f, (k, lo, hi))  # noqa: E731
    return _applies(goal, cert, S(x ** 2) * S(y ** 2) - S(x * y) ** 2, False)


def _convex(goal, cert, f):
    """``f`` a Lambda of one real (or positive) symbol with ``f'' >= 0`` a side condition."""
    if not isinstance(f, sp.Lambda) or len(f.variables) != 1:
        return None
    t = f.variables[0]
    if not isinstance(t, sp.Symbol) or t.is_real is not True:
        return None
    second = sp.diff(f.expr, t, 2)
    for side, _ in cert.side_conditions:
        if side.relation in (">=", ">") and side.rhs == 0 and not side.assumptions and not side.indices \
                and _zero(side.lhs - second):
            return t
        if side.relation in ("<=", "<") and side.lhs == 0 and not side.assumptions and not side.indices \
                and _zero(side.rhs - second):
            return t
    return None


def _in_domain(t, x):
    """``x`` lies where the convexity of ``f`` in ``t`` was proved."""
    if t.is_positive:
        return x.is_positive is True
    if t.is_nonnegative:
        return x.is_nonnegative is True
    if t.is_negative or t.is_nonpositive:
        return False
    return x.is_real is True


def _jensen(goal, cert):
    inst = cert.instance if isinstance(cert.instance, dict) else {}
    f = inst.get("f")
    t = _convex(goal, cert, f)
    if t is None:
        return False
    if "points" in inst:
        xs = [sp.sympify(x, strict=True) for x in inst["points"]]
        ws = [sp.sympify(w, strict=True) for w in inst["weights"]]
        if len(xs) != len(ws) or not xs or any(not w.is_Rational or w < 0 for w in ws) or sum(ws) != 1:
            return False
        if not all(_in_domain(t, x) for x in xs):
            return False
        L = sp.Add(*[w * f(x) for w, x in zip(ws, xs)]) - f(sp.Add(*[w * x for w, x in zip(ws, xs)]))
        return _applies(goal, cert, L, False)
    k, n, x = _param(cert, "k"), _param(cert, "n"), _param(cert, "x")
    if not (isinstance(k, sp.Symbol) and k.is_integer and n.is_integer and n.is_positive and not n.has(k)):
        return False
    # every x_k in the domain: checked for the summand with k an integer symbol
    if not _in_domain(t, x):
        return False
    S = lambda g: sp.Sum(g, (k, 1, n))  # noqa: E731
    return _applies(goal, cert, S(f(x)) / n - f(S(x) / n), False)


def _gibbs(goal, cert):
    inst = cert.instance if isinstance(cert.instance, dict) else {}
    p = [sp.sympify(v, strict=True) for v in inst.get("p", ())]
    q = [sp.sympify(v, strict=True) for v in inst.get("q", ())]
    if len(p) != len(q) or len(p) < 1:
        return False
    if not all(_proved(goal, cert, v, strict=True) for v in p + q):
        return False
    if not (_zero(sp.Add(*p) - 1) and _zero(sp.Add(*q) - 1)):
        return False
    # the two forms are equal for positive p_j, q_j
    split = sp.Add(*[pj * (sp.log(pj) - sp.log(qj)) for pj, qj in zip(p, q)])
    ratio = sp.Add(*[pj * sp.log(pj / qj) for pj, qj in zip(p, q)])
    return _applies(goal, cert, split, False) or _applies(goal, cert, ratio, False)


def termwise_parts(d):
    r"""(rest, {(lo, hi): summand}) of ``d`` by :func:`~ml2p_symbolic.engine.kernel.sums.summands`,
    a multiple :math:`c\,hi` of a size in the rest moved into the sum over :math:`1..hi` as
    the summand :math:`c` (:math:`\sum_{k=1}^{hi} c = c\,hi` for every integer :math:`hi`)."""
    rest, groups = sums.summands(d)
    groups = dict(groups)
    for (lo, hi), body in list(groups.items()):
        if lo == 1 and isinstance(hi, sp.Symbol) and rest.has(hi):
            c = sp.expand(rest).coeff(hi, 1)
            if c != 0 and not c.has(hi) and not c.has(sums._K):
                groups[(lo, hi)] = body + c
                rest = sp.expand(rest - c * hi)
    return rest, groups


def _termwise(goal, cert):
    if goal.relation not in ("<=", ">="):
        return False
    rest, groups = termwise_parts(difference(goal))
    if not groups:
        return False
    k = sums._K
    for (lo, hi), body in groups.items():
        if (hi - lo + 1).is_nonnegative is not True:
            return False  # Karr's convention: a reversed range negates the sum
        shown = False
        for side, _ in cert.side_conditions:
            if side.relation not in (">=", ">", "<=", "<") or not set(side.assumptions) <= set(goal.assumptions):
                continue
            if tuple(side.indices) not in ((), tuple(goal.indices), tuple(goal.indices) + ((k, lo, hi),)):
                continue
            if _zero(difference(side) - body):
                shown = True
                break
        if not shown:
            return False
    return _zero(rest) or _proved(goal, cert, rest)


def _tangent(goal, cert):
    r"""A convex function lies above its tangent: :math:`d'' \ge 0` on the domain of the one real
    variable :math:`x` (a side condition without assumptions), :math:`d` continuous there (every
    power with an exponent that is not a nonnegative integer and every logarithm has a positive
    base by SymPy's assumptions on :math:`x`), :math:`c` in the domain, :math:`d'(c) = 0` exactly
    and :math:`d(c) \ge 0`; then :math:`d(x) \ge d(c) + d'(c)(x - c) = d(c) \ge 0`."""
    from .intervals import _continuous, domain

    if goal.relation not in ("<=", ">=") or goal.indices:
        return False
    d = difference(goal)
    x, c = _param(cert, "x"), _param(cert, "c")
    if not isinstance(x, sp.Symbol) or x.is_real is not True or d.free_symbols != {x} or not c.is_Rational:
        return False
    lo, lo_closed, hi, hi_closed = domain(type(goal)(x, 0, ">="), x)  # the symbol's own interval
    if not ((lo < c or (lo == c and lo_closed)) and (c < hi or (c == hi and hi_closed))):
        return False
    if not _continuous(d, x, x):
        return False
    second = sp.diff(d, x, 2)
    convex = any(side.relation in (">=", ">") and side.rhs == 0 and not side.assumptions and not side.indices
                 and _zero(side.lhs - second) for side, _ in cert.side_conditions)
    at_c = d.xreplace({x: c})
    return convex and _zero(sp.diff(d, x).xreplace({x: c})) and (_zero(at_c) or at_c.is_nonnegative is True)


#: name -> checker(goal, certificate) -> bool
LEMMA_CHECKERS = {
    "log x <= x - 1": _log,
    "sigma(x)(1 - sigma(x)) <= 1/4": _sigma,
    "log(1 + e^x) >= x": _softplus_x,
    "log(1 + e^x) >= 0": _softplus_0,
    "AM-GM": _am_gm,
    "Cauchy-Schwarz": _cauchy_schwarz,
    "Jensen": _jensen,
    "Gibbs": _gibbs,
    "termwise": _termwise,
    "convex above its tangent": _tangent,
}
