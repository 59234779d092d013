r"""Search for a proof of a step's goal for every size: certificates proposed to the kernel.

For the goal of :mod:`.elaborate`, in turn (each within its share of the time):

1. exact rewriting of ``lhs - rhs`` to 0 (the kernel's rewritings by name; Kronecker deltas of
   a derivative in one member evaluated where the index's range is the sum's);
2. sums over the same range merged and compared summand by summand, the bound index a
   symbol (:class:`~ml2p_symbolic.engine.certificates.SummandIdentity`);
3. for each size symbol :math:`n`: induction, the base case :math:`n = 1` and the step
   :math:`D(n+1) - D(n) = 0` with the last terms split off
   (:class:`~ml2p_symbolic.engine.certificates.Induction`);
4. for an inequality: a sign proof from the symbols' assumptions
   (:class:`~ml2p_symbolic.engine.certificates.SignProof`), then the inequality prover
   (:mod:`ml2p_symbolic.engine.prove.inequality`: lemmas, sums termwise, sums of squares,
   interval boxes).

Only :func:`ml2p_symbolic.engine.kernel.verify` decides; this module proposes.
"""

from __future__ import annotations

import itertools
import time

import sympy as sp

from .. import kernel
from ..certificates import Induction, Rewriting, SignProof, SummandIdentity
from ..prove import inequality_certificates
from .decide import PROOF_STEPS, SIGN_STEPS

__all__ = ["prove_goal", "restate_for_step", "candidate_certificates"]

_SUMMAND_STEPS = (("expand",), ("cancel(together)",), ("rewrite(exp)+cancel",), ("simplify",))
_INDUCTION_STEPS = (("expand",), ("doit+simplify",))


def candidate_certificates(goal, deadline=None):
    """The certificates worth proposing for ``goal``, cheapest first (an inequality's last one
    is searched for only when the sign proofs failed, until ``deadline``)."""
    if goal.relation != "=":
        # inequalities (issue 17): after the sign proofs, the inequality prover's certificate
        # (lemmas, termwise sums, sums of squares, interval boxes: engine/prove/inequality.py)
        return itertools.chain([SignProof((name,)) for name in SIGN_STEPS],
                               _LazyInequality(goal, deadline))
    out = [Rewriting((name,)) for name in PROOF_STEPS]
    bounds = _bounds(goal)
    if bounds:  # the assumptions' bounds as substitutions (x >= 0: x = p with p >= 0)
        out[:0] = [Rewriting((name,), bounds) for name in ("structural", "expand", "cancel(together)", "simplify")]
    both = (goal.lhs, goal.rhs)
    has_sums = any(isinstance(e, sp.Basic) and e.has(sp.Sum, sp.Product) for e in both)
    if has_sums:
        # sums as atoms first: cheap, and what a sum's algebra (softmax, a derivative's Kronecker
        # deltas) needs; the general rewritings of a big expression with sums inside take seconds
        cheap = [c for c in out if c.steps[0] in ("structural", "is_zero", "expand")]
        out = (cheap + [Rewriting((name,)) for name in ("sums normalised+cancel", "sums normalised+expand_log")]
               + [c for c in out if c not in cheap])
        out += [SummandIdentity(steps) for steps in _SUMMAND_STEPS]
        out += [Rewriting((name,)) for name in ("sums normalised+simplify", "doit+simplify")]
        sizes = set()
        for e in both:
            for s in e.atoms(sp.Sum, sp.Product):
                for _, lo, hi in s.limits:
                    sizes |= {x for x in hi.free_symbols if x.is_integer and x.is_positive}
        for n in sorted(sizes, key=str):
            for steps in _INDUCTION_STEPS:
                out.append(Induction(n, ("doit+simplify",), steps))
    return out


class _LazyInequality:
    """The inequality prover's certificate, searched for when first iterated."""

    def __init__(self, goal, deadline):
        self.goal, self.deadline = goal, deadline

    def __iter__(self):
        return iter(inequality_certificates(self.goal, self.deadline))


def _bounds(goal):
    """One :class:`~ml2p_symbolic.engine.certificates.Bound` per variable (a symbol or a family
    member) of the goal that an assumption bounds by a number: below if any, else above."""
    from ..certificates import Bound

    if goal.relation != "=":
        return ()
    difference = goal.lhs - goal.rhs
    atoms = difference.free_symbols | difference.atoms(sp.Indexed)
    found = {}
    for side in ("lo", "hi"):
        for cond in goal.assumptions:
            if not isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan, sp.StrictLessThan, sp.LessThan)):
                continue
            strict = isinstance(cond, (sp.StrictGreaterThan, sp.StrictLessThan))
            big, small = ((cond.lhs, cond.rhs) if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan))
                          else (cond.rhs, cond.lhs))
            var, value = (big, small) if side == "lo" else (small, big)
            if var in atoms and value.is_number and value.is_real and var not in found:
                fresh = sp.Dummy(f"{var}_", **({"positive": True} if strict else {"nonnegative": True}))
                found[var] = Bound(var, side, value, strict, fresh)
    return tuple(found.values())


def prove_goal(goal, budget, evidence):
    """The kernel's verdict for ``goal`` from the first accepted certificate within
    ``budget`` seconds, or None; ``evidence`` gets a line saying what was tried."""
    deadline = time.monotonic() + budget
    tried = 0
    for cert in candidate_certificates(goal, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            break
        tried += 1
        try:
            verdict = kernel.verify(goal, cert, limit=min(remaining, 6.0))
        except kernel.KernelRejection:
            continue
        what = "every size and index value" if (goal.indices or _has_sizes(goal)) else "every value"
        return kernel.restate(verdict, detail=f"proved for {what}: {verdict.evidence[-1][len('kernel: '):]}",
                              evidence=tuple(evidence) + verdict.evidence)
    evidence.append(f"for every size: {tried} certificate(s) proposed, none accepted by the kernel")
    return None


def _has_sizes(goal):
    return any(isinstance(e, sp.Basic) and e.has(sp.Sum, sp.Product) for e in (goal.lhs, goal.rhs))


def restate_for_step(proof, evidence):
    """The kernel's verdict for a step without sizes or free indices (proved at its one
    instance, which is the statement)."""
    return kernel.restate(proof, detail=f"proved for every value: {proof.evidence[-1][len('kernel: '):]}",
                          evidence=tuple(evidence) + tuple(proof.evidence))
