r"""The trusted kernel: the only code that makes a verdict ``verified``.

:func:`verify` takes a :class:`~ml2p_symbolic.engine.certificates.Goal` and a certificate
(:mod:`ml2p_symbolic.engine.certificates`), re-checks the certificate against the goal from
scratch, under a time limit, and returns a ``verified``
:class:`~ml2p_symbolic.engine.records.Verdict` with ``sizes == "all"`` and the certificate
attached, or raises :class:`KernelRejection`. Nothing else in the package builds a
``verified`` verdict (a test reads every module to make sure); searches, instance checks,
numeric screens and symmetry shortcuts may only propose certificates or refute.

What a re-check trusts: SymPy's exact rewritings named in :mod:`.rewriting` (each maps an
expression to one equal to it where both are defined), SymPy's assumption system for the
sign of an expression, and the sum transformations of :mod:`.sums`; for inequalities
(:mod:`.sos`, :mod:`.intervals`, :mod:`.lemmas`) also SymPy's ``expand`` of a polynomial
identity, exact rational arithmetic (a Gram matrix's :math:`LDL^{\mathsf T}`), python-flint's
arb ball arithmetic (outward rounding) and SymPy's ``limit`` at the end of an interval. Size symbols and index
symbols are symbols (positive integers, integers), never instances, so a certificate covers
every size and every index value of the goal.

The goal itself must be the statement: a caller that elaborates a document's step into a
goal must do so without choosing sizes or index values (see
:mod:`ml2p_symbolic.engine.document.elaborate`).
"""

from __future__ import annotations

import sympy as sp

from ..certificates import (Bound, Goal, Induction, IntervalBoxes, Lemma, Rewriting, SignProof,
                            SumOfSquares, SummandIdentity, describe)
from ..limits import OutOfTime, time_limit
from ..records import Verdict
from . import intervals, lemmas, rewriting, sos, sums

__all__ = ["verify", "accepts", "restate", "KernelRejection", "RECHECK_LIMIT", "LEMMAS"]

#: seconds a re-check may take before the certificate is rejected
RECHECK_LIMIT = 30.0

#: lemma checkers, by name: ``checker(goal, instance) -> bool`` (side conditions are
#: re-checked by the kernel itself before the checker is consulted)
LEMMAS = {}


class KernelRejection(Exception):
    """The certificate does not prove the goal (or could not be re-checked in time)."""


def verify(goal, certificate, *, method=None, detail="", evidence=(), corrected=None,
           limit=RECHECK_LIMIT) -> Verdict:
    """The ``verified`` verdict of ``goal``, after re-checking ``certificate`` against it.

    Raises :class:`KernelRejection` when the certificate does not prove the goal.

    >>> import sympy as sp
    >>> from ml2p_symbolic.engine.certificates import Goal, Rewriting
    >>> x = sp.Symbol("x", real=True)
    >>> verify(Goal((x + 1)**2, x**2 + 2*x + 1), Rewriting(("expand",))).verdict
    'verified'
    >>> verify(Goal((x + 1)**2, x**2 + 1), Rewriting(("expand",)))
    Traceback (most recent call last):
    ...
    ml2p_symbolic.engine.kernel.KernelRejection: exact rewriting: expand does not reduce lhs - rhs to 0
    """
    if not isinstance(goal, Goal):
        raise KernelRejection(f"not a goal: {type(goal).__name__}")
    backwards = sums.backward_range(goal)
    if backwards is not None:
        raise KernelRejection(f"the bounds of {backwards} may not be integers, or its range may run backwards "
                              "for some size, where SymPy's convention (Karr's) is not the empty sum")
    try:
        with time_limit(limit):
            ok, why = _check(goal, certificate)
    except OutOfTime:
        raise KernelRejection(f"the re-check of the certificate took more than {limit:g} s") from None
    except KernelRejection:
        raise
    except Exception as exc:  # SymPy fails on unusual input: no proof
        raise KernelRejection(f"the re-check failed: {type(exc).__name__}: {exc}") from None
    if not ok:
        raise KernelRejection(why)
    line = describe(certificate)
    return Verdict("verified", method or line, detail=detail or f"proved: {line}",
                   evidence=tuple(evidence) + (f"kernel: {line}",), corrected=corrected,
                   sizes="all", certificate=certificate)


def accepts(goal, certificate, *, limit=RECHECK_LIMIT) -> bool:
    """True when :func:`verify` would accept ``certificate`` for ``goal``."""
    try:
        verify(goal, certificate, limit=limit)
    except KernelRejection:
        return False
    return True


def restate(verdict, **changes) -> Verdict:
    """A ``verified`` verdict with new wording (``method``, ``detail``, ``evidence``,
    ``corrected``): what was proved and how (the certificate, the scope) cannot change."""
    allowed = {"method", "detail", "evidence", "corrected"}
    if set(changes) - allowed:
        raise KernelRejection(f"restate may change only {sorted(allowed)}, not {sorted(set(changes) - allowed)}")
    if verdict.verdict != "verified" or verdict.certificate is None:
        raise KernelRejection("only a verdict the kernel verified can be restated")
    fields = {f: getattr(verdict, f) for f in ("method", "detail", "evidence", "corrected")}
    fields.update(changes)
    return Verdict("verified", fields["method"], detail=fields["detail"], evidence=tuple(fields["evidence"]),
                   corrected=fields["corrected"], sizes="all", certificate=verdict.certificate)


# --------------------------------------------------------------------------- re-checks
def _check(goal, cert):
    if isinstance(cert, Rewriting):
        return _check_rewriting(goal, cert)
    if isinstance(cert, SummandIdentity):
        return _check_summands(goal, cert)
    if isinstance(cert, Induction):
        return _check_induction(goal, cert)
    if isinstance(cert, SignProof):
        return _check_sign(goal, cert)
    if isinstance(cert, Lemma):
        return _check_lemma(goal, cert)
    # inequalities (issue 17): exact SOS, arb interval boxes (kernel/sos.py, kernel/intervals.py)
    if isinstance(cert, SumOfSquares):
        return sos.check_sos(goal, cert)
    if isinstance(cert, IntervalBoxes):
        return intervals.check_boxes(goal, cert, _check)
    return False, f"unknown certificate {type(cert).__name__}"


def _difference(goal):
    if goal.relation != "=":
        raise KernelRejection(f"an equality certificate for a '{goal.relation}' goal")
    return goal.lhs - goal.rhs


def _check_rewriting(goal, cert):
    d = sums.evaluate_kronecker(_difference(goal), goal.indices) if goal.indices else _difference(goal)
    d = _substitute_bounds(d, goal, cert.bounds)
    out = rewriting.rewrite(d, cert.steps)
    return rewriting.is_zero(out), f"{describe(cert)} does not reduce lhs - rhs to 0"


def _check_summands(goal, cert):
    d = sums.evaluate_kronecker(_difference(goal), goal.indices)
    rest, groups = sums.summands(d)
    for (lo, hi), body in groups.items():
        if not rewriting.is_zero(rewriting.rewrite(body, cert.steps)):
            return False, f"the merged summand over {lo}..{hi} does not rewrite to 0"
    return rewriting.is_zero(rewriting.rewrite(rest, cert.steps)), "what is not a sum does not rewrite to 0"


def _is_size(n):
    return isinstance(n, sp.Symbol) and n.is_integer is True and n.is_positive is True


def _check_induction(goal, cert):
    n = cert.variable
    if not _is_size(n):
        return False, f"{n} is not a positive integer symbol"
    if cert.base != 1:
        return False, "induction must start at the smallest size, 1"
    if any(n in (lo.free_symbols | hi.free_symbols) for _, lo, hi in goal.indices):
        return False, f"a free index ranges up to {n}: induction would change its range"
    if any(n in a.free_symbols for a in goal.assumptions):
        return False, f"an assumption mentions {n}"
    d = _difference(goal)
    base = rewriting.rewrite(d.xreplace({n: sp.Integer(cert.base)}), cert.base_steps)
    if not rewriting.is_zero(base):
        return False, f"the base case {n} = {cert.base} does not rewrite to 0"
    m = sp.Dummy("m", integer=True, positive=True)
    d_m = d.xreplace({n: m})
    step = sums.peel_last(d_m.xreplace({m: m + 1}), m) - d_m
    if not rewriting.is_zero(rewriting.rewrite(step, cert.step_steps)):
        return False, "the step D(n + 1) - D(n) does not rewrite to 0"
    return True, ""


def _check_sign(goal, cert):
    if goal.relation not in ("<=", "<", ">=", ">"):
        return False, "a sign proof for an equation"
    d = goal.rhs - goal.lhs if goal.relation in ("<=", "<") else goal.lhs - goal.rhs
    for name in cert.steps:
        d = rewriting.SIGN_REWRITINGS[name](d)
    strict = goal.relation in ("<", ">")
    return (d.is_positive if strict else d.is_nonnegative) is True, "the sign is not proved"


def _check_lemma(goal, cert):
    checker = LEMMAS.get(cert.name)
    if checker is None:
        return False, f"no lemma {cert.name!r} in the kernel"
    for side_goal, side_cert in cert.side_conditions:
        ok, why = _check(side_goal, side_cert)
        if not ok:
            return False, f"side condition of {cert.name}: {why}"
    return bool(checker(goal, cert)), f"lemma {cert.name} does not apply to the goal"


def _min_lemma(goal, cert):
    r""":math:`\min(d, 0) = 0 \Rightarrow d \ge 0` for :math:`d` the goal's difference."""
    if goal.relation not in ("<=", ">=") or len(cert.side_conditions) != 1:
        return False
    side, _ = cert.side_conditions[0]
    d = goal.rhs - goal.lhs if goal.relation == "<=" else goal.lhs - goal.rhs
    return (side.relation == "=" and side.rhs == 0 and side.lhs == sp.Min(d, 0)
            and set(side.assumptions) <= set(goal.assumptions))


LEMMAS["min(d, 0) = 0"] = _min_lemma
LEMMAS.update(lemmas.LEMMA_CHECKERS)  # inequality lemmas (kernel/lemmas.py)


# --------------------------------------------------------------------------- domains
def _flat(assumptions):
    out = []
    for a in assumptions:
        out.extend(_flat(a.args) if isinstance(a, sp.And) else [a])
    return out


def _states_bound(cond, symbol, side, value, strict):
    """True when ``cond`` says ``symbol > value`` (``>=`` when not ``strict``; ``<``,
    ``<=`` for ``side == "hi"``), as a relational between expressions."""
    if isinstance(cond, sp.Contains) and cond.args[0] == symbol and isinstance(cond.args[1], sp.Interval):
        interval = cond.args[1]
        end, is_open = (interval.start, interval.left_open) if side == "lo" else (interval.end, interval.right_open)
        return end.is_finite is True and sp.expand(end - value) == 0 and (is_open or not strict)
    if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)):
        g, is_strict = cond.lhs - cond.rhs, isinstance(cond, sp.StrictGreaterThan)
    elif isinstance(cond, (sp.StrictLessThan, sp.LessThan)):
        g, is_strict = cond.rhs - cond.lhs, isinstance(cond, sp.StrictLessThan)
    else:
        return False
    want = symbol - value if side == "lo" else value - symbol
    return sp.expand(g - want) == 0 and (is_strict or not strict)


def _substitute_bounds(d, goal, bounds):
    """``d`` after the :class:`Bound` substitutions, each justified by an assumption."""
    conds = _flat(goal.assumptions)
    replacements = {}
    for b in bounds:
        if not isinstance(b, Bound) or b.side not in ("lo", "hi"):
            raise KernelRejection("a malformed bound")
        fresh, sym, value = b.fresh, b.symbol, sp.sympify(b.value, strict=True)
        if not isinstance(fresh, sp.Symbol) or fresh in d.free_symbols or sym in value.free_symbols:
            raise KernelRejection(f"the bound substitution of {sym} is not by a fresh symbol")
        if value.is_real is not True:
            raise KernelRejection(f"the bound {value} of {sym} is not real")
        if (fresh.is_positive if b.strict else fresh.is_nonnegative) is not True:
            raise KernelRejection(f"{fresh} does not range over the bound's side")
        if fresh.is_integer and not (sym.is_integer and value.is_integer):
            raise KernelRejection(f"an integer substitution for the non-integer {sym}")
        if not any(_states_bound(c, sym, b.side, value, b.strict) for c in conds):
            raise KernelRejection(f"no assumption bounds {sym} as the substitution needs")
        replacements[sym] = value + fresh if b.side == "lo" else value - fresh
    return d.xreplace(replacements) if replacements else d
