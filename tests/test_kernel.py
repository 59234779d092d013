"""The trusted kernel: it accepts exactly the certificates that prove their goal, and nothing
else in the package makes a verdict ``verified``."""

from __future__ import annotations

import ast
import pathlib

import pytest
import sympy as sp

from ml2p_symbolic.engine import kernel
from ml2p_symbolic.engine.certificates import (Bound, Goal, Induction, Lemma, Rewriting, SignProof,
                                               SummandIdentity)
from ml2p_symbolic.engine.records import Verdict

x = sp.Symbol("x", real=True)
n = sp.Symbol("n", integer=True, positive=True)
i = sp.Symbol("i", integer=True, positive=True)
a = sp.IndexedBase("a", real=True)

PACKAGE = pathlib.Path(kernel.__file__).resolve().parents[2]


def test_a_rewriting_that_reaches_zero_is_accepted_with_every_size():
    v = kernel.verify(Goal((x + 1) ** 2, x**2 + 2 * x + 1), Rewriting(("expand",)))
    assert v.verdict == "verified" and v.sizes == "all" and v.certificate == Rewriting(("expand",))


@pytest.mark.parametrize("goal, cert", [
    (Goal((x + 1) ** 2, x**2 + 1), Rewriting(("expand",))),                      # false identity
    (Goal(sp.sqrt(x**2), x), Rewriting(("simplify",))),                           # real-domain slip
    (Goal(sp.log(1 + sp.exp(40)), sp.Integer(40)), Rewriting(("simplify",))),     # near miss
    (Goal(x, x), Rewriting(("frobnicate",))),                                     # unknown rewriting
    (Goal(x, x, "<="), Rewriting(("structural",))),                               # wrong kind of goal
    (Goal(x**2, sp.Integer(0), ">"), SignProof(("assumptions",))),                # x^2 > 0 fails at 0
])
def test_a_certificate_that_does_not_prove_its_goal_is_rejected(goal, cert):
    with pytest.raises(kernel.KernelRejection):
        kernel.verify(goal, cert)


def test_a_bound_substitution_needs_its_assumption():
    p = sp.Dummy("p", nonnegative=True)
    cert = Rewriting(("structural",), (Bound(x, "lo", 0, False, p),))
    assert kernel.accepts(Goal(sp.sqrt(x**2), x, "=", (x >= 0,)), cert)
    assert not kernel.accepts(Goal(sp.sqrt(x**2), x), cert)                      # no assumption
    assert not kernel.accepts(Goal(sp.sqrt(x**2), x, "=", (x >= -1,)), cert)     # another bound
    q = sp.Dummy("q", real=True)                                                  # fresh not >= 0
    assert not kernel.accepts(Goal(sp.sqrt(x**2), x, "=", (x >= 0,)),
                              Rewriting(("structural",), (Bound(x, "lo", 0, False, q),)))


def test_induction_proves_closed_forms_for_every_size_and_rejects_ones_true_at_small_sizes():
    geometric = Goal(sp.Sum(2**i, (i, 1, n)), 2 ** (n + 1) - 2)
    cubes = Goal(sp.Sum(i**3, (i, 1, n)), sp.Sum(i, (i, 1, n)) ** 2)
    for goal in (geometric, cubes):
        assert kernel.accepts(goal, Induction(n, ("doit+simplify",), ("doit+simplify",)))
    # 2n^2 - 2n + 2 agrees with the geometric sum at n = 1, 2, 3 only
    trap = Goal(sp.Sum(2**i, (i, 1, n)), 2 * n**2 - 2 * n + 2)
    assert [trap.lhs.subs(n, k).doit() == trap.rhs.subs(n, k) for k in (1, 2, 3, 4)] == [True, True, True, False]
    assert not kernel.accepts(trap, Induction(n, ("doit+simplify",), ("doit+simplify",)))
    assert not kernel.accepts(trap, Rewriting(("doit+simplify",)))
    # an induction on a symbol that is not a size is refused
    assert not kernel.accepts(Goal(sp.Sum(2**i, (i, 1, x)), 2 ** (x + 1) - 2),
                              Induction(x, ("doit+simplify",), ("doit+simplify",)))


def test_summands_are_compared_over_merged_ranges_and_kronecker_deltas_need_the_range():
    k = sp.Symbol("k", integer=True)
    goal = Goal(sp.Sum(a[k] + x, (k, 1, n)), sp.Sum(a[i], (i, 1, n)) + sp.Sum(x, (k, 1, n)))
    assert kernel.accepts(goal, SummandIdentity(("expand",)))
    trap = Goal(sp.Sum((n - 1) * (n - 2) * (n - 3) * a[i], (i, 1, n)), sp.Integer(0))
    assert not kernel.accepts(trap, SummandIdentity(("expand",)))
    derivative = sp.diff(sp.Sum(a[k] ** 2, (k, 1, n)), a[i])
    assert kernel.accepts(Goal(derivative, 2 * a[i], "=", (), ((i, 1, n),)), Rewriting(("structural",)))
    # without the free index's range the delta cannot be evaluated: no proof
    assert not kernel.accepts(Goal(derivative, 2 * a[i]), Rewriting(("structural",)))


def test_the_min_lemma_needs_its_side_condition_for_this_goal():
    d = x**2
    side = Goal(sp.Min(d, 0), sp.Integer(0))
    proof = kernel.verify(side, Rewriting(("is_zero",))) if kernel.accepts(side, Rewriting(("is_zero",))) else None
    if proof is not None:
        good = Lemma("min(d, 0) = 0", None, ((side, proof.certificate),))
        assert kernel.accepts(Goal(x**2, sp.Integer(0), ">="), good)
        assert not kernel.accepts(Goal(x**2, sp.Integer(1), ">="), good)   # another goal


def test_restate_changes_words_only():
    v = kernel.verify(Goal(x + x, 2 * x), Rewriting(("structural",)))
    w = kernel.restate(v, method="m", detail="d")
    assert (w.verdict, w.certificate, w.sizes, w.method) == ("verified", v.certificate, "all", "m")
    with pytest.raises(kernel.KernelRejection):
        kernel.restate(Verdict("open", "none"), detail="d")
    with pytest.raises(kernel.KernelRejection):
        kernel.restate(v, sizes={"n": [1]})


def test_a_verified_record_needs_a_certificate_and_every_size():
    with pytest.raises(ValueError):
        Verdict("verified", "anything")
    with pytest.raises(ValueError):
        Verdict("verified", "anything", sizes={"n": [1, 2, 3]}, certificate=Rewriting(("expand",)))


def _builds_verified(tree, source):
    """Places in a module's AST that construct or copy a 'verified' verdict (a verdict taken
    from a variable counts, unless its line says ``# not verified: <why>``)."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in ("Verdict", "replace", "Decision"):
            continue
        args = list(node.args[:1]) + [kw.value for kw in node.keywords if kw.arg == "verdict"]
        for arg in args:
            if isinstance(arg, ast.Constant) and arg.value == "verified":
                found.append(node.lineno)
            elif not isinstance(arg, ast.Constant) and name == "Verdict" and \
                    "# not verified:" not in lines[node.lineno - 1]:
                found.append(node.lineno)  # a verdict copied from a variable may copy 'verified'
    return found


def test_only_the_kernel_builds_verified():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("engine/kernel/"):
            continue
        source = path.read_text(encoding="utf-8")
        lines = _builds_verified(ast.parse(source), source)
        if lines:
            offenders[rel] = lines
    assert not offenders, f"verified built outside the kernel: {offenders}"


def test_a_sealed_verdict_survives_the_cache_and_a_forged_one_does_not(tmp_path):
    from ml2p_symbolic.engine.document.cache import verdict_from_record as verdict_from_json
    from ml2p_symbolic.engine.document.cache import verdict_to_record as verdict_to_json
    from ml2p_symbolic.engine.kernel.seal import seal

    v = kernel.verify(Goal((x + 1) ** 2, x**2 + 2 * x + 1), Rewriting(("expand",)))
    record = verdict_to_json(v)
    record["seal"] = seal(record)
    back = verdict_from_json(record)
    assert back.verdict == "verified" and back.sizes == "all" and back.method == v.method
    forged = dict(record, detail="anything else")          # an edited record keeps the old seal
    with pytest.raises(ValueError):
        verdict_from_json(forged)
    unsealed = {k: val for k, val in record.items() if k != "seal"}
    with pytest.raises(ValueError):
        verdict_from_json(unsealed)
    with pytest.raises(ValueError):
        verdict_from_json(dict(unsealed, seal="0" * 64))


def test_a_sum_whose_range_may_run_backwards_is_never_proved():
    # sum_{i=3}^{n} i = n(n+1)/2 - 3 holds for n >= 2, but at n = 1 the empty sum is 0, not -2
    # (SymPy's closed form follows Karr's convention, which gives -2 there)
    goal = Goal(sp.Sum(i, (i, 3, n)), n * (n + 1) / 2 - 3)
    assert not kernel.accepts(goal, Rewriting(("doit+simplify",)))
    # from 2 the range is empty at n = 1 and never runs further back: proved
    assert kernel.accepts(Goal(sp.Sum(i, (i, 2, n)), n * (n + 1) / 2 - 1), Rewriting(("doit+simplify",)))
    # nested: the inner range 1..i is nonempty because i >= 1
    j = sp.Symbol("j", integer=True)
    nested = Goal(sp.Sum(sp.Sum(1, (j, 1, i)), (i, 1, n)), n * (n + 1) / 2)
    assert kernel.accepts(nested, Rewriting(("doit+simplify",)))


from hypothesis import given, settings  # noqa: E402

from strategies import polynomial_summands, size_traps  # noqa: E402


@settings(max_examples=30)  # each example is a few exact proofs (~1 s)
@given(polynomial_summands(), size_traps())
def test_closed_forms_true_for_every_size_are_proved_and_near_misses_never(coeffs, m):
    """For a polynomial summand f: sum_{i=1}^n f(i) = F(n) (SymPy's closed form) is proved by
    induction; F(n) + (n-1)(n-2)...(n-m) agrees with it at n = 1..m only and is rejected."""
    f = sum(c * i**k for k, c in enumerate(coeffs))
    closed = sp.expand(sp.Sum(f, (i, 1, n)).doit())
    induction = Induction(n, ("doit+simplify",), ("expand",))
    assert kernel.accepts(Goal(sp.Sum(f, (i, 1, n)), closed), induction)
    trap = closed + sp.Mul(*[n - r for r in range(1, m + 1)])
    assert all(sp.Sum(f, (i, 1, n)).subs(n, r).doit() == trap.subs(n, r) for r in range(1, m + 1))
    for cert in (induction, Induction(n, ("doit+simplify",), ("doit+simplify",)), Rewriting(("doit+simplify",)),
                 SummandIdentity(("expand",))):
        assert not kernel.accepts(Goal(sp.Sum(f, (i, 1, n)), trap), cert)


def test_sums_with_canonical_indices_and_positive_sums_as_atoms():
    K = sp.Symbol("K", integer=True, positive=True)
    z = sp.IndexedBase("z", real=True)
    l, m = sp.symbols("l m", integer=True)
    c = sp.Symbol("c", real=True)
    S = sp.Sum(sp.exp(z[m]), (m, 1, K))
    softmax = sp.Sum(sp.exp(z[l]) / S, (l, 1, K))
    assert kernel.accepts(Goal(softmax, sp.Integer(1)), Rewriting(("sums normalised+cancel",)))
    assert not kernel.accepts(Goal(softmax, sp.Integer(2)), Rewriting(("sums normalised+cancel",)))
    shift = Goal(sp.log(sp.Sum(sp.exp(z[l] + c), (l, 1, K))), c + sp.log(S))
    assert kernel.accepts(shift, Rewriting(("sums normalised+expand_log",)))
    # a sum of real numbers may be negative: log of its square is not twice its log
    x = sp.IndexedBase("x", real=True)
    split = Goal(sp.log(sp.Sum(x[l], (l, 1, K)) ** 2), 2 * sp.log(sp.Sum(x[m], (m, 1, K))))
    assert not kernel.accepts(split, Rewriting(("sums normalised+expand_log",)))
