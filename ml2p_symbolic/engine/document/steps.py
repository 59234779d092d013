r"""The verdict of one step of a document: a proof for every size, or evidence at instances.

A step ``lhs REL rhs`` read from a document (:mod:`ml2p_symbolic.engine.latex_input`) may
contain indexed families, sums over declared ranges, derivatives with respect to defined
quantities, expectations over declared random variables and evaluation bars.
:func:`check_relation` decides it:

1. **For every size** (:mod:`.elaborate`, :mod:`.prove`): the step as a goal with symbolic
   sizes and free indices, and certificates proposed to the kernel (exact rewriting, sums
   merged summand by summand, induction on a size). The kernel's acceptance is the only way
   to ``verified``; a step without sizes or free indices is also proved by the kernel at its
   one instance, which then *is* the statement.
2. **At instances** (:mod:`.instances`, :mod:`.decide`): sizes 1, 2, 3 (``%! sizes``
   chooses) and the free indices' values, each instance decided exactly. A counterexample
   refutes the step; agreement at every instance makes it ``tested``, with the sizes and
   instances covered (a limit reached is said), never ``verified``.
3. **Conditions** (:mod:`.conditions`) for a refuted step: a simple condition under which it
   holds at the instances tried (``conditional``).

The engine knows nothing of any model: the meaning of every name comes from the document.
"""

from __future__ import annotations

import time

import mpmath
import sympy as sp

from ..expectation import reduce_expectations
from ..latex_input.matrix_nodes import Gradient, MatrixEvalAt
from ..latex_input.nodes import Diff, EvalAt, Expect
from ..records import Verdict
from ..refute import DIGITS
from .conditions import candidates, prove_under
from .decide import decide
from .assumptions import instance_assumptions
from .instances import MAX_INSTANCES, Concretizer, OutOfRange, instances, used_definitions
from .prove import prove_goal, restate_for_step
from .elaborate import elaborate

__all__ = ["check_relation", "scope_text"]


def check_relation(lhs, rhs, relation, decls, *, budget=60.0, progress=None):
    """The :class:`~ml2p_symbolic.engine.records.Verdict` of ``lhs relation rhs`` (parse level).

    ``relation`` is ``"="``, ``"<="``, ``"<"``, ``">="`` or ``">"``; ``decls`` the document's
    :class:`~ml2p_symbolic.engine.latex_input.Declarations`; ``budget`` a soft limit in
    seconds (the hard limit is the caller's, see :mod:`.check`).
    """
    if relation in ("!=", "~="):  # \neq and \approx: their meaning lives in .relations
        from .relations import OTHER_RELATIONS

        return OTHER_RELATIONS[relation](lhs, rhs, decls, budget=budget, check=check_relation)
    deadline = time.monotonic() + budget
    evidence = []
    with mpmath.workdps(50):
        # 1. for every size and index value
        goal = _goal(lhs, rhs, relation, decls)
        if goal is not None:
            proof = prove_goal(goal, min(max(budget / 4, 2.0), 12.0), evidence)
            if proof is not None:
                return proof
        else:
            evidence.append("for every size: the step's notation is only checked at instances")
        # 2. instances
        plan = instances([lhs, rhs], decls)
        if not plan.instances:
            return Verdict("open", "no instance", detail="no concrete instance of the step could be formed",
                           evidence=tuple(evidence))
        results = []
        refuting = None
        timed_out = False
        for inst in plan.instances:
            remaining = deadline - time.monotonic()
            if remaining <= 0.2:
                timed_out = True
                break
            try:
                conc = Concretizer(decls, inst)
                lhs_c, rhs_c = conc.run(lhs), conc.run(rhs)
                rules = []
                lhs_c = reduce_expectations(lhs_c, rules)
                rhs_c = reduce_expectations(rhs_c, rules)
                assumptions = instance_assumptions(decls, conc, [lhs_c, rhs_c])
            except OutOfRange:
                continue
            per_budget = min(remaining / 2, max(8.0, budget / 4))
            for description in conc.structures_used:
                if f"matrices: {description}" not in evidence:
                    evidence.append(f"matrices: {description}")
            dec = decide(lhs_c, rhs_c, relation, assumptions, per_budget)
            if rules:
                dec.evidence.append("expectation rules: " + "; ".join(dict.fromkeys(rules)))
            results.append((inst, dec, conc, lhs_c, rhs_c))
            evidence.append(f"{inst.describe()}: {dec.verdict} ({dec.method})")
            if progress:
                progress(inst, dec)
            if dec.verdict == "refuted":
                refuting = (inst, dec, conc, lhs_c, rhs_c)
                break
        notes = []
        for _, _, conc, _, _ in results:
            notes.extend(n for n in conc.matrix_notes if n not in notes)
        checked = [inst for inst, _, _, _, _ in results]
        scope = scope_text(plan, checked, notes)
        sizes = _sizes_field(plan, checked)
        if refuting is not None:
            verdict = _conditional_or_refuted(lhs, rhs, relation, decls, plan, refuting, deadline, evidence,
                                              scope, sizes)
            corrected = _corrected(lhs, goal, relation) if verdict.verdict == "refuted" else None
            return verdict if corrected is None else Verdict(  # not verified: refuted, with a proved correction
                verdict.verdict, verdict.method, verdict.counterexample, verdict.values, verdict.condition,
                corrected, verdict.detail, verdict.evidence, verdict.sizes)
        if timed_out:
            return Verdict("open", "timed out", detail=f"open (timed out): the budget of {budget:g} s ran out "
                           f"after {len(results)} of {len(plan.instances)} instances", evidence=tuple(evidence),
                           sizes=sizes)
        if results and all(dec.verdict == "holds" for _, dec, _, _, _ in results):
            if _is_the_statement(plan, checked):
                # no size, no free index: the one instance is the statement itself
                return restate_for_step(results[0][1].proof, evidence)
            methods = sorted({dec.method for _, dec, _, _, _ in results})
            return Verdict("tested", ", ".join(methods), detail=f"holds {scope}", evidence=tuple(evidence),
                           sizes=sizes)
        return Verdict("open", "undecided", detail=f"neither proved nor refuted {scope}",
                       evidence=tuple(evidence), sizes=sizes)


def _goal(lhs, rhs, relation, decls):
    """The kernel's goal for the step, or None (instances only)."""
    goal = elaborate(lhs, rhs, relation, decls)
    if goal is not None:
        return goal
    both = (lhs, rhs)
    if (relation == "=" and any(e.has(sp.MatrixSymbol) for e in both)
            and not any(e.has(Diff, EvalAt, Expect, Gradient, MatrixEvalAt) for e in both)
            and not any(used_definitions(e, decls) for e in both)):
        from ..certificates import Goal

        return Goal(lhs, rhs, relation)  # symbolic matrix algebra: MatrixSymbols of symbolic size
    return None


def _corrected(lhs, goal, relation):
    """``lhs = c`` with ``c`` the simplified left side, when the kernel proves the left side
    equal to ``c`` for every value (a step without sizes or free indices), else None: the right
    side a refuted equation should have had."""
    if relation != "=" or goal is None or goal.indices or goal.lhs.has(sp.Sum, sp.Product, sp.Indexed, sp.Dummy):
        return None
    try:
        from .. import kernel
        from ..certificates import Goal, Rewriting

        candidate = sp.factor(sp.simplify(goal.lhs))
        if candidate.has(sp.Dummy) or not kernel.accepts(Goal(goal.lhs, candidate), Rewriting(("simplify",)), limit=5.0):
            return None
    except Exception:  # SymPy could not simplify it: no correction offered
        return None
    return sp.Eq(lhs, candidate, evaluate=False)


def _is_the_statement(plan, checked):
    """True when the step has no size and no free index and its one instance was checked
    (then concretizing it chose nothing)."""
    return (not plan.sizes and not plan.truncated and len(plan.instances) == 1 and len(checked) == 1
            and not checked[0].values and not checked[0].sizes)


def _sizes_field(plan, checked):
    """``"all"`` for a step without sizes; else ``{size: [values]}`` over the instances checked."""
    tried = {}
    for inst in checked:
        for s, v in inst.sizes:
            tried.setdefault(str(s), set()).add(v)
    if not plan.sizes:
        return "all"
    return {k: sorted(v) for k, v in sorted(tried.items())}


def scope_text(plan, checked, notes=()):
    """What the instances covered, in words: ``at n = 1, 2, 3; not proved for every n``."""
    matrices_text = ("; with " + "; ".join(notes)) if notes else ""
    if not plan.sizes and not any(inst.values for inst in plan.instances):
        return "(at the declared sizes" + matrices_text + ")" if notes else "(no indices)"
    tried = {}
    for inst in checked:
        for s, v in inst.sizes:
            tried.setdefault(str(s), set()).add(v)
    size_text = " and ".join(f"{s} = {', '.join(map(str, sorted(v)))}" for s, v in sorted(tried.items()))
    frees = sorted({str(s) for inst in checked for s, _ in inst.values})
    text = f"at {size_text}" if size_text else "at the declared index ranges"
    if frees:
        text += (f"; free indices {', '.join(frees)} at one representative per pattern of equal and "
                 "distinct values (the statement is invariant under permutations of index values)"
                 if plan.symmetric else f"; free indices {', '.join(frees)} at every value")
    if plan.truncated or len(checked) < len(plan.instances):
        text += (f"; {len(checked)} of {plan.total} instances checked (the limit is {MAX_INSTANCES} "
                 "instances and the sizes shown)")
    if tried:
        text += "; not proved for every " + ", ".join(sorted(tried))
    elif frees:
        text += "; not proved for every index value"
    return text + matrices_text


def _conditional_or_refuted(lhs, rhs, relation, decls, plan, refuting, deadline, evidence, scope, sizes):
    inst, dec, conc, lhs_c, rhs_c = refuting
    cx = dict(dec.counterexample or {})
    for s, v in inst.sizes:
        cx[s] = sp.Integer(v)
    for s, v in inst.values:
        cx[s] = sp.Integer(v)
    free_syms = lhs_c.free_symbols | rhs_c.free_symbols
    cands = candidates([lhs, rhs], decls, inst, free_syms)
    proved, tried = [], []
    cache = {}
    for cand in cands:
        if time.monotonic() > deadline - 0.5:
            tried.append(f"{cand.text}: not tried (time)")
            continue
        ok, note = prove_under(cand, lhs, rhs, relation, decls, list(plan.instances), deadline, cache)
        tried.append(f"under {cand.text}: {note}")
        if ok:
            proved.append(cand)
    where = f"at {inst.describe()}"
    lv, rv = (dec.values if dec.values else ("?", "?"))
    if proved:
        condition = sp.Or(*[c.condition for c in proved]) if len(proved) > 1 else proved[0].condition
        return Verdict("conditional", "condition search + " + dec.method, counterexample=cx, values=dec.values,
                       condition=condition,
                       detail=(f"holds exactly under {' or '.join(c.text for c in proved)} (each {scope}; an "
                               f"indexed family = 0 means every member); refuted outside {where}: lhs = {lv}, "
                               f"rhs = {rv}"),
                       evidence=tuple(evidence + tried), sizes=sizes)
    return Verdict("refuted", dec.method, counterexample=cx, values=dec.values,
                   detail=(f"counterexample {where} (both sides evaluated at {DIGITS[0]} and {DIGITS[1]} digits): "
                           f"lhs = {lv}, rhs = {rv}"),
                   evidence=tuple(evidence + tried), sizes={str(s): [v] for s, v in inst.sizes} or "all")
