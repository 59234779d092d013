"""The corrections of eq. (6)-(7): exact gap, Stein term, calibrated logit, probit approximation."""

import math

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml2p_symbolic.corrections import calibrated_logit, noise_gap, probit_gap, stein_term
from ml2p_symbolic.errors import DomainError
from ml2p_symbolic.numeric import gaussian_expectation as np_expect


def _sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


@settings(max_examples=20)
@given(st.floats(-6, 6), st.floats(0, 6))
def test_gap_matches_the_float64_evaluator_and_has_the_sign_of_minus_z(z, s):
    gap = noise_gap(z, s, dps=20)
    assert float(gap) == pytest.approx(float(np_expect("sigmoid", z, s)) - _sigmoid(z), abs=1e-11)
    if abs(z) > 1e-3 and s > 1e-2:
        assert float(gap) * z < 0  # pulled towards 1/2
    if z == 0 or s == 0:
        assert abs(gap) < 1e-25


@settings(max_examples=15)
@given(st.floats(-4, 4), st.floats(0.05, 4))
def test_stein_term_is_the_z_derivative_of_the_expected_sigmoid(z, s):
    h = 1e-6
    deriv = (float(np_expect("sigmoid", z + h, s)) - float(np_expect("sigmoid", z - h, s))) / (2 * h)
    assert float(stein_term(z, s, dps=20)) == pytest.approx(deriv, rel=1e-6)


@settings(max_examples=10)
@given(st.floats(0.1, 4), st.floats(0.1, 3))
def test_calibrated_logit_solves_its_equation_and_moves_away_from_zero(z, s):
    m = calibrated_logit(z, s, dps=20)
    with mpmath.workdps(25):
        residual = noise_gap(m, s, dps=20) + 1 / (1 + mpmath.exp(-m)) - 1 / (1 + mpmath.exp(-mpmath.mpf(z)))
    assert abs(residual) < 1e-15
    assert m > z
    assert float(calibrated_logit(-z, s, dps=20)) == pytest.approx(-float(m), rel=1e-12)


def test_probit_approximation_error_is_small_but_not_zero():
    errors = [abs(float(probit_gap(z, s) - noise_gap(z, s, dps=20))) for z in (0.5, 1, 2) for s in (0.5, 1, 2)]
    assert max(errors) < 0.01 and min(errors) > 1e-6


@pytest.mark.parametrize("z,s", [(float("nan"), 1), (1, float("inf")), (1, -0.5)])
def test_bad_arguments_raise_domain_error(z, s):
    with pytest.raises(DomainError):
        noise_gap(z, s)
