"""The MLP encoder and the ML2P-VAE model: hand-derived backprop against central finite
differences, the Q-mask, non-negativity of A."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml2p_symbolic.errors import DomainError, ShapeError
from ml2p_symbolic.numeric.encoder import ACTIVATIONS, MLPEncoder
from ml2p_symbolic.numeric.model import ML2PVAE, objective_and_grad
from numdiff import central_differences
from strategies import encoder_architectures, q_matrices


def _relative_error(numeric, analytic):
    worst = 0.0
    for a, b in zip(numeric, analytic):
        if a.size:
            worst = max(worst, np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1.0))
    return worst


@given(encoder_architectures(), st.integers(1, 5), st.integers(1, 3), st.integers(1, 4),
       st.integers(0, 2**32 - 1))
def test_encoder_backprop_matches_finite_differences(arch, n, K, B, seed):
    hidden, acts = arch
    rng = np.random.default_rng(seed)
    enc = MLPEncoder.init(n, K, hidden=hidden, activation=acts, seed=rng)
    for c in enc.biases:
        c += rng.normal(size=c.shape)
    U = rng.random((B, n))
    w_mu, w_lv = rng.normal(size=(B, K)), rng.normal(size=(B, K))

    def f():
        mu, lv = enc(U)
        return float((w_mu * mu).sum() + (w_lv * lv).sum())

    _, _, cache = enc.forward(U)
    analytic = enc.backward(cache, w_mu, w_lv)
    assert _relative_error(central_differences(f, enc.params), analytic) < 1e-6


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivatives_away_from_kinks(name):
    f, df = ACTIVATIONS[name]
    x = np.array([-3.0, -0.7, -0.1, 0.2, 1.3, 4.0])
    h = 1e-6
    numeric = (f(x + h) - f(x - h)) / (2 * h)
    assert np.allclose(df(x, f(x)), numeric, rtol=1e-6, atol=1e-8)


@given(q_matrices(max_items=5, max_traits=3), encoder_architectures(max_layers=1, max_width=4),
       st.integers(1, 3), st.integers(1, 3), st.booleans(), st.booleans(), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_model_gradients_match_finite_differences(Q, arch, B, S, iw, correlated, missing, seed):
    """All parameters (encoder, A on Q-ones, b), both objectives, I or correlated prior."""
    rng = np.random.default_rng(seed)
    n, K = Q.shape
    Sigma = None
    if correlated:
        Sigma = np.full((K, K), 0.3) + 0.7 * np.eye(K)
    model = ML2PVAE.init(Q, hidden=arch[0], activation=arch[1], Sigma=Sigma, seed=rng)
    model.A[...] = Q * rng.uniform(0.2, 2.0, size=Q.shape)
    model.b[...] = rng.normal(size=n)
    U = (rng.random((B, n)) < 0.5).astype(float)
    observed = rng.random((B, n)) < 0.7 if missing else None
    eps = rng.standard_normal((S, B, K))

    def f():
        return float(model.loss_and_grad(U, eps, iw=iw, observed=observed, want_grad=False)[0].sum())

    _, analytic = model.loss_and_grad(U, eps, iw=iw, observed=observed)
    n_enc = len(model.encoder.params)
    skip = lambda j, idx: j == n_enc and not model.Q[idx]  # noqa: E731  (masked A entries)
    numeric = central_differences(f, model.params, skip=skip)
    assert _relative_error(numeric, analytic) < 1e-6


def test_iw_bound_with_one_sample_and_elbo_share_the_likelihood_gradient():
    """With S = 1 the decoder gradients of the IWAE bound and of the ELBO coincide."""
    rng = np.random.default_rng(0)
    U = (rng.random((7, 4)) < 0.5).astype(float)
    A, b = rng.uniform(0.3, 1.5, (4, 2)), rng.normal(size=4)
    mu, lv, eps = rng.normal(size=(7, 2)), rng.normal(size=(7, 2)) * 0.3, rng.normal(size=(1, 7, 2))
    _, g_iw = objective_and_grad(U, A, b, mu, lv, eps, iw=True)
    _, g_el = objective_and_grad(U, A, b, mu, lv, eps, iw=False)
    assert np.allclose(g_iw["A"], g_el["A"]) and np.allclose(g_iw["b"], g_el["b"])


def test_iw_bound_is_tighter_than_elbo_on_average():
    rng = np.random.default_rng(1)
    U = (rng.random((200, 6)) < 0.5).astype(float)
    A, b = rng.uniform(0.3, 1.5, (6, 2)), rng.normal(size=6)
    mu, lv = rng.normal(size=(200, 2)) * 0.5, np.full((200, 2), -1.0)
    elbo = objective_and_grad(U, A, b, mu, lv, rng.normal(size=(1, 200, 2)), want_grad=False)[0]
    iw = objective_and_grad(U, A, b, mu, lv, rng.normal(size=(50, 200, 2)), iw=True, want_grad=False)[0]
    assert iw.mean() < elbo.mean()


def test_elbo_matches_the_evaluator_vae_loss():
    """The model's ELBO (N(0, I) prior) equals ml2p_symbolic.numeric.vae_loss at the same eps."""
    loss_mod = pytest.importorskip("ml2p_symbolic.numeric.loss")
    rng = np.random.default_rng(2)
    U = (rng.random((5, 4)) < 0.5).astype(float)
    A, b = rng.uniform(0.3, 1.5, (4, 3)), rng.normal(size=4)
    mu, lv, eps = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)) * 0.5, rng.normal(size=(2, 5, 3))
    ours, g = objective_and_grad(U, A, b, mu, lv, eps)
    theirs = loss_mod.vae_loss(U, A, b, mu, lv, eps=eps)
    assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    g2 = loss_mod.vae_loss_grad(U, A, b, mu, lv, eps=eps)
    for key in ("A", "b", "mu", "log_var"):
        assert np.allclose(g[key], g2[key], rtol=1e-10, atol=1e-12)


@given(q_matrices(), st.integers(0, 2**32 - 1))
def test_q_mask_and_nonnegativity_are_kept(Q, seed):
    rng = np.random.default_rng(seed)
    model = ML2PVAE.init(Q, hidden=(3,), seed=rng)
    assert np.all(model.A[Q == 0] == 0)
    model.A[...] = rng.normal(size=Q.shape)  # break both constraints
    model.project()
    assert np.all(model.A[Q == 0] == 0) and np.all(model.A >= 0)
    U = (rng.random((4, Q.shape[0])) < 0.5).astype(float)
    _, grads = model.loss_and_grad(U, rng.standard_normal((2, 4, Q.shape[1])))
    assert np.all(grads[-2][Q == 0] == 0)


def test_without_nonnegativity_negative_discriminations_stay():
    Q = np.array([[1, 0], [1, 1], [0, 1]])
    model = ML2PVAE.init(Q, hidden=(), nonneg=False, seed=0)
    model.A[...] = -np.ones((3, 2))
    model.project()
    assert np.all(model.A[Q == 1] == -1) and np.all(model.A[Q == 0] == 0)


def test_decode_is_the_2pl():
    Q = np.array([[1, 0], [1, 1]])
    model = ML2PVAE.init(Q, hidden=(2,), seed=0)
    model.A[...] = [[1.0, 0.0], [0.5, 2.0]]
    model.b[...] = [0.0, 1.0]
    P = model.decode(np.array([[0.0, 0.0], [1.0, 1.0]]))
    expected = 1 / (1 + np.exp(-(np.array([[0.0, 0.0], [1.0, 1.0]]) @ model.A.T - model.b)))
    assert np.allclose(P, expected)


def test_bad_encoder_and_model_inputs_raise():
    with pytest.raises(DomainError, match="activation"):
        MLPEncoder.init(3, 1, hidden=(2,), activation="swish")
    enc = MLPEncoder.init(3, 1, hidden=(2,))
    with pytest.raises(ShapeError, match=r"\(B, 3\)"):
        enc(np.ones((2, 4)))
    with pytest.raises(ShapeError, match="traits"):
        ML2PVAE(enc, np.ones((3, 2)), np.zeros(3), np.ones((3, 2)))
    with pytest.raises(DomainError, match="0 or 1"):
        ML2PVAE(enc, np.ones((3, 1)), np.zeros(3), np.full((3, 1), 2))
    with pytest.raises(DomainError, match="positive definite"):
        ML2PVAE.init(np.ones((3, 2)), Sigma=np.array([[1.0, 2.0], [2.0, 1.0]]))
