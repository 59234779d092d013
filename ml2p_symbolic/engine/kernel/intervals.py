r"""The kernel's check of interval boxes (:class:`~ml2p_symbolic.engine.certificates.IntervalBoxes`).

For one or two real variables: the certificate's compact box, split by a bisection tree, and on
every leaf a rigorous enclosure of the difference :math:`d` (python-flint ``arb`` balls, every
operation rounded outward) lies in :math:`[0, \infty)` (in :math:`(0, \infty)` for a strict
goal). An enclosure of an undefined value (the logarithm of a ball reaching 0) is not finite
and proves nothing.

Beyond the box (one variable), each :class:`~ml2p_symbolic.engine.certificates.Tail`: the tail
is the image of :math:`t \in [0, \infty)` under :math:`\varphi(t) = c + t` (above, to
:math:`+\infty`), :math:`c - t` (below, to :math:`-\infty`) or :math:`E + (c - E)/(1 + t)` (to
an open finite end :math:`E`), with :math:`c` the box's end. The kernel requires

* :math:`d` continuous on the tail: every power with an exponent that is not a nonnegative
  integer, and every logarithm, has its base (argument) positive at :math:`\varphi(t)` for
  :math:`t \ge 0` by SymPy's assumptions, and :math:`d` is built from ``+``, ``*``, powers,
  ``exp``, ``log`` only;
* the sub-certificate proves the sign of :math:`d'(\varphi(t))` for :math:`t \ge 0` (strict
  for a strict goal proved by a limit);
* moving away from the box :math:`d` grows (then :math:`d \ge d(c)`, whose sign the box's
  leaf at :math:`c` gives), or it falls towards :math:`\lim d` at the domain's end, and that
  limit (SymPy's ``limit``) is :math:`\ge 0` (:math:`> 0`, or reached strictly, for a strict
  goal).

The domain of a variable: its SymPy assumptions (``positive``: :math:`(0, \infty)`,
``nonnegative``: :math:`[0, \infty)`, ...) narrowed by the goal's assumptions of the form
``x > c``, ``x <= c`` with ``c`` a number. A closed finite end must be inside the box.
"""

from __future__ import annotations

import math
from fractions import Fraction

import flint
import sympy as sp

from ..certificates import IntervalBoxes, Tail
from .sos import difference

__all__ = ["check_boxes", "arb_function", "domain", "tail_map", "PRECISION"]

#: bits of the arb balls
PRECISION = 128


class Unsupported(Exception):
    """An expression the interval evaluator does not cover."""


def _arb_number(x):
    if x.is_Rational:
        return flint.arb(flint.fmpq(int(x.p), int(x.q)))
    if x is sp.pi:
        return flint.arb.pi()
    if x is sp.E:
        return flint.arb(1).exp()
    if x.is_Float:
        r = sp.Rational(x)
        return flint.arb(flint.fmpq(int(r.p), int(r.q)))
    raise Unsupported(f"number {x}")


def _even_power(b, k):
    lo, hi = b.abs_lower(), b.abs_upper()
    return (lo ** k).union(hi ** k)


def arb_function(expr, variables):
    """A function of arb balls (one per variable) enclosing ``expr`` over them; raises
    :class:`Unsupported` for what it does not cover."""
    index = {v: k for k, v in enumerate(variables)}

    def build(e):
        if e in index:
            k = index[e]
            return lambda xs: xs[k]
        if e.is_Number or e in (sp.pi, sp.E):
            c = _arb_number(e)
            return lambda xs: c
        if isinstance(e, sp.Add):
            fs = [build(a) for a in e.args]

            def add(xs):
                out = fs[0](xs)
                for f in fs[1:]:
                    out = out + f(xs)
                return out
            return add
        if isinstance(e, sp.Mul):
            fs = [build(a) for a in e.args]

            def mul(xs):
                out = fs[0](xs)
                for f in fs[1:]:
                    out = out * f(xs)
                return out
            return mul
        if isinstance(e, sp.Pow):
            base, ex = build(e.base), e.exp
            if ex.is_Integer:
                k = int(ex)
                if k >= 0 and k % 2 == 0:
                    return lambda xs: _even_power(base(xs), k)
                if k >= 0:
                    return lambda xs: base(xs) ** k
                if k % 2 == 0:
                    return lambda xs: 1 / _even_power(base(xs), -k)
                return lambda xs: 1 / (base(xs) ** (-k))
            if ex == sp.Rational(1, 2):
                return lambda xs: base(xs).sqrt()
            if ex == sp.Rational(-1, 2):
                return lambda xs: 1 / base(xs).sqrt()
            power = build(ex)
            return lambda xs: (power(xs) * base(xs).log()).exp()
        if isinstance(e, sp.exp):
            f = build(e.args[0])
            return lambda xs: f(xs).exp()
        if isinstance(e, sp.log) and len(e.args) == 1:
            f = build(e.args[0])
            return lambda xs: f(xs).log()
        raise Unsupported(type(e).__name__)

    return build(sp.sympify(expr, strict=True))


def _ball(lo, hi):
    """An arb ball containing the rational interval ``[lo, hi]``: its midpoint (itself a ball)
    widened by a radius rounded up."""
    mid = (lo + hi) / 2
    rad = math.nextafter(float((hi - lo) / 2), math.inf)
    if Fraction(rad) < (hi - lo) / 2:  # float rounding (never below the half-width)
        rad = math.nextafter(rad, math.inf)
    return flint.arb(flint.fmpq(mid.numerator, mid.denominator)) + flint.arb(0, rad)


def _frac(x):
    x = sp.nsimplify(x) if not isinstance(x, (int, Fraction)) else x
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int):
        return Fraction(x)
    if not x.is_Rational:
        raise ValueError(f"{x} is not rational")
    return Fraction(int(x.p), int(x.q))


def _flat(assumptions):
    out = []
    for a in assumptions:
        out.extend(_flat(a.args) if isinstance(a, sp.And) else [a])
    return out


def domain(goal, x):
    """(lo, lo_closed, hi, hi_closed): the values of ``x`` the goal covers (see the module
    docstring); ends are SymPy numbers or infinities."""
    lo, lo_closed, hi, hi_closed = -sp.oo, False, sp.oo, False
    if x.is_positive:
        lo, lo_closed = sp.Integer(0), False
    elif x.is_nonnegative:
        lo, lo_closed = sp.Integer(0), True
    if x.is_negative:
        hi, hi_closed = sp.Integer(0), False
    elif x.is_nonpositive:
        hi, hi_closed = sp.Integer(0), True
    for a in _flat(goal.assumptions):
        if not isinstance(a, (sp.StrictGreaterThan, sp.GreaterThan, sp.StrictLessThan, sp.LessThan)):
            continue
        if a.lhs == x and a.rhs.is_Rational:
            rel, val = a, a.rhs
        elif a.rhs == x and a.lhs.is_Rational:
            rel, val = a.reversed, a.lhs
        else:
            continue
        strict = isinstance(rel, (sp.StrictGreaterThan, sp.StrictLessThan))
        if isinstance(rel, (sp.StrictGreaterThan, sp.GreaterThan)):
            if val > lo or (val == lo and strict):
                lo, lo_closed = val, not strict
        elif val < hi or (val == hi and strict):
            hi, hi_closed = val, not strict
    return lo, lo_closed, hi, hi_closed


def tail_map(side, end, c, t):
    """The map of ``t >= 0`` onto the tail beyond ``c`` towards the domain's ``end``."""
    if end in (sp.oo, -sp.oo):
        return c + t if side == "above" else c - t
    return end + (c - end) / (1 + t)


def _continuous(d, x, phi):
    """True when every power with an exponent not a nonnegative integer and every logarithm
    of ``d`` has a positive base at ``x = phi`` (SymPy's assumptions), and ``d`` is built from
    ``+``, ``*``, powers, ``exp``, ``log``."""
    for e in sp.preorder_traversal(d):
        if isinstance(e, (sp.Add, sp.Mul, sp.exp, sp.Symbol)) or e.is_Number or e in (sp.pi, sp.E):
            continue
        if isinstance(e, sp.Pow):
            if e.exp.is_Integer and e.exp >= 0:
                continue
            base = e.base.xreplace({x: phi})
        elif isinstance(e, sp.log):
            base = e.args[0].xreplace({x: phi})
        else:
            return False
        if base.is_positive is not True and sp.cancel(sp.together(base)).is_positive is not True:
            return False
    return True


def _sign_ok(v, strict):
    return bool(v > 0) if strict else bool(v >= 0)


def _leaf_holds(f, grads, box, strict):
    r"""The naive enclosure of ``d`` on ``box``, else the mean-value form
    :math:`d(m) + \sum_i \partial_i d(\mathrm{box}) (x_i - m_i)` (both rigorous; the second
    needs the partial derivatives finite on the box)."""
    balls = [_ball(lo, hi) for lo, hi in box]
    if _sign_ok(f(balls), strict):
        return True
    mids = [(lo + hi) / 2 for lo, hi in box]
    at_mid = f([_ball(m, m) for m in mids])
    spread = sum((g(balls) * _ball(lo - m, hi - m) for g, (lo, hi), m in zip(grads, box, mids)),
                 flint.arb(0))
    return _sign_ok(at_mid + spread, strict)


def _leaves_hold(f, box, tree, strict, count, grads=()):
    if tree is None:
        count[0] += 1
        return _leaf_holds(f, grads, box, strict)
    axis, mid, left, right = tree
    mid = _frac(mid)
    lo, hi = box[axis]
    if not lo < mid < hi:
        return False
    lbox = tuple((lo, mid) if k == axis else b for k, b in enumerate(box))
    rbox = tuple((mid, hi) if k == axis else b for k, b in enumerate(box))
    return (_leaves_hold(f, lbox, left, strict, count, grads)
            and _leaves_hold(f, rbox, right, strict, count, grads))


def check_boxes(goal, cert: IntervalBoxes, check):
    """(ok, why) for the certificate against ``goal``; ``check(goal, certificate)`` re-checks
    a tail's derivative certificate."""
    d = difference(goal)
    if d is None or goal.indices:
        return False, "interval boxes prove an inequality without free indices"
    xs = tuple(cert.variables)
    if not 1 <= len(xs) <= 2 or len(set(xs)) != len(xs) or len(cert.box) != len(xs):
        return False, "interval boxes need one or two variables and a box for each"
    if any(not isinstance(x, sp.Symbol) or x.is_real is not True for x in xs) or d.free_symbols != set(xs):
        return False, "the difference is not a function of the certificate's real variables"
    if cert.tails and len(xs) != 1:
        return False, "tails only for one variable"
    box = tuple((_frac(lo), _frac(hi)) for lo, hi in cert.box)
    if any(not lo < hi for lo, hi in box):
        return False, "an empty box"
    strict = goal.relation in ("<", ">")
    # the box inside the domain; closed ends inside the box, open or infinite ends reached by tails
    sides = {t.side for t in cert.tails}
    for x, (lo, hi) in zip(xs, box):
        a, a_closed, b, b_closed = domain(goal, x)
        if sp.Rational(lo.numerator, lo.denominator) < a or sp.Rational(hi.numerator, hi.denominator) > b:
            return False, f"the box of {x} leaves its domain"
        if sp.Rational(lo.numerator, lo.denominator) > a and "below" not in sides:
            return False, f"the domain of {x} below {lo} is not covered"
        if sp.Rational(hi.numerator, hi.denominator) < b and "above" not in sides:
            return False, f"the domain of {x} above {hi} is not covered"
    try:
        f = arb_function(d, xs)
        grads = [arb_function(sp.diff(d, x), xs) for x in xs]
    except Unsupported as exc:
        return False, f"no interval enclosure for {exc}"
    old = flint.ctx.prec
    flint.ctx.prec = PRECISION
    try:
        count = [0]
        if not _leaves_hold(f, box, cert.tree, strict, count, grads):
            return False, "an enclosure on a box does not have the goal's sign"
    finally:
        flint.ctx.prec = old
    for tail in cert.tails:
        ok, why = _check_tail(goal, d, xs[0], box[0], tail, strict, check)
        if not ok:
            return False, why
    return True, ""


def _check_tail(goal, d, x, span, tail, strict, check):
    if not isinstance(tail, Tail) or tail.side not in ("below", "above") or \
            tail.monotone not in ("increasing", "decreasing"):
        return False, "a malformed tail"
    a, a_closed, b, b_closed = domain(goal, x)
    end = a if tail.side == "below" else b
    closed = a_closed if tail.side == "below" else b_closed
    c = span[0] if tail.side == "below" else span[1]
    c = sp.Rational(c.numerator, c.denominator)
    if closed or c == end:
        return False, "a tail at a closed end (the box must reach it)"
    t = sp.Dummy("t", nonnegative=True)
    phi = tail_map(tail.side, end, c, t)
    if not _continuous(d, x, phi):
        return False, f"the difference is not shown continuous {tail.side} the box"
    # growing away from the box: d' >= 0 above, d' <= 0 below
    away_grows = (tail.monotone == "increasing") == (tail.side == "above")
    by_limit = not away_grows
    if by_limit != bool(tail.limit):
        return False, "a tail falling away from the box needs its limit (and only it)"
    rel = ">=" if tail.monotone == "increasing" else "<="
    if by_limit and strict:
        rel = rel[0]
    from ..certificates import Goal

    dgoal = Goal(sp.diff(d, x).xreplace({x: phi}), sp.Integer(0), rel,
                 tuple(g for g in goal.assumptions if x not in g.free_symbols))
    ok, why = check(dgoal, tail.derivative)
    if not ok:
        return False, f"the derivative's sign {tail.side} the box: {why}"
    if by_limit:
        direction = "+" if tail.side == "below" else "-"
        lim = sp.limit(d, x, end, direction) if end.is_finite else sp.limit(d, x, end)
        if lim.is_nonnegative is not True:
            return False, f"the limit {lim} at {end} is not shown >= 0"
    return True, ""
