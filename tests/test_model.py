"""The symbolic model of eq. (1)-(3) against independent numpy evaluations."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given

from ml2p_symbolic.errors import ML2PError
from ml2p_symbolic.model import (P, P_hat, expected_reconstruction, ml2p_symbols, reconstruction_loss,
                                 z, z_hat)
from strategies import model_points

M = ml2p_symbols(K=2, n=2)


def _sigmoid(x):
    """Overflow- and cancellation-free logistic function."""
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _arrays(pt):
    f = lambda s: float(pt[s])  # noqa: E731
    a = np.array([[f(M.a[i][k]) for k in range(2)] for i in range(2)])
    ah = np.array([[f(M.a_hat[i][k]) for k in range(2)] for i in range(2)])
    th = np.array([f(M.theta[k]) for k in range(2)])
    thh = np.array([f(M.theta_hat[k]) for k in range(2)])
    sh = np.array([f(M.sigma_hat[k]) for k in range(2)])
    e = np.array([f(M.eps[k]) for k in range(2)])
    b = np.array([f(M.b[i]) for i in range(2)])
    bh = np.array([f(M.b_hat[i]) for i in range(2)])
    u = np.array([f(M.u[i]) for i in range(2)])
    return a @ th - b, ah @ (thh + e * sh) - bh, u




_COMPILED = {}


def _value(expr, pt):
    """``expr`` at ``pt`` with mpmath at 30 digits."""
    import mpmath

    syms = sorted(expr.free_symbols, key=str)
    if expr not in _COMPILED:
        _COMPILED[expr] = sp.lambdify(syms, expr, "mpmath")
    with mpmath.workdps(30):
        args = [mpmath.mpf(sp.Rational(pt[s]).p) / sp.Rational(pt[s]).q for s in syms]
        return float(_COMPILED[expr](*args))


@given(model_points(M))
def test_probabilities_and_logits_match_numpy(pt):
    zs, zh, _ = _arrays(pt)
    for i in range(2):
        assert _value(z(M, i), pt) == pytest.approx(zs[i], rel=1e-12, abs=1e-12)
        assert _value(z_hat(M, i), pt) == pytest.approx(zh[i], rel=1e-12, abs=1e-12)
        assert _value(P(M, i), pt) == pytest.approx(_sigmoid(zs[i]), rel=1e-12, abs=1e-300)
        assert _value(P_hat(M, i), pt) == pytest.approx(_sigmoid(zh[i]), rel=1e-12, abs=1e-300)


def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@given(model_points(M))
def test_reconstruction_loss_is_bernoulli_cross_entropy(pt):
    zs, zh, u = _arrays(pt)
    # -[u log s(zh) + (1-u) log(1 - s(zh))] = softplus(zh) - u zh, evaluated independently
    expect = sum(_softplus(zh[i]) - u[i] * zh[i] for i in range(2))
    assert _value(reconstruction_loss(M), pt) == pytest.approx(expect, rel=1e-10, abs=1e-10)
    expect_e = sum(_softplus(zh[i]) - _sigmoid(zs[i]) * zh[i] for i in range(2))
    assert _value(expected_reconstruction(M), pt) == pytest.approx(expect_e, rel=1e-10, abs=1e-10)


def test_assumptions_are_honest():
    m = ml2p_symbols(K=3)
    assert all(s.is_positive for s in m.sigma_hat)
    assert all(s.is_real and s.is_positive is None for s in (*m.a[0], *m.theta, *m.theta_hat, *m.eps))
    assert m.u[0].is_nonnegative and m.domain == (m.u[0] <= 1,)


@pytest.mark.parametrize("K,n", [(0, 1), (1, 0), (1.5, 1), (True, 1), ("2", 1)])
def test_bad_sizes_raise_value_error(K, n):
    with pytest.raises(ML2PError, match="must be an integer"):
        ml2p_symbols(K=K, n=n)
