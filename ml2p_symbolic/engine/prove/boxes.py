r"""Interval branch and bound: boxes on which an arb enclosure of the difference has its sign.

For one real variable :math:`x`: the domain (:func:`ml2p_symbolic.engine.kernel.intervals.domain`)
is cut at :math:`c_- < c_+` (tried at :math:`\pm 2, \pm 4, \pm 8` for infinite ends, near an
open finite end at distances :math:`2^{-k}`); beyond them a tail whose derivative's sign is
proved by a sub-certificate (found by ``find``, usually a sign proof after substitution) and
either the end value (growing away from the box) or the limit; on :math:`[c_-, c_+]` bisection
until the kernel's enclosure (naive or mean-value form) has the goal's sign on every leaf.
Two variables: a compact box from the domain only (no tails). The kernel re-checks everything.
"""

from __future__ import annotations

import time
from fractions import Fraction

import flint
import sympy as sp

from ..certificates import Goal, IntervalBoxes, Tail
from ..kernel import intervals as K
from ..kernel.sos import difference

__all__ = ["find_boxes", "MAX_LEAVES"]

#: the most leaves a certificate may have
MAX_LEAVES = 4000
_MIN_WIDTH = Fraction(1, 2 ** 14)


def _frac(x):
    return Fraction(int(x.p), int(x.q))


def _bisect(f, grads, box, strict, deadline, budget):
    """A bisection tree on whose leaves the enclosure has the sign, or False."""
    if time.monotonic() > deadline or budget[0] <= 0:
        return False
    budget[0] -= 1
    if K._leaf_holds(f, grads, box, strict):
        return None
    widths = [hi - lo for lo, hi in box]
    axis = max(range(len(box)), key=lambda k: widths[k])
    if widths[axis] < _MIN_WIDTH:
        return False
    lo, hi = box[axis]
    mid = (lo + hi) / 2
    left = tuple((lo, mid) if k == axis else b for k, b in enumerate(box))
    right = tuple((mid, hi) if k == axis else b for k, b in enumerate(box))
    lt = _bisect(f, grads, left, strict, deadline, budget)
    if lt is False:
        return False
    rt = _bisect(f, grads, right, strict, deadline, budget)
    if rt is False:
        return False
    return (axis, sp.Rational(mid.numerator, mid.denominator), lt, rt)


def _cover(d, xs, box, strict, deadline):
    try:
        f = K.arb_function(d, xs)
        grads = [K.arb_function(sp.diff(d, x), xs) for x in xs]
    except K.Unsupported:
        return False
    old = flint.ctx.prec
    flint.ctx.prec = K.PRECISION
    try:
        return _bisect(f, grads, box, strict, deadline, [MAX_LEAVES])
    finally:
        flint.ctx.prec = old


def _cuts(a, a_closed, b, b_closed):
    """Candidate (lo, hi) boxes, widest last."""
    out = []
    for k in (1, 2, 3, 5):
        lo = a if a_closed else (-sp.Integer(2 ** k) if a == -sp.oo else None)
        hi = b if b_closed else (sp.Integer(2 ** k) if b == sp.oo else None)
        if lo is None:
            lo = a + (min(b, a + 2) - a) / sp.Integer(2 ** (2 * k)) if b != sp.oo else a + sp.Rational(1, 2 ** (2 * k))
        if hi is None:
            hi = b - (b - max(a, b - 2)) / sp.Integer(2 ** (2 * k)) if a != -sp.oo else b - sp.Rational(1, 2 ** (2 * k))
        if lo < hi:
            out.append((lo, hi))
    return out


def _tail(goal, d, x, side, c, end, strict, find, deadline):
    """A Tail beyond ``c`` with its derivative certificate, or None."""
    t = sp.Dummy("t", nonnegative=True)
    phi = K.tail_map(side, end, c, t)
    if not K._continuous(d, x, phi):
        return None
    deriv = sp.diff(d, x).xreplace({x: phi})
    rest = tuple(g for g in goal.assumptions if x not in g.free_symbols)
    for monotone in ("increasing", "decreasing"):
        away_grows = (monotone == "increasing") == (side == "above")
        rel = ">=" if monotone == "increasing" else "<="
        if not away_grows:
            if strict:
                rel = rel[0]
            try:
                lim = sp.limit(d, x, end, "+" if side == "below" else "-") if end.is_finite else sp.limit(d, x, end)
            except Exception:
                continue
            if lim.is_nonnegative is not True:
                continue
        cert = find(Goal(deriv, sp.Integer(0), rel, rest), deadline, cheap=True)
        if cert is not None:
            return Tail(side, monotone, cert, limit=not away_grows)
    return None


def find_boxes(goal, deadline, find):
    """An :class:`~ml2p_symbolic.engine.certificates.IntervalBoxes` for ``goal`` or None;
    ``find(goal, deadline, cheap=True)`` proposes the tails' derivative certificates."""
    d = difference(goal)
    if d is None or goal.indices:
        return None
    xs = sorted(d.free_symbols, key=str)
    if not 1 <= len(xs) <= 2 or any(x.is_real is not True for x in xs):
        return None
    strict = goal.relation in ("<", ">")
    if len(xs) == 2:
        box = []
        for x in xs:
            a, a_closed, b, b_closed = K.domain(goal, x)
            if not (a_closed and b_closed):
                return None
            box.append((_frac(a), _frac(b)))
        tree = _cover(d, tuple(xs), tuple(box), strict, deadline)
        if tree is False:
            return None
        return IntervalBoxes(tuple(xs), tuple((sp.Rational(lo.numerator, lo.denominator),
                                               sp.Rational(hi.numerator, hi.denominator)) for lo, hi in box), tree)
    x = xs[0]
    a, a_closed, b, b_closed = K.domain(goal, x)
    for lo, hi in _cuts(a, a_closed, b, b_closed):
        if time.monotonic() > deadline:
            return None
        tails = []
        ok = True
        for side, c, end, closed in (("below", lo, a, a_closed), ("above", hi, b, b_closed)):
            if closed or c == end:
                continue
            tail = _tail(goal, d, x, side, c, end, strict, find, deadline)
            if tail is None:
                ok = False
                break
            tails.append(tail)
        if not ok:
            continue
        tree = _cover(d, (x,), ((_frac(lo), _frac(hi)),), strict, deadline)
        if tree is False:
            continue
        return IntervalBoxes((x,), ((lo, hi),), tree, tuple(tails))
    return None
