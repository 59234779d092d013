"""The estimated latent correlation matrix: the parametrisation R = L L' (unit-norm rows of L)
is a correlation matrix for every parameter value; its gradients, and the model's gradient in
the correlation parameters (ELBO and IWAE), match central finite differences."""

import numpy as np
import pytest
from hypothesis import given

from ml2p_symbolic.errors import ArgumentError, DomainError, ShapeError
from ml2p_symbolic.numeric.correlation import (cholesky_from_params, correlation_from_params,
                                               correlation_params_grad, correlation_precision,
                                               n_correlation_params, params_from_correlation)
from ml2p_symbolic.numeric.model import ML2PVAE, objective_and_grad
from numdiff import central_differences
from strategies import correlation_parameters


@given(correlation_parameters(bound=8.0))
def test_every_parameter_value_gives_a_correlation_matrix(wK):
    w, K = wK
    R = correlation_from_params(w, K)
    L = cholesky_from_params(w, K)
    assert R.shape == (K, K) and np.array_equal(R, R.T)
    assert np.all(np.diag(R) == 1.0)
    assert np.all(np.abs(R) <= 1.0 + 1e-12)
    assert np.linalg.eigvalsh(R).min() > 0  # positive definite
    # L is R's Cholesky factor (lower triangular, positive diagonal) and w is recovered
    assert np.allclose(np.linalg.cholesky(R), L, atol=1e-7) and np.all(np.diag(L) > 0)
    assert np.allclose(params_from_correlation(R), w, atol=1e-5 * (1 + np.abs(w)))
    P, logdet_P = correlation_precision(w, K)
    assert np.allclose(P @ R, np.eye(K), atol=1e-6 * np.abs(P).max())
    assert logdet_P == pytest.approx(-np.linalg.slogdet(R)[1], abs=1e-8 * max(1.0, abs(logdet_P)))


def test_extreme_parameters_still_give_a_positive_definite_matrix():
    for v in (20.0, -20.0):
        R = correlation_from_params(np.full(15, v), 6)
        assert np.all(np.diag(R) == 1.0) and np.linalg.eigvalsh(R).min() > 0
        np.linalg.cholesky(R)


def test_zero_parameters_are_the_identity_and_counts():
    assert np.array_equal(correlation_from_params(np.zeros(3), 3), np.eye(3))
    assert [n_correlation_params(K) for K in (1, 2, 3, 6)] == [0, 1, 3, 15]
    R = np.array([[1.0, 0.6], [0.6, 1.0]])
    assert params_from_correlation(R) == pytest.approx([0.6 / 0.8])  # L_21 / L_22


@given(correlation_parameters(min_traits=2, max_traits=4, bound=3.0))
def test_params_grad_is_the_chain_rule_of_a_loss_of_r(wK):
    w, K = wK
    C = np.arange(K * K, dtype=float).reshape(K, K) / K ** 2 - 0.3  # not symmetric on purpose

    def f():
        R = correlation_from_params(w, K)
        return float((C * R).sum() + 0.5 * np.log(np.linalg.det(R)))

    G = C + 0.5 * np.linalg.inv(correlation_from_params(w, K)).T  # df/dR
    numeric = central_differences(f, [w], h=1e-6)[0]
    assert np.allclose(correlation_params_grad(w, K, G), numeric, atol=1e-6)


@pytest.mark.parametrize("iw_samples", [1, 2, 5])
def test_objective_gradient_in_sigma_matches_finite_differences(iw_samples):
    rng = np.random.default_rng(iw_samples)
    B, n, K = 4, 5, 3
    U = (rng.random((B, n)) < 0.5).astype(float)
    A, b = rng.uniform(0.3, 1.5, (n, K)), rng.normal(size=n)
    mu, log_var = rng.normal(size=(B, K)), rng.normal(size=(B, K)) * 0.5 - 0.5
    eps = rng.standard_normal((iw_samples, B, K))
    Sigma = correlation_from_params(rng.normal(size=3), K)

    def f():
        P = np.linalg.inv(Sigma)
        return objective_and_grad(U, A, b, mu, log_var, eps, precision=P,
                                  logdet_precision=-np.linalg.slogdet(Sigma)[1],
                                  iw=iw_samples > 1, want_grad=False)[0].sum()

    P = np.linalg.inv(Sigma)
    _, g = objective_and_grad(U, A, b, mu, log_var, eps, precision=P,
                              logdet_precision=-np.linalg.slogdet(Sigma)[1], iw=iw_samples > 1,
                              sigma_grad=True)
    numeric = central_differences(f, [Sigma], h=1e-6)[0]  # every entry on its own
    assert np.allclose(g["Sigma"], numeric, atol=1e-6)


@pytest.mark.parametrize("iw_samples", [1, 4])
def test_model_gradient_in_the_correlation_parameters_matches_finite_differences(iw_samples):
    rng = np.random.default_rng(7)
    Q = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]])
    U = (rng.random((6, 6)) < 0.5).astype(float)
    m = ML2PVAE.init(Q, hidden=(5,), seed=1, estimate_correlation=True, U=U)
    m.corr[:] = rng.normal(size=3)
    m.A[Q == 1] = rng.uniform(0.3, 1.5, int(Q.sum()))
    eps = rng.standard_normal((iw_samples, 6, 3))
    iw = iw_samples > 1
    _, grads = m.loss_and_grad(U, eps, iw=iw)
    assert len(grads) == len(m.params) and grads[-1].shape == m.corr.shape == (3,)

    def f():
        return m.loss_and_grad(U, eps, iw=iw, want_grad=False)[0].sum()

    A_index = len(m.params) - 3
    numeric = central_differences(f, m.params, h=1e-6,
                                  skip=lambda j, idx: j == A_index and Q[idx] == 0)
    for g, num in zip(grads, numeric):
        assert np.allclose(g, num, atol=1e-6 * max(1.0, np.abs(num).max()))
    assert np.abs(grads[-1]).max() > 1e-3  # the correlation parameters do move the loss


def test_model_sigma_is_the_current_correlation_matrix_and_copies_keep_it():
    Q = np.array([[1, 0], [0, 1], [1, 1]])
    m = ML2PVAE.init(Q, hidden=(3,), seed=0, estimate_correlation=True)
    assert np.array_equal(m.Sigma, np.eye(2))
    m.corr[:] = 0.75
    assert m.Sigma[0, 1] == pytest.approx(0.6)
    c = m.copy()
    m.corr[:] = 0.0
    assert c.Sigma[0, 1] == pytest.approx(0.6) and m.Sigma[0, 1] == 0.0
    assert ML2PVAE.init(Q, hidden=(3,), seed=0).corr is None


def test_bad_correlation_arguments_raise():
    Q = np.array([[1, 0], [0, 1]])
    enc = ML2PVAE.init(Q, hidden=(3,), seed=0).encoder
    with pytest.raises(ArgumentError, match="not both"):
        ML2PVAE(enc, Q, np.zeros(2), Q, Sigma=np.eye(2), corr=np.zeros(1))
    with pytest.raises(ShapeError, match=r"corr must have shape \(1,\)"):
        ML2PVAE(enc, Q, np.zeros(2), Q, corr=np.zeros(3))
    with pytest.raises(DomainError, match="K >= 2"):
        ML2PVAE.init(np.ones((3, 1), int), hidden=(3,), estimate_correlation=True)
    with pytest.raises(ShapeError, match="3 free parameters"):
        correlation_from_params(np.zeros(2), 3)
    with pytest.raises(DomainError, match="finite"):
        correlation_from_params(np.array([np.nan]), 2)
    with pytest.raises(DomainError, match="positive definite"):
        params_from_correlation(np.ones((2, 2)))
    with pytest.raises(DomainError, match="unit diagonal"):
        params_from_correlation(2 * np.eye(2))
