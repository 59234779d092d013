"""check_identity: prove an identity symbolically, refute it numerically, else say "open".

The checker answers one question about two SymPy expressions: is ``lhs == rhs`` for
every value of the free symbols that their SymPy assumptions (``real=True``,
``positive=True``, ``integer=True``, ...) and the optional extra ``assumptions`` allow?

The logic is asymmetric on purpose:

* ``"verified"`` comes only from exact symbolic rewriting of ``lhs - rhs`` to ``0`` (or from
  SymPy's assumption system answering ``(lhs - rhs).is_zero is True``). No numeric
  agreement, however close and however many points, ever produces ``"verified"``.
* ``"refuted"`` comes only from a concrete point with exact rational coordinates inside the
  domain (Gaussian rationals ``p + q*I`` for symbols not known to be real) at which both
  sides are finite and differ far beyond rounding: the sides are
  evaluated with ``evalf`` at 50 and at 80 significant digits, the two differences must
  agree, and ``|lhs - rhs| > max(1e-40, 1e-25 * max(|lhs|, |rhs|))``.
* ``"open"`` otherwise; :attr:`Verdict.detail` says what was tried.

The work is a time-bounded cascade: cheap exact rewrites first (structural equality, the
assumption system, ``expand``, ``cancel(together(.))``, ``rewrite(exp)`` followed by
``expand_power_exp`` and ``cancel``), then the numeric counterexample search (a false
identity is usually refuted at the first point), then ``simplify``.

Conventions and limits:

* As in SymPy's ``cancel``, a proof holds where both sides are defined: ``(x**2 - 1)/(x - 1)``
  equals ``x + 1`` (the point ``x = 1``, where the left side is ``0/0``, is not compared).
* Principal branches: ``log(-1) = I*pi``. A point where a side is complex separates the
  sides only when no point where both are real does; the verdict's detail says so.
* Floats in the input are SymPy Floats, not decimals: write exact statements with
  ``Rational``.
* The time limit uses ``SIGALRM`` (main thread of a POSIX process; limits nest, an inner one
  handing the interval timer back on exit); elsewhere it is checked between steps only. The
  numeric search uses mpmath's global context, so do not call the checker from several
  threads at once.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import mpmath
import sympy
from sympy import (
    Basic,
    Dummy,
    Expr,
    Float,
    Integer,
    Rational,
    Indexed,
    S,
    Symbol,
    cancel,
    exp,
    expand,
    expand_power_exp,
    lambdify,
    simplify,
    sympify,
    together,
)
from sympy.core.relational import Relational
from sympy.logic.boolalg import And, Boolean, BooleanTrue
from sympy.matrices.expressions.matexpr import MatrixExpr
from sympy.sets.sets import Interval, Set

from . import kernel
from .certificates import Bound, Goal, Rewriting
from .kernel.rewriting import REWRITINGS
from .limits import OutOfTime as _OutOfTime, time_limit as _time_limit
from .records import Verdict
from ..errors import IdentityInputError

__all__ = ["check_identity", "IDENTITY_METHODS"]

#: The values :attr:`Verdict.method` can take for a result of :func:`check_identity`.
IDENTITY_METHODS = (
    "structural",
    "is_zero",
    "expand",
    "cancel(together)",
    "rewrite(exp)+cancel",
    "doit+simplify",
    "simplify",
    "simplify(rewrite(exp))",
    "numeric counterexample",
    "undecided",
)

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


# --------------------------------------------------------------------------- public API


def check_identity(lhs, rhs, *, assumptions=None, timeout=5.0) -> Verdict:
    r"""Decide whether ``lhs == rhs`` on the whole domain of the free symbols.

    The domain is every value allowed by the symbols' own SymPy assumptions
    (``Symbol('s', positive=True)`` ranges over ``s > 0``; a symbol without assumptions
    ranges over the complex numbers), restricted further by ``assumptions``.

    Logic: let `d = lhs - rhs`.

    * **verified** when an exact rewriting shows `d = 0`: ``d == 0`` structurally,
      ``d.is_zero is True``, or ``expand``, ``cancel(together(.))``, ``rewrite(exp)`` +
      ``expand_power_exp`` + ``cancel``, ``simplify`` (after ``doit`` when there are
      unevaluated integrals, sums or derivatives) reaches exactly ``0``. Symbols
      bounded by ``assumptions`` (``x > 0``, ``x >= c``, ``x < c``) are first replaced
      by fresh symbols ranging over exactly that bound (``x -> p`` with ``p``
      positive, ``x -> c + p`` with ``p`` nonnegative, ``x -> c - p``, ...), so that
      SymPy may use it; their range contains the domain, so the proof covers it.
    * **refuted** when a point `\xi` with exact rational coordinates inside the domain
      has `|\mathrm{lhs}(\xi) - \mathrm{rhs}(\xi)| > \max(10^{-40},\,
      10^{-25}\max(|\mathrm{lhs}(\xi)|, |\mathrm{rhs}(\xi)|))` at 50 and at 80 digits,
      with both sides finite. Points where a side is undefined or infinite are skipped.
      Points where both sides are real are preferred; a point where a side is a finite
      complex number (a principal branch, e.g. ``log(-1) = I*pi``) is used only when no
      real-valued one is found, and :attr:`Verdict.detail` says so.
    * **open** otherwise. Numeric agreement never gives "verified".

    Parameters
    ==========

    lhs, rhs : sympy.Expr (or Python int/float/Fraction)
        The two sides. Strings are not accepted: build expressions from symbols.
    assumptions : None, sympy Boolean, iterable of Booleans, or dict, optional
        Extra restrictions of the domain: a relational (``x > 0``), a conjunction
        (``(x > 0) & (y <= 1)``), an iterable of them (``[x > 0, y <= 1]``, all must
        hold), or a dict ``{symbol: sympy.Set}`` (e.g. ``{u: Interval.open(0, 1)}``).
        Counterexamples satisfy every one of them.
    timeout : float, optional
        Seconds allowed for the whole check: the exact rewritings and the numeric search
        share it (the search gets at most half of what the cheap rewritings leave). A hard
        limit, enforced with ``SIGALRM``, when called from the main thread of a POSIX
        process; elsewhere checked between steps only. Past it the verdict is ``open`` with
        method ``"undecided (timed out)"``.

    Returns
    =======

    Verdict
        ``verdict`` is ``"verified"``, ``"refuted"`` or ``"open"``; ``method`` one of
        :data:`IDENTITY_METHODS`; for "refuted", ``counterexample`` maps each free
        symbol (or ``Indexed`` object such as ``a[1, 2]``) to an exact SymPy number (a
        ``Rational``; ``p + q*I`` for a symbol not known to be real) and ``values``
        holds ``(lhs, rhs)`` there as 50-digit decimal strings. ``evidence`` lists every
        step tried.

    Raises
    ======

    IdentityInputError
        (a :class:`ValueError`) when a side is not a SymPy expression (e.g. a string, an
        equation, a matrix) or ``assumptions`` is malformed.

    Examples
    ========

    >>> from sympy import Interval, Rational, exp, log, sqrt, symbols
    >>> from ml2p_symbolic.engine.identity import check_identity
    >>> z = symbols('z', real=True)
    >>> sigma = lambda t: 1 / (1 + exp(-t))
    >>> v = check_identity(1 - sigma(z), sigma(-z))
    >>> v.verdict, v.method
    ('verified', 'cancel(together)')

    A real symbol may be negative, so `\sqrt{x^2} = x` fails:

    >>> x = symbols('x', real=True)
    >>> v = check_identity(sqrt(x**2), x)
    >>> v.verdict, v.counterexample, v.values[0][:10]
    ('refuted', {x: -1}, '1.00000000')

    but it holds under ``x >= 0``:

    >>> check_identity(sqrt(x**2), x, assumptions=[x >= 0]).verdict
    'verified'

    A near miss is refuted at high precision:

    >>> check_identity(x, x + Rational(1, 10**17)).verdict
    'refuted'

    A domain as a dict of sets; here a shift ``u = p`` with ``p`` positive is used:

    >>> u = symbols('u', real=True)
    >>> check_identity(log(u**2), 2*log(u), assumptions={u: Interval.open(0, 1)}).verdict
    'verified'

    See Also
    ========

    sympy.simplify.simplify.simplify, sympy.core.expr.Expr.equals
    """
    lhs = _as_expression(lhs, "lhs")
    rhs = _as_expression(rhs, "rhs")
    conditions = _parse_assumptions(assumptions)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise IdentityInputError(f"timeout must be a positive number of seconds, got {timeout!r}")

    evidence: list[str] = []
    started = time.monotonic()
    deadline = started + float(timeout)
    try:
        with _time_limit(float(timeout)):  # the hard limit over everything below
            return _decide(lhs, rhs, conditions, deadline, evidence)
    except _OutOfTime:
        pass
    evidence.append(f"stopped: the time limit of {float(timeout):g} s was reached")
    return Verdict(
        verdict="open",
        method="undecided (timed out)",
        detail=(f"no decision within the time limit of {float(timeout):g} s; tried: " + "; ".join(evidence)),
        evidence=tuple(evidence),
    )


def _decide(lhs, rhs, conditions, deadline, evidence) -> Verdict:
    """The three stages of :func:`check_identity`, all within ``deadline``."""
    symbols = _variables([lhs, rhs, *conditions])
    domains = {s: _domain_of(s, conditions) for s in symbols}

    difference, substitution_notes, bounds = _strengthened_difference(lhs - rhs, domains)
    evidence.extend(substitution_notes)
    goal = Goal(lhs, rhs, "=", tuple(conditions))

    # 1. cheap exact rewrites
    verdict = _prove(goal, bounds, _cheap_steps(), deadline, evidence)
    if verdict is not None:
        return verdict

    # 2. numeric counterexample search: at most half of what is left
    found = _search_counterexample(
        lhs, rhs, symbols, domains, conditions, evidence,
        budget=max(0.5 * (deadline - time.monotonic()), 0.0),
    )
    if found is not None:
        point, values, complex_valued = found
        detail = (
            f"lhs and rhs differ at {_format_point(point)}: lhs = {values[0]}, "
            f"rhs = {values[1]} (evaluated at {CONFIRM_DIGITS[0]} and {CONFIRM_DIGITS[1]} "
            "digits)"
        )
        if complex_valued:
            detail += (
                "; a side is complex there (principal branches), and no point where both "
                "sides are real was found"
            )
        return Verdict(
            verdict="refuted",
            method="numeric counterexample",
            counterexample=point,
            values=values,
            detail=detail,
            evidence=tuple(evidence),
        )

    # 3. expensive exact rewrites: what is left
    verdict = _prove(goal, bounds, _expensive_steps(difference), deadline, evidence)
    if verdict is not None:
        return verdict

    return Verdict(
        verdict="open",
        method="undecided",
        detail=(
            "no exact rewriting reduced lhs - rhs to 0 and no counterexample was found; "
            "tried: " + "; ".join(evidence)
        ),
        evidence=tuple(evidence),
    )


# --------------------------------------------------------------------------- input checks


def _as_expression(value, name) -> Expr:
    if isinstance(value, str):
        raise IdentityInputError(
            f"{name} must be a SymPy expression, got the string {value!r}; "
            "build it from sympy symbols instead"
        )
    try:
        expr = sympify(value, strict=True)
    except (sympy.SympifyError, TypeError, ValueError) as err:
        raise IdentityInputError(
            f"{name} must be a SymPy expression or a number, got {type(value).__name__}: {err}"
        ) from None
    if not isinstance(expr, Expr) or expr.is_Matrix or isinstance(expr, MatrixExpr):
        raise IdentityInputError(
            f"{name} must be a scalar SymPy expression (sympy.Expr), got "
            f"{type(expr).__name__} {expr!r}; pass the two sides of an equation separately"
        )
    return expr


def _parse_assumptions(assumptions) -> list[Boolean]:
    """Normalise ``assumptions`` to a flat list of SymPy Boolean conditions."""
    if assumptions is None:
        return []
    if isinstance(assumptions, dict):
        conditions = []
        for symbol, region in assumptions.items():
            if not isinstance(symbol, Symbol):
                raise IdentityInputError(
                    f"assumptions dict keys must be sympy Symbols, got {symbol!r}"
                )
            if not isinstance(region, Set):
                raise IdentityInputError(
                    f"assumptions dict values must be sympy Sets (e.g. Interval(0, 1)), got "
                    f"{region!r} for {symbol}"
                )
            conditions.append(sympy.Contains(symbol, region, evaluate=False))
        return _flatten(conditions)
    if isinstance(assumptions, (Basic, bool)):
        items: Iterable = [assumptions]
    else:
        try:
            items = list(assumptions)
        except TypeError:
            raise IdentityInputError(
                "assumptions must be None, a sympy Boolean, an iterable of them, or a dict "
                f"{{symbol: Set}}; got {type(assumptions).__name__}"
            ) from None
    conditions = []
    for item in items:
        if isinstance(item, str):
            raise IdentityInputError(
                f"assumption {item!r} is a string; pass a sympy relational such as x > 0"
            )
        try:
            cond = sympify(item, strict=True)
        except (sympy.SympifyError, TypeError, ValueError):
            raise IdentityInputError(
                f"assumption {item!r} is not a sympy Boolean (expected e.g. x > 0)"
            ) from None
        if not isinstance(cond, Boolean):
            raise IdentityInputError(
                f"assumption {cond!r} is a {type(cond).__name__}, not a condition; "
                "expected a relational such as x > 0 or a logical combination of them"
            )
        conditions.append(cond)
    return _flatten(conditions)


def _variables(objects) -> list:
    """The free variables to sample, in a stable order: symbols, and ``a[i, k]`` for
    Indexed objects (whose base label and indices are then not variables of their own)."""
    found = set()
    for obj in objects:
        indexed = obj.atoms(Indexed)
        stand_ins = {item: Dummy() for item in indexed}
        found |= indexed
        found |= obj.xreplace(stand_ins).free_symbols - set(stand_ins.values())
    return sorted(found, key=lambda v: (str(v), str(v.assumptions0)))


def _flatten(conditions) -> list[Boolean]:
    flat = []
    for cond in conditions:
        if isinstance(cond, And):
            flat.extend(_flatten(cond.args))
        elif isinstance(cond, BooleanTrue):
            continue
        else:
            flat.append(cond)
    return flat


# --------------------------------------------------------------------------- domains


@dataclass
class _Domain:
    """Where one symbol may be sampled: bounds (guides only) and exact membership test."""

    symbol: Symbol
    lo: Any = None  # exact real number or None
    lo_strict: bool = False
    hi: Any = None
    hi_strict: bool = False
    integer: bool = False
    imaginary: bool = False
    complex: bool = False  # may take non-real values: neither known real nor imaginary
    bound_from_assumptions: tuple = ()  # (side, value, strict) bounds given by `assumptions`


def _domain_of(symbol: Symbol, conditions) -> _Domain:
    dom = _Domain(
        symbol,
        integer=bool(symbol.is_integer),
        imaginary=bool(symbol.is_imaginary),
        complex=symbol.is_real is None and not symbol.is_imaginary and symbol.is_integer is None,
    )
    if symbol.is_positive:
        _tighten(dom, "lo", S.Zero, True)
    elif symbol.is_nonnegative:
        _tighten(dom, "lo", S.Zero, False)
    if symbol.is_negative:
        _tighten(dom, "hi", S.Zero, True)
    elif symbol.is_nonpositive:
        _tighten(dom, "hi", S.Zero, False)
    bounds = []
    for cond in conditions:
        for side, value, strict in _bounds_in(cond, symbol):
            _tighten(dom, side, value, strict)
            bounds.append((side, value, strict))
    dom.bound_from_assumptions = tuple(bounds)
    return dom


def _bounds_in(cond, symbol):
    """Bounds ``symbol > c``, ``symbol <= c``, ... stated directly by one condition."""
    if isinstance(cond, sympy.Contains) and cond.args[0] == symbol:
        region = cond.args[1]
        if isinstance(region, Interval):
            out = []
            if region.start.is_finite:
                out.append(("lo", region.start, bool(region.left_open)))
            if region.end.is_finite:
                out.append(("hi", region.end, bool(region.right_open)))
            return out
        return []
    if not isinstance(cond, Relational) or isinstance(cond, (sympy.Ne,)):
        return []
    a, b = cond.lhs, cond.rhs
    if isinstance(cond, sympy.Eq):
        if a == symbol and _is_real_number(b):
            return [("lo", b, False), ("hi", b, False)]
        if b == symbol and _is_real_number(a):
            return [("lo", a, False), ("hi", a, False)]
        return []
    if b == symbol and _is_real_number(a):
        cond = cond.reversed
        a, b = cond.lhs, cond.rhs
    if a != symbol or not _is_real_number(b):
        return []
    if isinstance(cond, sympy.StrictGreaterThan):
        return [("lo", b, True)]
    if isinstance(cond, sympy.GreaterThan):
        return [("lo", b, False)]
    if isinstance(cond, sympy.StrictLessThan):
        return [("hi", b, True)]
    if isinstance(cond, sympy.LessThan):
        return [("hi", b, False)]
    return []


def _is_real_number(value) -> bool:
    return bool(value.is_number and value.is_real and value.is_finite)


def _tighten(dom: _Domain, side: str, value, strict: bool) -> None:
    current = getattr(dom, side)
    if current is None:
        setattr(dom, side, value)
        setattr(dom, side + "_strict", strict)
        return
    tighter = (value > current) if side == "lo" else (value < current)
    if tighter == True:  # noqa: E712  (sympy Boolean)
        setattr(dom, side, value)
        setattr(dom, side + "_strict", strict)
    elif value == current:
        setattr(dom, side + "_strict", strict or getattr(dom, side + "_strict"))


# --------------------------------------------------------------------------- proofs


def _strengthened_difference(difference: Expr, domains) -> tuple[Expr, list[str], list]:
    """Replace symbols bounded by ``assumptions`` with exactly equivalent fresh symbols.

    ``x > c`` becomes ``x = c + p`` with ``p`` positive, ``x >= c`` gives ``p``
    nonnegative, ``x < c`` / ``x <= c`` give ``x = c - p``. The range of the image
    contains every value of ``x`` the domain allows (exactly that range for a lone bound),
    so ``difference == 0`` for all ``p`` implies it for all ``x`` of the domain: a proof
    about the substituted difference is a proof of the identity. Other restrictions on
    ``x`` (an upper bound besides the lower one, ``x != 2``, ...) only shrink the domain.
    """
    replacements = {}
    notes = []
    bounds = []
    for symbol, dom in domains.items():
        if symbol not in difference.free_symbols or not dom.bound_from_assumptions:
            continue
        if dom.imaginary:
            continue
        side, value, strict = _pick_bound(dom)
        # An integer symbol with an integer bound maps onto integer steps exactly; with
        # any other bound the fresh symbol ranges over a superset of the domain, which
        # keeps a proof valid.
        facts = {"positive": True} if strict else {"nonnegative": True}
        if dom.integer and value.is_integer:
            facts["integer"] = True
        fresh = Dummy(f"{symbol}_", **facts)
        image = value + fresh if side == "lo" else value - fresh
        replacements[symbol] = image
        bounds.append(Bound(symbol, side, value, strict, fresh))
        rel = (">" if strict else ">=") if side == "lo" else ("<" if strict else "<=")
        notes.append(f"{symbol} {rel} {value}: substituted {symbol} = {image} with {fresh} "
                     f"{'positive' if strict else 'nonnegative'}")
    if not replacements:
        return difference, notes, bounds
    return difference.xreplace(replacements), notes, bounds


def _pick_bound(dom: _Domain):
    """The bound (from ``assumptions``) to build the substitution from: lower first."""
    for wanted in ("lo", "hi"):
        if getattr(dom, wanted) is not None:
            value = getattr(dom, wanted)
            strict = getattr(dom, wanted + "_strict")
            if any(b[0] == wanted and b[1] == value for b in dom.bound_from_assumptions) or (
                value == 0
            ):
                return wanted, value, strict
    return dom.bound_from_assumptions[0]


def _cheap_steps() -> list[tuple[str, Callable[[Expr], Expr], float]]:
    names = (("structural", 1.0), ("is_zero", 1.0), ("expand", 1.5), ("cancel(together)", 1.5),
             ("rewrite(exp)+cancel", 2.0))
    return [(name, REWRITINGS[name], cap) for name, cap in names]


def _expensive_steps(difference: Expr) -> list[tuple[str, Callable[[Expr], Expr], float]]:
    names = [("simplify", 3.0), ("simplify(rewrite(exp))", 3.0)]
    if difference.has(sympy.Integral, sympy.Sum, sympy.Product, sympy.Derivative, sympy.Subs):
        # evaluate unevaluated integrals, sums, derivatives exactly, then simplify
        names.insert(0, ("doit+simplify", 4.0))
    return [(name, REWRITINGS[name], cap) for name, cap in names]


def _prove(goal, bounds, steps, deadline: float, evidence: list[str]) -> Verdict | None:
    """Propose each rewriting of ``steps`` to the kernel as a certificate for ``goal``; the
    first it accepts gives the verdict (the kernel does the rewriting itself, once)."""
    for name, _, cap in steps:
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            evidence.append(f"{name}: skipped (time budget used up)")
            continue
        limit = min(cap, remaining)
        try:
            verdict = kernel.verify(goal, Rewriting((name,), tuple(bounds)), method=name,
                                    detail=f"exact rewriting ({name}) reduces lhs - rhs to 0 on the whole domain",
                                    evidence=evidence + [f"{name}: lhs - rhs -> 0"], limit=limit)
        except kernel.KernelRejection as exc:
            evidence.append(f"{name}: stopped after {limit:.1f} s" if "took more than" in str(exc)
                            else f"{name}: nonzero residual")
            continue
        evidence.append(f"{name}: lhs - rhs -> 0")
        return verdict
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
