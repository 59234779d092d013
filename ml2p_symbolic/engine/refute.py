r"""The one refuter: a counterexample confirmed at two precisions.

One rule for every counterexample the engine reports: a point with exact rational
coordinates inside the domain where the two sides differ far beyond rounding, evaluated at
the two precisions of :data:`CONFIRM_DIGITS` (50 and 80 digits). :func:`search_counterexample`
serves :func:`~ml2p_symbolic.engine.identity.check_identity` (structured and random points,
a fast mpmath screen, ``evalf`` confirmation); :func:`refute_expectations` serves statements
whose expectations no exact rule evaluated: each expectation is a quadrature
(:func:`mpmath.quad`), so it must first be shown to exist. A refutation never proves
anything; it only shows a point.
"""

from __future__ import annotations

import random
import time

import mpmath
import sympy
from sympy import Expr, Float, Integer, Rational, S, lambdify
from sympy.logic.boolalg import BooleanTrue

import sympy as sp

from .domain import _Domain
from .expectation import integrable
from .latex_input.nodes import Expect
from .limits import OutOfTime, time_limit

_OutOfTime, _time_limit = OutOfTime, time_limit

__all__ = ["DIGITS", "CONFIRM_DIGITS", "search_counterexample", "refute_expectations", "values_at", "format_point"]

#: Digits of the two evaluations that must both confirm a counterexample.
CONFIRM_DIGITS = (50, 80)
#: A counterexample needs |lhs - rhs| > max(ABS_GAP, REL_GAP * max(|lhs|, |rhs|)).
ABS_GAP = mpmath.mpf("1e-40")
REL_GAP = mpmath.mpf("1e-25")
#: Working precision (decimal digits) of the fast screening pass.
SCREEN_DIGITS = 45
#: Seed of the random draws; the search is reproducible.
SEED = 20240611

# Values tried first, one per symbol and point (offset by the symbol's position so that
# neighbouring symbols, e.g. a_ik and a_ki, get different values).
_STRUCTURED = tuple(
    Rational(v)
    for v in ("1/2", "-1", "2", "-3/7", "1", "3", "-5/2", "7/3", "0", "-2", "11/5", "-1/3")
)
_OFFSETS = tuple(Rational(v) for v in ("1/2", "1", "2", "3/7", "3", "5/2", "7/3", "1/3"))
_FRACTIONS = tuple(Rational(v) for v in ("1/2", "1/3", "2/3", "1/7", "6/7", "2/5", "3/4"))
_DENOMINATORS = (1, 2, 3, 7, 10, 16, 97, 1000)
_SCALES = (1, 3, 10, 30)
_RANDOM_POINTS_PER_SCALE = 15
_MAX_CONFIRMATIONS = 6




#: digits of the two evaluations that confirm a counterexample (every refutation)
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




# --------------------------------------------------------------------------- refutation


def _search_counterexample(lhs, rhs, symbols, domains, conditions, evidence, budget):
    """Look for an exact rational point where lhs and rhs differ; see check_identity.

    Each point is screened with a lambdified mpmath evaluation at ``SCREEN_DIGITS``
    digits; a point that looks like a counterexample is confirmed (or not) by ``evalf``
    of the exactly substituted sides at 50 and 80 digits. When the expressions cannot be
    lambdified or the mpmath evaluation errs everywhere (unevaluated objects, undefined
    functions), ``evalf`` is used directly on a few points. The search stops after
    ``budget`` seconds (slow evaluations such as quadratures are interrupted).
    """
    deadline = time.monotonic() + budget
    rng = random.Random(SEED)
    points = list(_candidate_points(symbols, domains, conditions, rng))
    if not points:
        evidence.append("numeric search: no point of the domain could be drawn")
        return None
    screen = _screening_function(symbols, lhs, rhs)
    confirmations = 0
    complex_candidates = []
    evaluated = errors = 0
    out_of_time = False
    for index, point in enumerate(points, start=1):
        if confirmations >= _MAX_CONFIRMATIONS:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            out_of_time = True
            break
        if screen is not None:
            try:
                with _time_limit(remaining):
                    outcome = screen(point)
            except _OutOfTime:
                out_of_time = True
                break
            if outcome == "error":
                errors += 1
                if errors >= 4 and evaluated == 0:
                    screen = None  # mpmath cannot evaluate these expressions: use evalf
                continue
            if outcome == "undefined":
                continue
            evaluated += 1
            if outcome == "same":
                continue
            if outcome == "complex":
                complex_candidates.append(point)
                continue
        confirmations += 1
        try:
            with _time_limit(max(deadline - time.monotonic(), 0.05)):
                confirmed = _confirm(lhs, rhs, point)
        except _OutOfTime:
            out_of_time = True
            break
        if confirmed is None:
            continue
        values, is_complex = confirmed
        if is_complex:
            complex_candidates.append(point)
            continue
        evidence.append(f"numeric search: counterexample at point {index} of {len(points)}")
        return point, values, False
    for point in complex_candidates[:_MAX_CONFIRMATIONS]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            out_of_time = True
            break
        try:
            with _time_limit(remaining):
                confirmed = _confirm(lhs, rhs, point)
        except _OutOfTime:
            out_of_time = True
            break
        if confirmed is not None:
            evidence.append(
                "numeric search: only points where a side is complex-valued differ"
            )
            return point, confirmed[0], True
    stopped = f", stopped after {budget:g} s" if out_of_time else ""
    evidence.append(
        f"numeric search: {len(points)} points drawn, {evaluated} screened with mpmath, "
        f"{confirmations} checked with evalf{stopped}, no counterexample"
    )
    return None


def _candidate_points(symbols, domains, conditions, rng):
    """Structured points first, then seeded random rationals over growing scales."""
    if not symbols:
        yield {}
        return
    count = len(_STRUCTURED)
    for k in range(count):
        point = {s: _structured_value(domains[s], k + i) for i, s in enumerate(symbols)}
        if _in_domain(point, domains, conditions):
            yield point
    for scale in _SCALES:
        for _ in range(_RANDOM_POINTS_PER_SCALE):
            for _attempt in range(20):
                point = {s: _random_value(domains[s], rng, scale) for s in symbols}
                if _in_domain(point, domains, conditions):
                    yield point
                    break
    # symbols not known to be real also range over the complex plane: try x + I*y last
    complex_symbols = [s for s in symbols if domains[s].complex]
    if not complex_symbols:
        return
    for scale in _SCALES[:3]:
        for _ in range(_RANDOM_POINTS_PER_SCALE // 3):
            for _attempt in range(20):
                point = {s: _random_value(domains[s], rng, scale) for s in symbols}
                for s in complex_symbols:
                    point[s] += sympy.I * _random_value(domains[s], rng, scale)
                if _in_domain(point, domains, conditions):
                    yield point
                    break


def _structured_value(dom: _Domain, k: int):
    lo, hi = _rational_bound(dom.lo), _rational_bound(dom.hi)
    if lo is not None and hi is not None:
        choices = list(_FRACTIONS)
        if not dom.lo_strict:
            choices.append(S.Zero)
        if not dom.hi_strict:
            choices.append(S.One)
        value = lo + (hi - lo) * choices[k % len(choices)]
    elif lo is not None:
        value = lo + _OFFSETS[k % len(_OFFSETS)]
    elif hi is not None:
        value = hi - _OFFSETS[k % len(_OFFSETS)]
    else:
        value = _STRUCTURED[k % len(_STRUCTURED)]
    return _finish_value(dom, value)


def _random_value(dom: _Domain, rng: random.Random, scale: int):
    q = rng.choice(_DENOMINATORS)
    magnitude = Rational(rng.randint(1, scale * q), q)
    lo, hi = _rational_bound(dom.lo), _rational_bound(dom.hi)
    if lo is not None and hi is not None:
        m = rng.choice(_DENOMINATORS[1:])
        value = lo + (hi - lo) * Rational(rng.randint(1, m - 1), m)
    elif lo is not None:
        value = lo + magnitude
    elif hi is not None:
        value = hi - magnitude
    else:
        value = magnitude if rng.random() < 0.5 else -magnitude
    return _finish_value(dom, value)


def _finish_value(dom: _Domain, value):
    if dom.integer:
        value = Integer(sympy.floor(value + S.Half))
    if dom.imaginary:
        value = sympy.I * (value if value != 0 else S.One)
    return value


def _rational_bound(bound):
    """A rational close to a (possibly irrational) bound; membership is checked exactly."""
    if bound is None:
        return None
    if bound.is_Rational:
        return bound
    approx = Rational(str(sympy.N(bound, 30)))
    return approx


def _in_domain(point, domains, conditions) -> bool:
    for symbol, value in point.items():
        for fact, holds in symbol.assumptions0.items():
            if getattr(value, f"is_{fact}") is not holds:
                return False
        dom = domains[symbol]
        if dom.lo is not None and not bool(value > dom.lo if dom.lo_strict else value >= dom.lo):
            return False
        if dom.hi is not None and not bool(value < dom.hi if dom.hi_strict else value <= dom.hi):
            return False
    for cond in conditions:
        try:
            truth = cond.xreplace(point)
            if isinstance(truth, sympy.Contains):
                truth = truth.args[1].contains(truth.args[0])
        except Exception:
            return False
        if not isinstance(truth, BooleanTrue):
            return False
    return True


def _screening_function(symbols, lhs, rhs):
    """A fast mpmath pass: point -> "same", "real", "complex", "undefined" or "error"."""
    try:
        fn = lambdify(symbols, [lhs, rhs], modules="mpmath")
    except Exception:
        return None

    def screen(point):
        try:
            with mpmath.workdps(SCREEN_DIGITS):
                args = [_mp_value(point[s]) for s in symbols]
                left, right = (mpmath.mpmathify(v) for v in fn(*args))
                if not (mpmath.isfinite(left) and mpmath.isfinite(right)):
                    return "undefined"
                if not _differs(left, right):
                    return "same"
                real = mpmath.im(left) == 0 and mpmath.im(right) == 0
                return "real" if real else "complex"
        except (ZeroDivisionError, ValueError, OverflowError):
            return "undefined"
        except Exception:
            return "error"

    return screen


def _mp_value(value):
    if value.is_Rational:
        return mpmath.mpf(value.p) / value.q
    return mpmath.mpc(*(mpmath.mpf(str(part)) for part in value.as_real_imag()))


def _differs(left, right) -> bool:
    gap = abs(left - right)
    return gap > max(ABS_GAP, REL_GAP * max(abs(left), abs(right)))


def _confirm(lhs, rhs, point):
    """Evaluate both sides exactly substituted, at 50 and 80 digits; a stable gap confirms."""
    try:
        left_exact = lhs.subs(point)
        right_exact = rhs.subs(point)
        evaluations = []
        for digits in CONFIRM_DIGITS:
            left = left_exact.evalf(digits, strict=True)
            right = right_exact.evalf(digits, strict=True)
            evaluations.append((left, right))
    except Exception:
        return None
    gaps = []
    with mpmath.workdps(2 * CONFIRM_DIGITS[-1]):
        for left, right in evaluations:
            a, b = _as_mp(left), _as_mp(right)
            if a is None or b is None or not (mpmath.isfinite(a) and mpmath.isfinite(b)):
                return None
            if not _differs(a, b):
                return None
            gaps.append(a - b)
        if abs(gaps[0] - gaps[1]) > mpmath.mpf("1e-6") * abs(gaps[1]):
            return None
        a, b = _as_mp(evaluations[-1][0]), _as_mp(evaluations[-1][1])
        is_complex = mpmath.im(a) != 0 or mpmath.im(b) != 0
    values = (_decimal(evaluations[0][0]), _decimal(evaluations[0][1]))
    return values, is_complex


def _decimal(value) -> str:
    """A finite evalf result as a decimal string with CONFIRM_DIGITS[0] significant digits."""
    digits = CONFIRM_DIGITS[0]
    re_part, im_part = value.as_real_imag()
    real = str(Float(re_part, digits)) if re_part != 0 else ""
    if im_part == 0:
        return real or "0"
    imag = str(Float(abs(im_part), digits)) + "*I"
    if not real:
        return ("-" if im_part < 0 else "") + imag
    return f"{real} {'-' if im_part < 0 else '+'} {imag}"


def _as_mp(value):
    """An evalf result as an mpmath number, or None if it is not a finite number."""
    if not isinstance(value, Expr) or not value.is_number or value.has(S.NaN, S.ComplexInfinity):
        return None
    if value.has(sympy.oo, -sympy.oo):
        return None
    try:
        re_part, im_part = value.as_real_imag()
        if not all(isinstance(p, (Float, Integer, sympy.Rational)) for p in (re_part, im_part)):
            return None
        return mpmath.mpc(
            mpmath.mpf(re_part._to_mpmath(mpmath.mp.prec)),
            mpmath.mpf(im_part._to_mpmath(mpmath.mp.prec)),
        )
    except Exception:
        return None


def _format_point(point) -> str:
    return "{" + ", ".join(f"{s} = {v}" for s, v in point.items()) + "}"

search_counterexample, format_point = _search_counterexample, _format_point
