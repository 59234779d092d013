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


# --- scope: verified means every K; what is checked at one K says so --------------------------

_FOR_EVERY_K = ("eq1.P", "eq1.Phat", "eq2", "eq4.1", "eq4.2", "eq5.a", "eq5.b", "eq8")


def test_every_verified_claim_covers_every_size_and_carries_the_kernels_certificate(report):
    from ml2p_symbolic.engine.report import report_to_dict

    for r in report.results:
        if r.verdict.verdict == "verified":
            assert r.verdict.sizes == "all" and r.verdict.certificate is not None, r.claim.id
        elif r.claim.id not in ("claim.global-min", "claim.kl-min"):  # checked by the inequality prover
            # every other claim was checked at the report's K (or at K = 1 for eq3)
            assert r.verdict.sizes != "all" and set(r.verdict.sizes) <= {"K", "n"}, r.claim.id
    for c in report_to_dict(report)["claims"]:
        if c["verdict"] == "verified":
            assert c["sizes"] == "all", c["id"]


def test_the_equations_for_every_K_are_verified_with_K_a_symbol(verdicts):
    from ml2p_symbolic.model import ml2p_families

    K = ml2p_families().K
    for cid in _FOR_EVERY_K:
        assert verdicts[cid].verdict == "verified", (cid, verdicts[cid].detail)
    from ml2p_symbolic.derivations.seed.common import SeedContext
    from ml2p_symbolic.derivations.seed.statements import SEED
    from ml2p_symbolic.engine.derivation import expand_definitions

    defs = SEED._definitions(SeedContext(2))
    for cid in _FOR_EVERY_K:  # K is a symbol of the statement, or of the definitions it uses
        st = by_id()[cid].statement
        assert K in (st.free_symbols | expand_definitions(st.lhs, defs).free_symbols), cid


def _eq5a_goal(rhs_factor):
    """eq. (5.a) for every K, derived here from the model's families: lhs SymPy's derivative of
    the item's expected cross-entropy in ahat[i, k], the trait k free over 1..K."""
    from ml2p_symbolic.derive import Z, ZHAT, d_rec_d_zhat, item_cross_entropy
    from ml2p_symbolic.engine.certificates import Goal
    from ml2p_symbolic.model import ml2p_families, sigmoid, z_hat_sum, z_sum

    f = ml2p_families()
    zs, zhs = z_sum(f), z_hat_sum(f)
    lhs = sp.diff(item_cross_entropy(sigmoid(zs), zhs), f.a_hat[f.i, f.k])
    rhs = d_rec_d_zhat().subs({Z: zs, ZHAT: zhs}) * rhs_factor(f)
    return Goal(lhs, rhs, "=", (), ((f.k, 1, f.K),))


def test_the_certificate_of_eq5a_proves_the_chain_rule_and_rejects_a_wrong_factor(verdicts):
    from ml2p_symbolic.engine import kernel

    cert = verdicts["eq5.a"].certificate
    right = _eq5a_goal(lambda f: f.theta_hat[f.j, f.k] + f.eps[f.k] * f.sigma_hat[f.k])
    assert kernel.accepts(right, cert)
    assert not kernel.accepts(_eq5a_goal(lambda f: f.theta_hat[f.j, f.k]), cert)  # the noise term dropped
    # without the range of k the Kronecker deltas are not evaluated: no proof
    assert not kernel.accepts(type(right)(right.lhs, right.rhs), cert)


def test_the_certificate_of_eq8_proves_the_closed_form_and_rejects_a_wrong_one(verdicts):
    from ml2p_symbolic.engine import kernel
    from ml2p_symbolic.engine.certificates import Goal

    st = by_id()["eq8"].statement
    cert = verdicts["eq8"].certificate
    assert kernel.accepts(Goal(st.lhs, st.rhs), cert)
    assert not kernel.accepts(Goal(st.lhs, st.rhs * sp.Rational(2, 3)), cert)


def _old_concrete(K):
    """The statements as they were transcribed for a concrete K (written here from the model's
    symbols, as the seed displays them)."""
    from ml2p_symbolic.model import expected_reconstruction, ml2p_symbols, reconstruction_loss

    m = ml2p_symbols(K=K)
    a, th, ah, thh, sh, e = m.a[0], m.theta, m.a_hat[0], m.theta_hat, m.sigma_hat, m.eps
    return m, {
        "eq1.P": 1 / (1 + sp.exp(-sum(a[k] * th[k] for k in range(K)) + m.b[0])),
        "eq1.Phat": 1 / (1 + sp.exp(-sum(ah[k] * (thh[k] + e[k] * sh[k]) for k in range(K)) + m.b_hat[0])),
        "eq2.rec": reconstruction_loss(m),
        "eq5.a": sp.diff(expected_reconstruction(m), ah[0]),
        "eq5.b": sp.diff(expected_reconstruction(m), m.b_hat[0]),
        "eq8.rhs": -sp.Rational(1, 2) * sum(1 + sp.log(sh[k] ** 2) - thh[k] ** 2 - sh[k] ** 2 for k in range(K)),
    }


@pytest.mark.parametrize("K", [1, 2, 3])
def test_the_statements_for_every_K_at_K_equal_the_concrete_transcription(K):
    from ml2p_symbolic.derivations.seed.common import SeedContext
    from ml2p_symbolic.derivations.seed.statements import SEED
    from ml2p_symbolic.engine.derivation import expand_definitions
    from ml2p_symbolic.engine.identity import check_identity
    from ml2p_symbolic.model import at_traits, z, z_hat

    m, old = _old_concrete(K)
    claims = by_id()
    defs = SEED._definitions(SeedContext(2))
    new = {
        "eq1.P": claims["eq1.P"].statement.rhs,
        "eq1.Phat": claims["eq1.Phat"].statement.rhs,
        "eq2.rec": sp.Add(*[t for t in sp.Add.make_args(claims["eq2"].statement.rhs) if not t.has(sp.Integral)]),
        "eq5.a": expand_definitions(claims["eq5.a"].statement.lhs, defs),
        "eq5.b": expand_definitions(claims["eq5.b"].statement.lhs, defs),
        "eq8.rhs": claims["eq8"].statement.rhs,
    }
    for key, expr in new.items():
        v = check_identity(at_traits(expr, m), old[key])
        assert v.verdict == "verified", (key, K, v.method)
    from ml2p_symbolic.derive import Z, ZHAT  # eq. (4.1), (4.2): the definitions of z_i and zhat_i
    assert sp.expand(at_traits(defs[Z], m) - z(m)) == 0 and sp.expand(at_traits(defs[ZHAT], m) - z_hat(m)) == 0


@pytest.mark.parametrize("K", [1, 2])
def test_the_KL_of_eq8_for_every_K_is_the_K_dimensional_integral_at_K(K):
    """The transcription for every K writes E_q log(q/p) as a sum of one-trait integrals; at
    K = 1, 2 it equals the K-dimensional integral of the seed, by quadrature at a point."""
    from scipy import integrate

    from ml2p_symbolic.derivations.seed.statements import _kl_at
    from ml2p_symbolic.model import at_traits, ml2p_symbols

    m = ml2p_symbols(K=K)
    pt = {m.theta_hat[0]: sp.Rational(1, 3), m.sigma_hat[0]: sp.Rational(7, 10)}
    if K == 2:
        pt.update({m.theta_hat[1]: sp.Rational(-5, 4), m.sigma_hat[1]: sp.Rational(3, 2)})
    whole = _kl_at(m)
    integrand = sp.lambdify([x for x, *_ in whole.limits], sp.expand_log(whole.function.subs(pt), force=True))
    value, _ = integrate.nquad(lambda *t: integrand(*t), [(-30, 30)] * K)
    summed = sp.N(at_traits(by_id()["eq8"].statement.lhs, m).subs(pt).doit(), 20)
    assert abs(value - float(summed)) < 1e-8
    assert abs(value - float(sp.N(at_traits(by_id()["eq8"].statement.rhs, m).subs(pt)))) < 1e-8


def test_eq9_is_refuted_by_a_comparison_confirmed_at_two_precisions(verdicts):
    """The point is exact; the two sides recomputed here (closed form, and the posterior's KL by
    a quadrature written here) match the verdict's values and differ."""
    v = verdicts["eq9"]
    assert v.verdict == "refuted" and "50 and 80 digits" in v.method and v.sizes == {"K": [2]}
    assert all(isinstance(val, sp.Rational) for val in v.counterexample.values())
    cx = {str(k): v.counterexample[k] for k in v.counterexample}
    assert (cx["a_i1"], cx["b_i"], cx["u_ij"], cx["theta_j1"]) == (1, 0, 1, 0)
    lhs_text, rhs_text = v.values
    assert len(lhs_text.replace(".", "").lstrip("0")) >= 40 and len(rhs_text.replace(".", "").lstrip("0")) >= 39
    with mpmath.workdps(60):
        s1, t1 = _mp(cx["sigma_1"]), _mp(cx["theta_j1"])
        lhs = -mpmath.log(s1) + s1 ** 2 / 2 - mpmath.mpf(1) / 2 + t1 ** 2 / 2  # KL(N(theta, s^2) || N(0, 1))
        post = lambda t: mpmath.npdf(t) * _sig(t)  # noqa: E731  (prior times P(u = 1 | theta))
        Zc = mpmath.quad(post, [-mpmath.inf, 0, mpmath.inf])
        rhs = mpmath.quad(lambda t: post(t) / Zc * mpmath.log(_sig(t) / Zc), [-mpmath.inf, 0, mpmath.inf])
        assert abs(lhs - mpmath.mpf(lhs_text)) < mpmath.mpf(10) ** -38
        assert abs(rhs - mpmath.mpf(rhs_text)) < mpmath.mpf(10) ** -38
        assert abs(lhs - rhs) > mpmath.mpf("0.05")


def test_an_identity_proved_at_one_K_only_is_tested_not_verified():
    from ml2p_symbolic.engine.evidence import verdict_from_identity
    from ml2p_symbolic.engine.identity import check_identity

    x = sp.Symbol("x", real=True)
    proved = check_identity((x + 1) ** 2, x ** 2 + 2 * x + 1)
    at_two = verdict_from_identity(proved, sizes={"K": [2]})
    assert at_two.verdict == "tested" and at_two.sizes == {"K": [2]} and at_two.certificate is None
    assert "$K = 2$" in at_two.detail
    every = verdict_from_identity(proved)
    assert every.verdict == "verified" and every.certificate == proved.certificate
    wrong = verdict_from_identity(check_identity(sp.sqrt(x ** 2), x), sizes={"K": [2]})
    assert wrong.verdict == "refuted" and wrong.sizes == {"K": [2]} and "50 and 80 digits" in wrong.detail


def test_a_claim_checked_at_K_says_its_K():
    v = check(["eq4.3"], K=3, numeric=False).results[0].verdict
    assert v.verdict == "refuted" and v.sizes == {"K": [3]}
