"""simulate(): seeded reproducibility, Q-matrix designs, shapes, correlated traits."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml2p_symbolic.errors import DomainError, ShapeError
from ml2p_symbolic.numeric.simulate import random_correlation, simulate, simulate_q


def test_same_seed_same_data_and_generator_accepted():
    d1, d2 = simulate(300, 12, 3, seed=5), simulate(300, 12, 3, seed=5)
    for name in ("U", "Q", "A", "b", "theta", "Sigma"):
        assert np.array_equal(getattr(d1, name), getattr(d2, name))
    d3 = simulate(300, 12, 3, seed=np.random.default_rng(5))
    assert np.array_equal(d1.U, d3.U)
    assert not np.array_equal(d1.U, simulate(300, 12, 3, seed=6).U)


@given(st.integers(1, 6), st.integers(0, 10), st.integers(0, 2**32 - 1))
def test_ecpe_design_every_trait_has_three_items_and_items_one_or_two_traits(K, extra, seed):
    n = 3 * K + extra
    d = simulate(20, n, K, seed=seed)
    assert d.U.shape == (20, n) and d.theta.shape == (20, K)
    assert d.Q.shape == d.A.shape == (n, K) and d.b.shape == (n,)
    assert np.all(d.Q.sum(axis=0) >= 3)
    assert set(np.unique(d.Q.sum(axis=1))) <= {1, 2}
    assert np.all((d.A > 0) == (d.Q == 1))
    a = d.A[d.Q == 1]
    assert np.all((a >= 0.25) & (a <= 1.75)) and np.all(np.abs(d.b) <= 3)
    assert set(np.unique(d.U)) <= {0.0, 1.0}


@given(st.integers(1, 40), st.integers(1, 6), st.floats(0.01, 1.0), st.integers(0, 2**32 - 1))
def test_bernoulli_design_has_no_empty_row_or_column(n, K, p, seed):
    Q = simulate_q(n, K, q=p, seed=seed)
    assert Q.shape == (n, K) and np.all(Q.sum(axis=1) >= 1) and np.all(Q.sum(axis=0) >= 1)


def test_bernoulli_density_is_about_p():
    Q = simulate_q(2000, 6, q=0.2, seed=0)
    # an empty row (probability 0.8^6) gets one entry: E[mean] = 0.2 + 0.8^6 / 6
    assert abs(Q.mean() - (0.2 + 0.8**6 / 6)) < 0.01


def test_correlated_traits_follow_sigma():
    R = random_correlation(4, low=0.3, high=0.6, seed=1)
    d = simulate(40_000, 12, 4, seed=2, Sigma=R)
    assert np.array_equal(d.Sigma, R)
    assert np.allclose(np.cov(d.theta.T), R, atol=0.03)
    assert np.allclose(np.cov(simulate(40_000, 12, 4, seed=3).theta.T), np.eye(4), atol=0.03)


def test_responses_follow_the_2pl():
    d = simulate(50_000, 3, 1, seed=4)
    p = 1 / (1 + np.exp(-(d.theta @ d.A.T - d.b)))
    assert np.allclose(d.U.mean(axis=0), p.mean(axis=0), atol=0.01)


def test_given_q_is_used():
    Q = np.array([[1, 0], [0, 1], [1, 1]])
    assert np.array_equal(simulate(10, 3, 2, Q=Q, seed=0).Q, Q)


def test_bad_arguments_raise():
    with pytest.raises(ShapeError, match="at least 3 items"):
        simulate(10, 5, 2)
    with pytest.raises(DomainError, match=r"\(0, 1\]"):
        simulate_q(5, 2, q=1.5)
    with pytest.raises(ShapeError, match="Q must have shape"):
        simulate(10, 3, 2, Q=np.ones((2, 2)))
    with pytest.raises(DomainError, match="positive definite"):
        simulate(10, 6, 2, Sigma=np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_memory_estimated_and_refused_before_drawing(monkeypatch):
    from ml2p_symbolic.errors import ResourceError
    from ml2p_symbolic.numeric.simulate import simulation_bytes

    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "1GB")
    assert simulation_bytes(100_000_000, 28, 3) > 70e9
    with pytest.raises(ResourceError, match=r"simulating 100,000,000 students x 28 items needs about "
                                            r"\d+ GB of memory; the limit is 1\.0 GB"):
        simulate(100_000_000, 28, 3, seed=0)


def test_seed_must_be_a_non_negative_int_or_generator():
    from ml2p_symbolic.errors import DomainError

    with pytest.raises(DomainError, match="seed must be an int >= 0"):
        simulate(10, 9, 3, seed=-1)
    with pytest.raises(DomainError, match="seed must be an int >= 0"):
        simulate(10, 9, 3, seed=1.5)
