"""Tests of ml2p_symbolic.numeric.quadrature: the rules, "auto" against mpmath, Monte Carlo."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given

from ml2p_symbolic.errors import DomainError
from ml2p_symbolic.numeric import expected_softplus, gaussian_expectation, hermite_rule
from ml2p_symbolic.numeric.quadrature import AUTO_PLAN, erfc, ndtr, softplus_weight_rule

from strategies import gaussian_locations_and_scales, reals


def _reference(f, m, s):
    """E[f(m + s eps)] by mpmath.quad at 30 digits over eps, with breakpoints at the
    bulk of the Gaussian and where m + s eps crosses the region |x| < 30 where f bends."""
    with mpmath.workdps(30):
        m, s = mpmath.mpf(m), mpmath.mpf(s)
        if s == 0:
            return f(m)
        points = {mpmath.mpf(p) for p in (-9, -3, 0, 3, 9)}
        points |= {(k - m) / s for k in (-30, -4, 0, 4, 30)}
        points = sorted(p for p in points if abs(p) < 12)
        return mpmath.quad(
            lambda e: f(m + s * e) * mpmath.npdf(e), [-mpmath.inf] + points + [mpmath.inf]
        )


def _softplus(x):
    return x + mpmath.log1p(mpmath.exp(-x)) if x > 0 else mpmath.log1p(mpmath.exp(x))


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


@given(gaussian_locations_and_scales(max_m=50.0, max_s=50.0))
def test_auto_matches_mpmath_for_softplus_and_log_sigmoid(ms):
    m, s = ms
    F = float(_reference(_softplus, m, s))
    assert abs(gaussian_expectation("softplus", m, s) - F) < 1e-10
    # E[log sigmoid(m' + s eps)] = -F(-m', s): check at m' = -m
    assert abs(gaussian_expectation("log_sigmoid", -m, s) + F) < 1e-10


@given(gaussian_locations_and_scales(max_m=50.0, max_s=50.0))
def test_auto_matches_mpmath_for_sigmoid(ms):
    m, s = ms
    want = float(_reference(_sigmoid, m, s))
    assert abs(gaussian_expectation("sigmoid", m, s) - want) < 1e-10


@pytest.mark.parametrize("s_max, rule, G", AUTO_PLAN[:-1])
def test_auto_plan_is_accurate_at_each_range_boundary(s_max, rule, G):
    """Both sides of every switch in AUTO_PLAN agree with mpmath to 1e-12."""
    for s in (s_max * (1 - 1e-9), s_max * (1 + 1e-9)):
        for m in (0.0, 0.9, -2.5, 7.0):
            F = float(_reference(_softplus, m, s))
            assert abs(float(expected_softplus(m, s, "auto")) - F) < 1e-12, (m, s)


@given(reals(-20, 20), reals(0.0, 20.0))
def test_derivatives_are_exact_derivatives_of_the_rule(m, s):
    """dF/dm and dF/d(s^2) against central differences of F itself, both rules."""
    s = max(s, 0.05)
    v = s * s
    for nodes in (7, "auto"):
        _, Fm, Fv = expected_softplus(m, s, nodes, grad=True)
        hm = 1e-5 * (1 + abs(m))
        hv = 1e-5 * v
        dm = (expected_softplus(m + hm, s, nodes) - expected_softplus(m - hm, s, nodes)) / (
            2 * hm
        )
        dv = (
            expected_softplus(m, math.sqrt(v + hv), nodes)
            - expected_softplus(m, math.sqrt(v - hv), nodes)
        ) / (2 * hv)
        assert abs(Fm - dm) < 1e-7 * max(1.0, abs(dm))
        assert abs(Fv - dv) < 1e-6 * max(1.0, abs(dv)), (nodes, Fv, dv)


def test_derivative_in_variance_at_zero_scale_is_the_limit():
    _, Fm, Fv = expected_softplus(0.7, 0.0, 9, grad=True)
    sig = 1 / (1 + math.exp(-0.7))
    assert Fm == pytest.approx(sig, rel=1e-15)
    assert Fv == pytest.approx(sig * (1 - sig) / 2, rel=1e-14)
    _, _, Fv1 = expected_softplus(0.7, 0.0, 1, grad=True)  # one node at 0: F flat in s
    assert Fv1 == 0.0


@pytest.mark.parametrize("G", [1, 2, 5, 20, 64, 200])
def test_hermite_rule_integrates_gaussian_moments(G):
    x, w = hermite_rule(G)
    assert x.shape == w.shape == (G,)
    for k in range(0, min(2 * G, 24), 2):
        double_factorial = math.prod(range(k - 1, 0, -2)) if k else 1
        assert np.sum(w * x**k) == pytest.approx(double_factorial, rel=1e-10)
        assert abs(np.sum(w * x ** (k + 1))) < 1e-10 * max(1, double_factorial)


@pytest.mark.parametrize("G", [8, 24, 56])
def test_softplus_weight_rule_moments(G):
    """int_0^inf x^k log1p(e^-x) dx = k! eta(k + 2), eta the Dirichlet eta function."""
    x, w = softplus_weight_rule(G)
    assert np.all(x > 0) and np.all(w > 0)
    for k in range(0, 8):
        want = math.factorial(k) * float(mpmath.altzeta(k + 2))
        assert np.sum(w * x**k) == pytest.approx(want, rel=1e-13)


def test_hermite_agrees_with_monte_carlo_within_four_standard_errors():
    rng = np.random.default_rng(12345)
    eps = rng.standard_normal(200_000)
    for m, s in [(0.3, 0.5), (-1.0, 2.0), (2.0, 6.0)]:
        x = m + s * eps
        for name, values in [
            ("softplus", np.logaddexp(0.0, x)),
            ("sigmoid", 0.5 * (1 + np.tanh(x / 2))),
        ]:
            mc = values.mean()
            se = values.std(ddof=1) / math.sqrt(values.size)
            for nodes in (32, "auto"):
                quad = gaussian_expectation(name, m, s, nodes)
                assert abs(quad - mc) < 4 * se, (name, m, s, nodes, quad, mc, se)


def test_plain_hermite_is_inaccurate_for_large_scales_but_auto_is_not():
    """The measurement behind "auto": 32 Gauss-Hermite nodes are off by ~1e-2 at s = 10."""
    F = float(_reference(_softplus, 0.0, 10.0))
    assert abs(gaussian_expectation("softplus", 0.0, 10.0, 32) - F) > 1e-3
    assert abs(gaussian_expectation("softplus", 0.0, 10.0, "auto") - F) < 1e-13


def test_arrays_broadcast_and_keep_their_shape():
    m = np.linspace(-3, 3, 6).reshape(2, 3)
    s = np.array([0.0, 1.0, 40.0])
    out = gaussian_expectation("sigmoid", m, s)
    assert out.shape == (2, 3)
    assert np.all((out > 0) & (out < 1))
    assert np.all(np.isfinite(expected_softplus(np.array([1e4, -1e4]), 1e6, "auto")))


def test_bad_arguments_raise():
    with pytest.raises(DomainError, match="f_name"):
        gaussian_expectation("tanh", 0.0, 1.0)
    with pytest.raises(DomainError, match="s"):
        gaussian_expectation("sigmoid", 0.0, -1.0)
    with pytest.raises(DomainError, match="nodes"):
        expected_softplus(0.0, 1.0, 0)


def test_old_names_are_the_shared_primitives():
    """hermite_rule, erfc and ndtr stay importable from here; they are the package's one
    copy in numeric.gauss_hermite and numeric.special (tested in their own test files)."""
    from ml2p_symbolic.numeric import gauss_hermite, special

    assert hermite_rule is gauss_hermite.hermite_rule
    assert erfc is special.erfc and ndtr is special.ndtr
