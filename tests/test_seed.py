"""The checker's verdicts against independent evaluations (never against copied verdicts)."""

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ml2p_symbolic import CLAIM_IDS, check
from ml2p_symbolic.engine.records import VERDICTS
from ml2p_symbolic.errors import UnknownClaimError
from ml2p_symbolic.numeric import gaussian_expectation as np_expect
from ml2p_symbolic.derivations.seed.statements import by_id
from strategies import model_points


@pytest.fixture(scope="module")
def report():
    return check(numeric=False)


@pytest.fixture(scope="module")
def verdicts(report):
    return {r.claim.id: r.verdict for r in report.results}


def _mp(x):
    x = sp.Rational(x) if not isinstance(x, sp.Float) else x
    return mpmath.mpf(x.p) / x.q if x.is_Rational else mpmath.mpf(str(x))


def test_every_claim_reported_once_in_seed_order(report):
    assert tuple(r.claim.id for r in report.results) == CLAIM_IDS


def test_verdicts_carry_the_evidence_their_kind_requires(report):
    for r in report.results:
        v = r.verdict
        assert v.verdict in VERDICTS and v.method, r.claim.id
        if v.verdict == "verified":
            assert v.counterexample is None and v.condition is None, r.claim.id
        if v.verdict in ("refuted", "conditional"):
            assert v.counterexample and v.values, r.claim.id
            lhs, rhs = v.values
            try:
                a, b = mpmath.mpf(lhs), mpmath.mpf(rhs)
            except (ValueError, TypeError):
                assert lhs != rhs, r.claim.id  # two distinct parameter points (uniqueness)
            else:
                # shown at >= 30 significant digits and far apart
                assert len(lhs.replace("-", "").replace(".", "").lstrip("0")) >= 30 or lhs == "0", r.claim.id
                assert abs(a - b) > mpmath.mpf(10) ** -20 * max(1, abs(a), abs(b)), r.claim.id
        if v.verdict == "conditional":
            assert v.condition is not None, r.claim.id
        for x, val in (v.counterexample or {}).items():
            if getattr(x, "is_positive", False):
                assert sp.sympify(val) > 0, (r.claim.id, x)
        sp.latex(r.claim.statement)


def test_unknown_ids_raise_value_error_listing_valid_ids():
    with pytest.raises(ValueError) as info:
        check(["eq4.1", "eq99"])
    assert isinstance(info.value, UnknownClaimError)
    assert "eq99" in str(info.value) and "todo.full-loss" in str(info.value)


# --- soundness of the equation verdicts: an independent float evaluation -------------------

def _sig(x):
    return 1 / (1 + mpmath.exp(-x))


def _true_dL_dzhat(m, pt):
    """sigma(zhat_i) - sigma(z_i), computed here from the definitions with mpmath."""
    zv = sum(_mp(pt[m.a[0][k]]) * _mp(pt[m.theta[k]]) for k in range(m.K)) - _mp(pt[m.b[0]])
    zh = sum(_mp(pt[m.a_hat[0][k]]) * (_mp(pt[m.theta_hat[k]]) + _mp(pt[m.eps[k]]) * _mp(pt[m.sigma_hat[k]]))
             for k in range(m.K)) - _mp(pt[m.b_hat[0]])
    return _sig(zh) - _sig(zv), zv, zh


_M = __import__("ml2p_symbolic.model", fromlist=["ml2p_symbols"]).ml2p_symbols(K=2)


@settings(max_examples=40)
@given(model_points(_M, logit_scale=8.0))
def test_eq4_verdicts_agree_with_direct_evaluation(verdicts, pt):
    from ml2p_symbolic.derive import Z, ZHAT

    claims = by_id()
    with mpmath.workdps(40):
        truth, zv, zh = _true_dL_dzhat(_M, pt)
        for cid in ("eq4.1", "eq4.2", "eq4.3"):
            rhs = claims[cid].statement.rhs
            val = sp.N(rhs.subs({Z: sp.Float(str(zv), 45),
                                 ZHAT: sp.Float(str(zh), 45)}).subs(pt), 40)
            close = abs(_mp(val) - truth) <= mpmath.mpf(10) ** -25
            if verdicts[cid].verdict == "verified":
                assert close, cid  # a verified identity never fails at a point
    # a refutation's counterexample must fail when evaluated here
    for cid in ("eq4.1", "eq4.2", "eq4.3"):
        v = verdicts[cid]
        if v.verdict == "refuted":
            with mpmath.workdps(40):
                truth, _, _ = _true_dL_dzhat(_M, {**{s: 0 for s in _M.eps}, **v.counterexample})
                seed = sp.N(claims[cid].statement.rhs.subs(v.counterexample), 40)
                assert abs(_mp(seed) - truth) > mpmath.mpf(10) ** -20, cid


def _float_point(cx):
    return {str(k): float(v) for k, v in cx.items()}


@pytest.mark.parametrize("cid", ["eq6", "eq7.b", "eq7.theta"])
def test_expectation_counterexamples_match_the_numpy_quadrature(verdicts, cid):
    v = verdicts[cid]
    if v.counterexample is None:
        pytest.skip(f"{cid} has no counterexample to compare")  # pragma: no cover
    x = _float_point(v.counterexample)
    zv = x["a_i1"] * x["theta_j1"] + x["a_i2"] * x["theta_j2"] - x["b_i"]
    s = math.sqrt(x["a_i1"] ** 2 * x["sigmahat_1"] ** 2 + x["a_i2"] ** 2 * x["sigmahat_2"] ** 2)
    diff = float(np_expect("sigmoid", zv, s)) - 1 / (1 + math.exp(-zv))
    sign = {"eq6": 1.0, "eq7.b": -1.0, "eq7.theta": x["a_i1"]}[cid]
    assert sign * diff == pytest.approx(float(v.values[0]), abs=1e-10)
    assert abs(sign * diff) > 1e-6


@settings(max_examples=30)
@given(st.floats(-5, 5), st.floats(0.01, 5), st.floats(-5, 5))
def test_conditions_of_eq6_hold_numerically(verdicts, theta, s, a):
    """Where the checker says eq. (6) holds (z_i = 0), the float64 expectation is 0."""
    if verdicts["eq6"].verdict != "conditional":
        pytest.skip("eq6 is not conditional")  # pragma: no cover
    cond = verdicts["eq6"].condition
    m = _M
    pt = {m.a[0][0]: a, m.a[0][1]: 0, m.theta[0]: theta, m.theta[1]: 0, m.b[0]: a * theta,
          m.sigma_hat[0]: s, m.sigma_hat[1]: 1}
    assert bool(cond.subs(pt)) or abs(float(cond.args[0].lhs.subs(pt))) < 1e-12
    assert abs(float(np_expect("sigmoid", 0.0, abs(a) * s)) - 0.5) < 1e-12
