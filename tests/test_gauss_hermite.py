"""Tests of ml2p_symbolic.numeric.gauss_hermite: the one Gauss-Hermite rule and its tensor product."""

import math

import numpy as np
import pytest

from ml2p_symbolic.errors import DomainError, ResourceError
from ml2p_symbolic.numeric.gauss_hermite import hermite_rule, hermite_tensor_rule


def _double_factorial(k):
    return math.prod(range(k - 1, 0, -2)) if k else 1


@pytest.mark.parametrize("G", [1, 2, 7, 64, 150, 151, 300, 1000])
def test_rule_integrates_gaussian_moments_for_every_size(G):
    """Beyond G = 150 numpy's hermegauss overflows to NaN; the rule must stay exact."""
    x, w = hermite_rule(G)
    assert x.shape == w.shape == (G,) and np.all(np.isfinite(x)) and np.all(w >= 0)
    assert np.all(np.diff(x) > 0) and abs(w.sum() - 1.0) < 1e-14
    for k in range(0, min(2 * G, 24), 2):
        assert np.sum(w * x**k) == pytest.approx(_double_factorial(k), rel=1e-10)
        assert abs(np.sum(w * x ** (k + 1))) < 1e-10 * max(1, _double_factorial(k))
    if G >= 20:
        assert abs(float(w @ np.cos(x)) - math.exp(-0.5)) < 1e-14


def test_rule_is_cached_and_read_only():
    x, w = hermite_rule(9)
    assert hermite_rule(9)[0] is x
    with pytest.raises(ValueError):
        x[0] = 1.0


@pytest.mark.parametrize("K", [1, 2, 3])
def test_tensor_rule_moments_and_log_weights(K):
    theta, w = hermite_tensor_rule(6, K)
    _, logw = hermite_tensor_rule(6, K, log_weights=True)
    assert theta.shape == (6**K, K) and w.shape == (6**K,)
    assert np.allclose(np.exp(logw), w, rtol=1e-14, atol=0)
    assert abs(w.sum() - 1.0) < 1e-14
    assert float(w @ theta[:, -1] ** 4) == pytest.approx(3.0, rel=1e-13)
    if K > 1:  # independent coordinates: E theta_1^2 theta_2^2 = 1, E theta_1 theta_2 = 0
        assert float(w @ (theta[:, 0] ** 2 * theta[:, 1] ** 2)) == pytest.approx(1.0, rel=1e-13)
        assert abs(float(w @ (theta[:, 0] * theta[:, 1]))) < 1e-15


def test_tensor_log_weights_do_not_underflow():
    _, logw = hermite_tensor_rule(150, 3, log_weights=True)
    assert np.all(np.isfinite(logw)) and logw.min() < -745  # exp() of it would be 0


@pytest.mark.parametrize("G", [0, -3, 2.5, "8", True])
def test_bad_sizes_raise(G):
    with pytest.raises(DomainError, match="positive int"):
        hermite_rule(G)
    with pytest.raises(DomainError, match="positive int"):
        hermite_tensor_rule(3, G) if not isinstance(G, str) else hermite_tensor_rule(G, 2)


def test_a_grid_too_large_for_memory_is_refused_before_allocating(monkeypatch):
    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "1GB")
    with pytest.raises(ResourceError, match=r"1000\*\*3 = 1,000,000,000 points needs about 40 GB"):
        hermite_tensor_rule(1000, 3)
    assert hermite_tensor_rule(100, 2)[0].shape == (10_000, 2)
