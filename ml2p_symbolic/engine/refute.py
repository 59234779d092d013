r"""Refutation of statements with expectations: a counterexample confirmed at two precisions.

One rule for every counterexample the engine reports: a point with exact rational
coordinates inside the domain where the two sides differ far beyond rounding, evaluated at
the two precisions of :data:`DIGITS` (the same as
:data:`ml2p_symbolic.engine.identity.CONFIRM_DIGITS`, which refutes statements without
expectations). Here each expectation is a quadrature (:func:`mpmath.quad`), so it must first
be shown to exist.
"""

from __future__ import annotations

import random
import time

import mpmath
import sympy as sp

from .expectation import integrable
from .identity import CONFIRM_DIGITS
from .latex_input.nodes import Expect
from .limits import OutOfTime, time_limit

__all__ = ["DIGITS", "refute_expectations", "values_at"]

#: digits of the two evaluations that confirm a counterexample
DIGITS = CONFIRM_DIGITS

_SCREEN_VALUES = tuple(sp.Rational(v) for v in ("1/2", "-1", "2", "-3/7", "1", "3", "-5/2", "7/3", "-2", "11/5"))


def refute_expectations(lhs, rhs, relation, assumptions, budget):
    """A counterexample to ``lhs relation rhs`` whose sides contain expectations, or None.

    Points with exact rational coordinates inside the declared domain (the symbols'
    assumptions and ``assumptions``) are screened at 20 digits (each expectation a
    one-dimensional :func:`mpmath.quad`); a point where the relation clearly fails is
    confirmed at the two precisions of :data:`DIGITS` (both must show the same violation, with
    a gap above ``1e-25`` relative), and both sides are reported at the first. Every
    expectation must be shown to exist first (:func:`~.expectation.integrable`): a quadrature
    of a divergent integral is no evidence.

    Returns ``(point, (lhs, rhs), detail)`` or None."""
    for node in lhs.atoms(Expect) | rhs.atoms(Expect):
        if not integrable(node.body, node.variables):
            return None
    deadline = time.monotonic() + budget
    free = sorted(lhs.free_symbols | rhs.free_symbols, key=str)
    rng = random.Random(20240611)
    points = []
    for n in range(len(_SCREEN_VALUES)):
        points.append({s: _SCREEN_VALUES[(n + i) % len(_SCREEN_VALUES)] for i, s in enumerate(free)})
    for _ in range(20):
        points.append({s: sp.Rational(rng.randint(-60, 60), rng.choice((1, 2, 3, 7, 10))) for s in free})
    tried = 0
    for point in points:
        if time.monotonic() > deadline:
            break
        point = {s: _into_domain(s, v) for s, v in point.items()}
        if not _satisfies(point, assumptions):
            continue
        tried += 1
        try:
            with time_limit(max(0.1, deadline - time.monotonic())):
                screen = _violation(lhs, rhs, relation, point, 20)
                if screen is None:
                    continue
                confirmed = [_violation(lhs, rhs, relation, point, d) for d in DIGITS]
        except OutOfTime:
            break
        if any(c is None for c in confirmed):
            continue
        (l1, r1), (l2, r2) = confirmed
        with mpmath.workdps(80):
            g1, g2 = mpmath.mpf(str(l1 - r1)), mpmath.mpf(str(l2 - r2))
            if abs(g1 - g2) > mpmath.mpf("1e-6") * abs(g2):
                continue
        values = (str(sp.Float(l1, DIGITS[0])), str(sp.Float(r1, DIGITS[0])))
        return point, values, (f"lhs and rhs at {DIGITS[0]} and {DIGITS[1]} digits (expectations by "
                               f"mpmath quadrature); {tried} point(s) screened")
    return None


def _into_domain(sym, value):
    if sym.is_integer:
        value = sp.Integer(max(1, abs(int(value)))) if sym.is_positive else sp.Integer(int(value))
    if sym.is_positive and not value > 0:
        value = abs(value) if value != 0 else sp.Rational(1, 2)
    if sym.is_nonnegative and value < 0:
        value = -value
    if sym.is_negative and not value < 0:
        value = -abs(value) if value != 0 else sp.Rational(-1, 2)
    return value


def _satisfies(point, assumptions):
    for cond in assumptions or ():
        try:
            if cond.xreplace(point) is not sp.true:
                return False
        except Exception:
            return False
    return True


def _violation(lhs, rhs, relation, point, digits):
    """(lhs, rhs) as Floats at ``digits`` when they clearly violate ``relation``, else None."""
    a = sp.N(lhs.xreplace(point), digits)
    b = sp.N(rhs.xreplace(point), digits)
    if not (isinstance(a, sp.Number) and isinstance(b, sp.Number)) or not (a.is_finite and b.is_finite):
        return None
    if not (a.is_real and b.is_real):
        return None
    gap = a - b
    scale = max(abs(a), abs(b), sp.Float("1e-15"))
    if abs(gap) <= sp.Float("1e-25") * scale or abs(gap) <= sp.Float(10) ** (-(digits // 2)):
        return None
    holds = {"=": False, "<=": gap <= 0, "<": gap < 0, ">=": gap >= 0, ">": gap > 0}[relation]
    return None if holds else (a, b)


def values_at(lhs, rhs, point):
    """Both sides at ``point`` as decimal strings at ``DIGITS[0]`` digits (None on failure)."""
    try:
        return (str(sp.N(lhs.subs(point), DIGITS[0])), str(sp.N(rhs.subs(point), DIGITS[0])))
    except Exception:
        return None


