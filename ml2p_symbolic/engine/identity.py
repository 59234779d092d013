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

import time
from typing import Callable

import sympy
from sympy import Dummy, Expr

from . import kernel
from .certificates import Bound, Goal, Rewriting
from .kernel.rewriting import REWRITINGS
from .domain import _as_expression, _domain_of, _Domain, _parse_assumptions, _variables
from .limits import OutOfTime as _OutOfTime, time_limit as _time_limit
from .refute import CONFIRM_DIGITS, _format_point, _search_counterexample
from .records import Verdict
from ..errors import IdentityInputError

__all__ = ["check_identity", "IDENTITY_METHODS", "CONFIRM_DIGITS"]

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


