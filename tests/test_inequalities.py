"""Inequalities (issue 17): the kernel rejects wrong certificates; the corpus of tests/inequalities."""

import json
import pathlib
import time

import pytest
import sympy as sp

from ml2p_symbolic.engine import kernel
from ml2p_symbolic.engine.certificates import Goal, IntervalBoxes, Lemma, SignProof, SumOfSquares, Tail
from ml2p_symbolic.engine.kernel.sos import ldl_pivots
from ml2p_symbolic.engine.prove import find_certificate
from ml2p_symbolic.engine.prove.boxes import find_boxes

CORPUS = pathlib.Path(__file__).parent / "inequalities"
EXPECTED = {k: v for k, v in json.loads((CORPUS / "expected.json").read_text()).items() if not k.startswith("_")}

x, y = sp.symbols("x y", real=True)
p = sp.Symbol("p", positive=True)


def _rejected(goal, cert):
    with pytest.raises(kernel.KernelRejection):
        kernel.verify(goal, cert)


# ------------------------------------------------------------------ sums of squares
def test_sos_accepted_and_wrong_gram_rejected():
    goal = Goal((x + y) ** 2, 2 * (x ** 2 + y ** 2), "<=")
    assert kernel.verify(goal, SumOfSquares((x, y), ((1, -1), (-1, 1)))).verdict == "verified"
    _rejected(goal, SumOfSquares((x, y), ((1, -1), (-1, 2))))          # identity fails
    _rejected(Goal(2 * x * y, 0, ">="), SumOfSquares((x, y), ((0, 1), (1, 0))))  # not PSD
    _rejected(Goal(x ** 2, 0, ">"), SumOfSquares((x,), ((1,),)))      # strict needs 1 among the monomials
    _rejected(Goal(x ** 2 + p, 0, ">="), SumOfSquares((x,), ((1,),), ((sp.Integer(-1), p),)))


def test_ldl_pivots_exact():
    assert ldl_pivots([[2, -1], [-1, 2]]) == [2, sp.Rational(3, 2)]
    assert ldl_pivots([[1, 2], [2, 1]])[1] < 0
    assert ldl_pivots([[1, 0], [1, 1]]) is None


# ------------------------------------------------------------------ interval boxes
def _bisect(lo, hi, depth):
    if depth == 0:
        return None
    m = sp.Rational(lo + hi, 2)
    return (0, m, _bisect(lo, m, depth - 1), _bisect(m, hi, depth - 1))


def test_boxes_found_checked_and_wrong_ones_rejected():
    goal = Goal(sp.exp(x) + sp.exp(-x), sp.Rational(3, 2), ">")
    cert = find_boxes(goal, time.monotonic() + 30,
                      lambda g, deadline, cheap=True: find_certificate(g, deadline, 1, cheap))
    assert isinstance(cert, IntervalBoxes)
    assert kernel.verify(goal, cert).verdict == "verified"
    # without the tails the domain is not covered
    _rejected(goal, IntervalBoxes(cert.variables, cert.box, cert.tree, ()))
    # a tail claiming the wrong monotonicity
    bad = tuple(Tail(t.side, "increasing" if t.monotone == "decreasing" else "decreasing", t.derivative, not t.limit)
                for t in cert.tails)
    _rejected(goal, IntervalBoxes(cert.variables, cert.box, cert.tree, bad))
    # the same boxes for a false inequality: an enclosure has the wrong sign
    _rejected(Goal(sp.exp(x) + sp.exp(-x), sp.Rational(5, 2), ">"), cert)


def test_boxes_reject_a_pole_beyond_the_box():
    goal = Goal(1 / (x - 5), 0, ">=", (x > 0,))
    tail = Tail("above", "decreasing", SignProof(("assumptions",)), True)
    _rejected(goal, IntervalBoxes((x,), ((0, 3),), _bisect(0, 3, 3), (tail,)))


# ------------------------------------------------------------------ lemmas
def test_lemmas_accept_their_instances_and_reject_others():
    assert kernel.accepts(Goal(sp.log(p), p - 1, "<="), Lemma("log x <= x - 1", {"x": p}))
    _rejected(Goal(sp.log(x ** 2 + 1), x ** 2, "<="), Lemma("log x <= x - 1", {"x": x}))   # x > 0 not shown
    _rejected(Goal(sp.log(p), p - 2, "<="), Lemma("log x <= x - 1", {"x": p}))             # rest -1 < 0
    _rejected(Goal(sp.log(1 + sp.exp(x)), x + 1, ">="), Lemma("log(1 + e^x) >= x", {"x": x}))
    _rejected(Goal(x, 0, ">="), Lemma("no such lemma", {}))
    s = 1 / (1 + sp.exp(-x))
    assert kernel.accepts(Goal(s * (1 - s), sp.Rational(1, 4), "<="), Lemma("sigma(x)(1 - sigma(x)) <= 1/4", {"x": x}))
    _rejected(Goal(s * (1 - s), sp.Rational(1, 8), "<="), Lemma("sigma(x)(1 - sigma(x)) <= 1/4", {"x": x}))
    # a side condition under an extra assumption does not count
    side = (Goal(x - 1, 0, ">=", (x >= 1,)), SignProof(("assumptions",)))
    _rejected(Goal(x, 1, ">="), Lemma("termwise", None, (side,)))


def test_termwise_and_cauchy_schwarz_for_every_size():
    n = sp.Symbol("n", integer=True, positive=True)
    k = sp.Symbol("k", integer=True)
    X = sp.IndexedBase("X", real=True)
    goal = Goal(sp.Sum(X[k], (k, 1, n)) ** 2, n * sp.Sum(X[k] ** 2, (k, 1, n)), "<=")
    inst = {"x": X[k], "y": sp.Integer(1), "k": k, "lo": 1, "hi": n}
    assert kernel.verify(goal, Lemma("Cauchy-Schwarz", inst)).sizes == "all"
    _rejected(Goal(sp.Sum(X[k], (k, 1, n)) ** 2, n * sp.Sum(X[k], (k, 1, n)), "<="), Lemma("Cauchy-Schwarz", inst))


# ------------------------------------------------------------------ the corpus
@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from ml2p_symbolic.engine.document.check import check_document

    cache = tmp_path_factory.mktemp("cache")
    return {name: check_document(CORPUS / name, cache_dir=cache, timeout=180) for name in EXPECTED}


@pytest.mark.slow
def test_corpus_no_false_verified_and_most_true_verified(reports):
    wrong, true_total, true_verified = [], 0, 0
    for name, report in reports.items():
        got = {r.claim.id: r.verdict for r in report.results}
        assert set(got) == set(EXPECTED[name]), name
        for step, truth in EXPECTED[name].items():
            v = got[step].verdict
            if truth == "false" and v == "verified":
                wrong.append(f"{name} {step}: false but verified")
            if truth == "true" and v in ("refuted", "conditional"):
                wrong.append(f"{name} {step}: true but {v}")
            if truth == "true":
                true_total += 1
                true_verified += v == "verified"
    assert not wrong
    assert true_total >= 25
    assert true_verified >= 0.8 * true_total, (true_verified, true_total)


@pytest.mark.slow
def test_corpus_issue_examples_and_wrong_variants(reports):
    got = {r.claim.id: r.verdict for r in reports["issue.tex"].results}
    for step in ("softplus", "info", "cs"):
        assert got[step].verdict == "verified" and got[step].certificate is not None
    for step in ("wrong-softplus", "wrong-info", "wrong-cs"):
        v = got[step]
        assert v.verdict in ("refuted", "conditional")
        assert v.counterexample and v.values is not None and v.values[0] != v.values[1]


# ------------------------------------------------------------------ the seed's inequality claims
def test_seed_kl_min_and_global_min_from_the_kernel():
    from ml2p_symbolic.derivations.seed import check_claim

    kl_min = check_claim("claim.kl-min", numeric=False)
    assert kl_min.verdict == "verified" and kl_min.certificate is not None
    assert kl_min.certificate.name == "log x <= x - 1"
    assert any(e.startswith(r"kernel: lemma $\log x \le x - 1$") for e in kl_min.evidence)
    global_min = check_claim("claim.global-min", numeric=False)
    assert global_min.verdict == "conditional" and global_min.counterexample
    assert any("kernel: lemma Gibbs' inequality" in e for e in global_min.evidence)


def test_instances_use_the_prover():
    """At an instance (explicit sums) Cauchy-Schwarz at n = 2 is a sum of squares."""
    from ml2p_symbolic.engine.document.decide import decide

    a, b = sp.symbols("a b", real=True)
    dec = decide((a + b) ** 2 + (a - b) ** 2 / 3, 3 * (a ** 2 + b ** 2), "<=", [], 20.0)
    assert dec.verdict == "holds" and dec.proof.certificate is not None
    dec = decide((a + b) ** 2, 2 * (a ** 2 + b ** 2), "<=", [], 20.0)
    assert dec.verdict == "holds"
    dec = decide((a + b) ** 2, (a ** 2 + b ** 2), "<=", [], 20.0)
    assert dec.verdict == "refuted" and dec.counterexample


def test_tangent_lemma_needs_continuity_convexity_and_a_stationary_point():
    soft = sp.log(1 + sp.exp(x)) - sp.log(2) - x / 2
    goal = Goal(soft, 0, ">=")
    convex = (Goal(sp.diff(soft, x, 2), 0, ">="), SignProof(("factor",)))
    assert kernel.accepts(Goal(sp.diff(soft, x, 2), 0, ">="), SignProof(("factor",)))
    assert kernel.verify(goal, Lemma("convex above its tangent", {"x": x, "c": 0}, (convex,))).verdict == "verified"
    _rejected(goal, Lemma("convex above its tangent", {"x": x, "c": 0}, ()))                  # no convexity
    _rejected(goal, Lemma("convex above its tangent", {"x": x, "c": 1}, (convex,)))           # d'(1) != 0
    # 1/x^2 >= 3 - 2x fails at x = -1 (d'' = 6/x^4 >= 0 off the pole): a pole is not continuous
    from ml2p_symbolic.engine.kernel.intervals import _continuous

    assert not _continuous(1 / x ** 2 - 3 + 2 * x, x, x)
    assert _continuous(soft, x, x)
