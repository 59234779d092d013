"""Expectations over eps ~ N(0, I): exact rules and high-precision quadrature."""

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ml2p_symbolic.errors import ML2PError
from ml2p_symbolic.engine.expectation import expectation_numeric, gaussian_expectation, gaussian_moment
from ml2p_symbolic.model import sigmoid

E1, E2 = sp.symbols("varepsilon_1 varepsilon_2", real=True)
X = sp.Symbol("x", real=True)


def test_moments_are_double_factorials():
    for m in range(9):
        expect = 0 if m % 2 else sp.factorial2(m - 1)
        assert gaussian_moment(m) == expect


@given(st.lists(st.integers(-5, 5), min_size=4, max_size=4))
def test_polynomial_expectation_is_exact(c):
    expr = c[0] + c[1] * E1 + c[2] * E1**2 * E2**2 + c[3] * X * E2**4
    got = gaussian_expectation(expr, [E1, E2]).value
    assert sp.simplify(got - (c[0] + c[2] + 3 * c[3] * X)) == 0


def test_symmetry_rule_gives_zero_for_odd_integrands_and_nothing_for_others():
    odd = gaussian_expectation(sigmoid(2 * E1 - E2) - sp.Rational(1, 2), [E1, E2])
    assert odd.value == 0 and any("symmetry" in s for s in odd.steps)
    shifted = gaussian_expectation(sigmoid(1 + E1), [E1])
    assert shifted.value is None and shifted.remaining == (E1,)


@settings(max_examples=15)
@given(st.floats(-20, 20), st.floats(0.1, 20))
def test_numeric_expectation_of_sigmoid_matches_an_independent_integral(m, s):
    got = expectation_numeric(sigmoid(sp.Float(m, 40) + sp.Float(s, 40) * E1), [E1], dps=30)
    with mpmath.workdps(40):
        # the same integral by substituting t = m + s eps, integrated over t
        ref = mpmath.quad(lambda t: mpmath.npdf(t, m, s) / (1 + mpmath.exp(-t)), [-mpmath.inf, m, mpmath.inf])
    assert abs(got - ref) < mpmath.mpf(10) ** -25


def test_numeric_expectation_needs_every_value():
    with pytest.raises(ML2PError, match="missing: x"):
        expectation_numeric(sigmoid(X + E1), [E1])
