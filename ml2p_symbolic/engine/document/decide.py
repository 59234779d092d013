r"""The decision for one concrete instance of a step: does ``lhs relation rhs`` hold there?

An equation goes to :func:`~ml2p_symbolic.engine.identity.check_identity` (the kernel's
rewritings, the refuter); an inequality to a sign proof (checked by the kernel as a
:class:`~ml2p_symbolic.engine.certificates.SignProof`) and a counterexample search; a
statement with expectations that no rule evaluated to exact rewriting with the expectations
as opaque terms and to :func:`~ml2p_symbolic.engine.refute.refute_expectations`.

The instance's outcome is a :class:`Decision`: ``holds`` (proved at this instance),
``refuted``, or ``open``. It is evidence at this instance only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import sympy as sp

from .. import kernel
from ..certificates import Goal, Lemma, Rewriting, SignProof
from ..identity import check_identity
from ..expectation import integrable
from ..latex_input.nodes import Expect
from ..prove import inequality_certificates
from ..refute import DIGITS, refute_expectations, values_at

__all__ = ["Decision", "decide", "prove_zero", "prove_sign", "pairs"]

# --------------------------------------------------------------------------- deciding
#: the exact rewritings tried for ``lhs - rhs = 0`` (names of the kernel's rewritings)
PROOF_STEPS = ("structural", "is_zero", "expand", "cancel(together)", "rewrite(exp)+cancel", "simplify")
#: the sign-preserving rewritings tried for an inequality
SIGN_STEPS = ("assumptions", "factor", "cancel(together)", "one fraction, squares kept", "logarithms combined",
              "simplify")


def _first_accepted(goal, certificates, budget, cap=4.0):
    """The first of ``certificates`` the kernel accepts for ``goal`` within ``budget``
    seconds in all (each at most ``cap``): its verdict, or None."""
    deadline = time.monotonic() + budget
    for cert in certificates:
        remaining = deadline - time.monotonic()
        if remaining <= 0.02:
            return None
        try:
            return kernel.verify(goal, cert, limit=min(remaining, cap))
        except kernel.KernelRejection:
            continue
    return None


def prove_zero(d, budget, indices=()):
    """The kernel's verdict that ``d = 0`` by the first of :data:`PROOF_STEPS` that reduces
    it to 0 within ``budget`` seconds, or None."""
    goal = Goal(d, sp.Integer(0), "=", (), tuple(indices))
    return _first_accepted(goal, [Rewriting((name,)) for name in PROOF_STEPS], budget)


def prove_sign(d, strict, budget):
    """The kernel's verdict that ``d >= 0`` (``d > 0`` when ``strict``) from SymPy's
    assumptions after one of :data:`SIGN_STEPS`, or None."""
    goal = Goal(d, sp.Integer(0), ">" if strict else ">=")
    return _first_accepted(goal, [SignProof((name,)) for name in SIGN_STEPS], budget)


@dataclass
class Decision:
    """The outcome for one instance: ``verdict`` is ``"holds"`` (proved at this instance; then
    ``proof`` is the kernel's verdict for the instance's goal), ``"refuted"`` or ``"open"``."""

    verdict: str
    method: str
    counterexample: dict | None = None
    values: tuple | None = None
    detail: str = ""
    evidence: list = field(default_factory=list)
    proof: object = None


def _holds(proof, detail=""):
    return Decision("holds", proof.method, detail=detail or proof.detail, evidence=list(proof.evidence), proof=proof)


def decide(lhs, rhs, relation, assumptions, budget):
    """Decide ``lhs relation rhs`` over concrete symbols within about ``budget`` seconds.

    Without expectations left: :func:`~ml2p_symbolic.engine.identity.check_identity` (an
    identity) or a sign proof and a counterexample search (an inequality). With expectations
    that the symbolic rules could not evaluate: exact rewriting (the expectations as opaque
    terms), then :func:`~ml2p_symbolic.engine.refute.refute_expectations`."""
    budget = max(budget, 0.5)
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        return _decide_entries(lhs, rhs, relation, assumptions, budget)
    strict = relation in ("<", ">")
    d = (rhs - lhs) if relation in ("<=", "<") else (lhs - rhs)
    if lhs.has(Expect) or rhs.has(Expect):
        missing = [e for e in lhs.atoms(Expect) | rhs.atoms(Expect) if not integrable(e.body, e.variables)]
        if missing:
            return Decision("open", "undecided", detail=f"the expectation {missing[0]} is not shown to exist "
                            "(its integrand is not bounded by a polynomial times an exponential of a linear form)")
        proof = prove_zero(lhs - rhs, budget / 3) if relation == "=" else prove_sign(d, strict, budget / 3)
        if proof is not None:
            return _holds(proof, "exact rewriting with the expectations as opaque terms")
        found = refute_expectations(lhs, rhs, relation, assumptions, budget / 2)
        if found is not None:
            point, values, detail = found
            return Decision("refuted", "numeric counterexample (expectations by mpmath quadrature)", point, values,
                            detail)
        return Decision("open", "undecided", detail="expectations without a closed form (or not shown to exist); "
                        "no exact proof and no counterexample")
    if relation == "=":
        v = check_identity(lhs, rhs, assumptions=assumptions or None, timeout=max(0.5, budget / 2))
        if v.verdict == "verified":
            return _holds(v)
        return Decision(v.verdict, v.method, v.counterexample, v.values, v.detail, list(v.evidence))
    # inequalities: lhs <= rhs  <=>  d = rhs - lhs >= 0
    proof = prove_sign(d, strict, budget / 3)
    if proof is not None:
        return _holds(proof, f"the difference {'>' if strict else '>='} 0 follows from the symbols' assumptions")
    # inequalities (issue 17): the inequality prover's certificate (lemmas, SOS, interval boxes)
    goal = Goal(lhs, rhs, relation, tuple(assumptions or ()))
    for cert in inequality_certificates(goal, time.monotonic() + budget / 3):
        try:
            return _holds(kernel.verify(goal, cert))
        except kernel.KernelRejection:
            pass
    v = check_identity(sp.Min(d, 0), sp.Integer(0), assumptions=assumptions or None,
                       timeout=max(0.5, budget / 3))
    if v.verdict == "refuted":
        values = values_at(lhs, rhs, v.counterexample)
        return Decision("refuted", "numeric counterexample", v.counterexample, values,
                        f"the inequality fails at the counterexample (lhs and rhs at {DIGITS[0]} and {DIGITS[1]} digits)")
    if v.verdict == "verified" and not strict:
        goal = Goal(lhs, rhs, relation, tuple(assumptions or ()))
        side = (Goal(sp.Min(d, 0), sp.Integer(0), "=", tuple(assumptions or ())), v.certificate)
        try:
            return _holds(kernel.verify(goal, Lemma("min(d, 0) = 0", None, (side,))))
        except kernel.KernelRejection:
            pass
    return Decision("open", "undecided", detail="no sign proof and no counterexample")


def _decide_entries(lhs, rhs, relation, assumptions, budget):
    """``lhs = rhs`` between explicit matrices: every entry proved, or the first refuted one."""
    if not (isinstance(lhs, sp.MatrixBase) and isinstance(rhs, sp.MatrixBase)) or lhs.shape != rhs.shape:
        return Decision("open", "error", detail="the two sides have different shapes in this instance")
    n = lhs.shape[0] * lhs.shape[1]
    methods, opened = [], []
    for r in range(lhs.shape[0]):
        for c in range(lhs.shape[1]):
            dec = decide(lhs[r, c], rhs[r, c], relation, assumptions, max(0.5, budget / n))
            where = f"entry ({r + 1}, {c + 1})"
            if dec.verdict == "refuted":
                dec.detail = f"{where}: {dec.detail}"
                dec.evidence = [f"{where}: refuted"] + list(dec.evidence)
                return dec
            if dec.verdict == "holds":
                methods.append(dec.method)
            else:
                opened.append(where)
    if opened:
        return Decision("open", "undecided", detail=f"{', '.join(opened)} neither proved nor refuted")
    return Decision("holds", ", ".join(sorted(set(methods))),
                    detail=f"every entry of the {lhs.shape[0]} x {lhs.shape[1]} matrices proved")


def pairs(lhs, rhs):
    """(lhs, rhs) entry pairs of two explicit matrices, or the one pair of two scalars."""
    if isinstance(lhs, sp.MatrixBase) and isinstance(rhs, sp.MatrixBase) and lhs.shape == rhs.shape:
        return list(zip(list(lhs), list(rhs)))
    return [(lhs, rhs)]
