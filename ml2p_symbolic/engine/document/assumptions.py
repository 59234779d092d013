r"""The ``%! assume`` conditions that apply to one concrete instance of a step.

An assumption on an indexed family (``u_i \ge 0, u_i \le 1`` with ``i`` a declared index) holds
for every member: in an instance it becomes one condition per value of its free indices (over
the instance's sizes; over ``1..6``, the largest size an instance may take, when the instance
leaves a size open). Only the conditions connected to the step are kept: those sharing a
symbol with the step, then those sharing a symbol with a kept one, and so on. A dropped
condition constrains only symbols the step and the kept conditions do not mention, so dropping
it leaves the step's domain as it is (the document's assumptions are taken to be satisfiable).
An instance where a condition fails (``%! assume n \ge 4`` at ``n = 1``) is no instance of the
step: :class:`~.instances.OutOfRange`, and it is skipped.

The kept conditions restrict both the proofs (:func:`~ml2p_symbolic.engine.identity.check_identity`
uses their bounds) and the counterexamples (each satisfies all of them).
"""

from __future__ import annotations

import itertools

import sympy as sp

from .instances import OutOfRange

__all__ = ["instance_assumptions", "MAX_OPEN_SIZE"]

#: members tried for an index whose size the instance leaves open (the largest ``%! sizes`` value)
MAX_OPEN_SIZE = 6


def instance_assumptions(decls, conc, exprs):
    """The concrete conditions of ``decls.assumptions`` that apply to the concrete ``exprs`` of
    a step, for the instance of the :class:`~.steps.Concretizer` ``conc``."""
    candidates = []
    for a in decls.assumptions:
        free = sorted((s for s in a.free_symbols if decls.index_of_symbol(s) is not None), key=str)
        if not free:
            candidates.append(conc.run(a))
            continue
        ranges = []
        base_env = dict(conc.env)
        for s in free:
            size = decls.index_of_symbol(s).size
            if isinstance(size, sp.Symbol):
                base_env.setdefault(size, MAX_OPEN_SIZE)
                size = base_env[size]
            ranges.append(range(1, int(size) + 1))
        saved, conc.env = conc.env, base_env     # the sizes an index's range is read from
        try:
            for combo in itertools.product(*ranges):
                env = dict(base_env)
                env.update(zip(free, combo))
                candidates.append(conc.run(a, env=env))
        finally:
            conc.env = saved
    symbols = set()
    for e in exprs:
        symbols |= getattr(e, "free_symbols", set())
    if any(c is sp.false for c in candidates):
        # the instance lies outside the assumptions (n >= 4 at n = 1): it is no instance
        raise OutOfRange("an assumption fails at this instance")
    kept = []
    pending = [c for c in candidates if c not in (sp.true, sp.false)]
    changed = True
    while changed:
        changed = False
        for c in list(pending):
            if c.free_symbols & symbols:
                kept.append(c)
                symbols |= c.free_symbols
                pending.remove(c)
                changed = True
    return kept
