r"""The inequality prover: certificates for ``lhs <= rhs`` (``<``, ``>=``, ``>``) proposed to the kernel.

For the difference :math:`d` (``rhs - lhs`` of ``lhs <= rhs``), in turn, each within the time left:

1. a sign proof from SymPy's assumptions after a sign-preserving rewriting;
2. the kernel's lemmas (:mod:`.lemmas`): :math:`d = wL + r`, the rest :math:`r` and the lemma's
   hypotheses proved recursively (a few levels deep); summed inequalities termwise (each
   merged summand proved for a symbolic index: every size at once);
3. a sum of squares (:mod:`.sos`), for a polynomial difference;
4. interval boxes (:mod:`.boxes`) for one or two variables with exp, log, sqrt (for the goal
   itself, not for a lemma's rest or hypotheses).

:func:`find_certificate` returns the first certificate the kernel accepts
(:func:`ml2p_symbolic.engine.kernel.accepts`); only :func:`ml2p_symbolic.engine.kernel.verify`
turns it into ``verified``.
"""

from __future__ import annotations

import time

import sympy as sp

from .. import kernel
from ..certificates import Goal, Lemma, SignProof, SumOfSquares
from ..kernel import lemmas as kernel_lemmas
from ..kernel.sos import difference
from .boxes import find_boxes
from .lemmas import matches
from .sos import find_sos

__all__ = ["find_certificate", "inequality_certificates", "SIGN_STEPS", "MAX_DEPTH"]

SIGN_STEPS = ("assumptions", "factor", "cancel(together)", "one fraction, squares kept", "logarithms combined",
              "simplify")
_CHEAP_SIGN_STEPS = ("assumptions", "factor", "cancel(together)", "one fraction, squares kept")
#: the share of the time left that the lemmas may use before sums of squares and boxes
LEMMA_SHARE = 0.5
#: how deep lemmas nest (the rest of a lemma proved by another lemma ...)
MAX_DEPTH = 3


def _left(deadline):
    return deadline - time.monotonic()


def _accepted(goal, cert, deadline, cap=6.0):
    left = _left(deadline)
    if left <= 0.02:
        return False
    return kernel.accepts(goal, cert, limit=min(left, cap))


def _sign(goal, deadline, depth, full=False):
    """A sign proof; below the top (unless ``full``) only the cheap rewritings, each at most a second."""
    for name in SIGN_STEPS if depth == 0 or full else _CHEAP_SIGN_STEPS:
        if _left(deadline) <= 0.02:
            return None
        cert = SignProof((name,))
        if _accepted(goal, cert, deadline, cap=2.0 if depth == 0 else 1.0):
            return cert
    return None


def _sub(goal, expr, rel):
    """The goal ``expr rel 0`` under the goal's assumptions and free indices."""
    return Goal(expr, sp.Integer(0), rel, tuple(goal.assumptions), tuple(goal.indices))


def _termwise(goal, deadline, depth):
    d = difference(goal)
    if goal.relation not in ("<=", ">=") or not d.has(sp.Sum):
        return None
    rest, groups = kernel_lemmas.termwise_parts(d)
    if not groups or not kernel_lemmas._zero(rest):
        rest_cert = None
        if groups and not kernel_lemmas._zero(rest):
            rest_goal = _sub(goal, rest, ">=")
            rest_cert = find_certificate(rest_goal, deadline, depth + 1)
            if rest_cert is None:
                return None
        if not groups:
            return None
    sides = []
    for (lo, hi), body in groups.items():
        side = Goal(body, sp.Integer(0), ">=", tuple(goal.assumptions), tuple(goal.indices))
        cert = find_certificate(side, deadline, depth + 1)
        if cert is None:
            return None
        sides.append((side, cert))
    if not kernel_lemmas._zero(rest):
        sides.append((_sub(goal, rest, ">="), rest_cert))
    return Lemma("termwise", None, tuple(sides))


def _convexity_goal(second):
    return Goal(second, sp.Integer(0), ">=")


def _lemma(goal, deadline, depth):
    d = difference(goal)
    strict = goal.relation in ("<", ">")
    for name, instance, L, hypotheses in matches(d):
        if _left(deadline) <= 0.05:
            return None
        # one candidate's share of the time: a third of what is left (at least a second)
        mine = min(deadline, time.monotonic() + max(1.0, _left(deadline) / 3))
        lemma = _lemma_candidate(goal, d, strict, name, instance, L, hypotheses, mine, depth)
        if lemma is not None and _accepted(goal, lemma, deadline):
            return lemma
    return None


def _lemma_candidate(goal, d, strict, name, instance, L, hypotheses, deadline, depth):
    """The Lemma with its hypotheses and rest proved, or None."""
    sides = []
    for h in hypotheses:
        if h[0] == "convex":
            side = _convexity_goal(h[1])
        else:
            expr, rel = sp.sympify(h[0]), h[1]
            if (expr.is_positive if rel == ">" else expr.is_nonnegative) is True:
                continue
            side = _sub(goal, expr, rel)
        cert = find_certificate(side, deadline, depth + 1)
        if cert is None:
            return None
        sides.append((side, cert))
    w = sp.sympify(instance.get("weight", 1)) if isinstance(instance, dict) else sp.S.One
    r = d - w * L
    if not kernel_lemmas._zero(kernel_lemmas._canonical_sums(r)):
        rest = _sub(goal, r, ">" if strict else ">=")
        cert = find_certificate(rest, deadline, depth + 1)
        if cert is None:
            return None
        sides.append((rest, cert))
    return Lemma(name, instance, tuple(sides))


_TANGENT_POINTS = (0, 1, -1, sp.Rational(1, 2), -sp.Rational(1, 2), 2, -2)


def _tangent(goal, deadline, depth):
    """``d`` convex with a stationary point at a small rational ``c`` where ``d(c) >= 0``."""
    d = difference(goal)
    if goal.relation not in ("<=", ">=") or goal.indices or len(d.free_symbols) != 1:
        return None
    x = next(iter(d.free_symbols))
    if x.is_real is not True:
        return None
    first = sp.diff(d, x)
    for c in _TANGENT_POINTS:
        c = sp.Integer(c) if isinstance(c, int) else c
        if (x.is_positive and c <= 0) or (x.is_nonnegative and c < 0):
            continue
        try:
            if not kernel_lemmas._zero(first.xreplace({x: c})):
                continue
        except Exception:  # SymPy fails at the point: not this one
            continue
        side = Goal(sp.diff(d, x, 2), sp.Integer(0), ">=")
        cert = find_certificate(side, deadline, depth + 1)
        if cert is None:
            return None
        lemma = Lemma("convex above its tangent", {"x": x, "c": c}, ((side, cert),))
        return lemma if _accepted(goal, lemma, deadline) else None
    return None


def _sos(goal, deadline):
    d = difference(goal)
    steps = ()
    if d.has(sp.Sum):
        # explicit finite sums only (an instance); symbolic sizes go to the lemmas
        if goal.indices or any(not (lo.is_Integer and hi.is_Integer)
                               for s in d.atoms(sp.Sum) for _, lo, hi in s.limits):
            return None
        d, steps = d.doit(), ("doit",)
    cert = find_sos(d, strict=goal.relation in ("<", ">"))
    if cert is None:
        return None
    cert = SumOfSquares(cert.monomials, cert.gram, cert.nonnegative, steps)
    return cert if _accepted(goal, cert, deadline) else None


def find_certificate(goal, deadline, depth=0, cheap=False, signs=True):
    """The first certificate for the inequality ``goal`` the kernel accepts before
    ``deadline`` (a :func:`time.monotonic` value), or None. ``cheap``: sign proofs and sums
    of squares only; ``signs=False``: no sign proofs (the caller tried them)."""
    if goal.relation not in ("<=", "<", ">=", ">") or _left(deadline) <= 0.05:
        return None
    d = difference(goal)
    if not isinstance(d, sp.Expr) or d.has(sp.Integral, sp.Derivative):
        return None
    cert = _sign(goal, deadline, depth, full=cheap) if signs else None
    if cert is not None or depth >= MAX_DEPTH:
        return cert
    if not cheap:
        share = time.monotonic() + LEMMA_SHARE * _left(deadline)
        for strategy in (_termwise, _lemma, _tangent):
            try:
                cert = strategy(goal, share, depth)
            except (TypeError, ValueError, AttributeError, NotImplementedError, RecursionError):
                cert = None
            if cert is not None:
                return cert
    try:
        cert = _sos(goal, deadline)
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        cert = None
    if cert is not None or cheap or depth > 0:
        return cert  # boxes only for the goal itself (a lemma's rest or hypothesis: the cheaper ones)
    try:
        cert = find_boxes(goal, deadline, lambda g, dl, cheap=True: find_certificate(g, dl, depth + 1, cheap))
    except (TypeError, ValueError, AttributeError, NotImplementedError, RecursionError):
        cert = None
    if cert is not None and _accepted(goal, cert, deadline, cap=20.0):
        return cert
    return None


def inequality_certificates(goal, deadline=None, budget=8.0):
    """The inequality prover's certificate for ``goal`` as an iterable (empty when none is
    found before ``deadline``, or within ``budget`` seconds without one)."""
    if deadline is None:
        deadline = time.monotonic() + budget
    cert = find_certificate(goal, deadline, signs=False)
    return [cert] if cert is not None else []
