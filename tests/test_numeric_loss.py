"""Tests of ml2p_symbolic.numeric.loss: values, hand-derived gradients, errors, extremes."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml2p_symbolic.errors import ArgumentError, DomainError, ShapeError
from ml2p_symbolic.numeric import ml2p_prob, vae_loss, vae_loss_grad
from ml2p_symbolic.numeric import loss as loss_module

from strategies import vae_problems

PARAMS = ("A", "b", "mu", "log_var")


def _log_sigmoid(z):
    """log sigmoid(z) with the math module, one number at a time."""
    return -math.log1p(math.exp(-z)) if z >= 0 else z - math.log1p(math.exp(z))


def _direct_loss_eps(U, A, b, mu, log_var, eps):
    """Independent per-element evaluation of REC_j + KL_j with plain loops."""
    S, N, K = eps.shape
    n = A.shape[0]
    out = []
    for j in range(N):
        rec = 0.0
        for s in range(S):
            for i in range(n):
                z = sum(
                    A[i, k] * (mu[j, k] + eps[s, j, k] * math.exp(log_var[j, k] / 2))
                    for k in range(K)
                ) - b[i]
                u = U[j, i]
                rec -= u * _log_sigmoid(z) + (1 - u) * _log_sigmoid(-z)
        kl = -0.5 * sum(
            1 + log_var[j, k] - mu[j, k] ** 2 - math.exp(log_var[j, k]) for k in range(K)
        )
        out.append(rec / S + kl)
    return np.array(out)


def _finite_difference_grad(problem, kw):
    """Gradient of vae_loss(...).sum() by the 4-point central difference, entry by entry."""
    args = {k: problem[k] for k in ("U",) + PARAMS}
    grads = {}
    for name in PARAMS:
        x = args[name]
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            h = 1e-4 * (1.0 + abs(x[idx]))
            vals = []
            for step in (2, 1, -1, -2):
                xs = x.copy()
                xs[idx] += step * h
                vals.append(vae_loss(**{**args, name: xs}, **kw).sum())
            g[idx] = (-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * h)
        grads[name] = g
    return grads


def _assert_grads_close(problem, kw, tol=1e-6):
    args = {k: problem[k] for k in ("U",) + PARAMS}
    got = vae_loss_grad(**args, **kw)
    want = _finite_difference_grad(problem, kw)
    for name in PARAMS:
        assert got[name].shape == problem[name].shape
        scale = max(1.0, np.abs(want[name]).max())
        err = np.abs(got[name] - want[name]).max() / scale
        assert err < tol, (name, err, got[name], want[name])


@given(vae_problems())
def test_gradient_with_eps_matches_finite_differences(problem):
    _assert_grads_close(problem, {"eps": problem["eps"]})


@given(vae_problems(), st.integers(1, 12))
def test_gradient_with_hermite_nodes_matches_finite_differences(problem, G):
    _assert_grads_close(problem, {"nodes": G})


@settings(max_examples=60)
@given(vae_problems())
def test_gradient_with_auto_nodes_matches_finite_differences(problem):
    _assert_grads_close(problem, {"nodes": "auto"})


@given(vae_problems())
def test_loss_with_eps_matches_direct_loops(problem):
    args = {k: problem[k] for k in ("U",) + PARAMS}
    got = vae_loss(**args, eps=problem["eps"])
    want = _direct_loss_eps(**args, eps=problem["eps"])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_loss_with_eps_matches_direct_loops_over_several_blocks(monkeypatch):
    monkeypatch.setattr(loss_module, "BLOCK_ELEMENTS", 7)  # one student per block
    rng = np.random.default_rng(3)
    N, n, K, S = 5, 3, 2, 2
    p = dict(
        U=rng.random((N, n)),
        A=rng.normal(size=(n, K)),
        b=rng.normal(size=n),
        mu=rng.normal(size=(N, K)),
        log_var=rng.normal(size=(N, K)),
    )
    eps = rng.normal(size=(S, N, K))
    np.testing.assert_allclose(
        vae_loss(**p, eps=eps), _direct_loss_eps(**p, eps=eps), rtol=1e-12
    )
    g_blocks = vae_loss_grad(**p, nodes=6)
    monkeypatch.setattr(loss_module, "BLOCK_ELEMENTS", 1 << 20)
    g_one = vae_loss_grad(**p, nodes=6)
    for name in PARAMS:
        np.testing.assert_allclose(g_blocks[name], g_one[name], rtol=1e-12, atol=1e-14)


def test_hermite_nodes_match_tensor_product_rule_over_traits():
    """The 1-D reduction z_hat ~ N(m, s^2) equals the K-dimensional expectation."""
    rng = np.random.default_rng(7)
    N, n, K, G = 3, 4, 2, 40
    A = rng.normal(size=(n, K)) * 0.5
    b = rng.normal(size=n)
    mu = rng.normal(size=(N, K))
    log_var = rng.normal(size=(N, K)) * 0.5 - 1.0
    U = (rng.random((N, n)) < 0.5).astype(float)
    x, w = np.polynomial.hermite_e.hermegauss(G)
    w = w / w.sum()
    # tensor-product eps draws with weights: all G^K node pairs
    e1, e2 = np.meshgrid(x, x, indexing="ij")
    W = np.outer(w, w).ravel()
    eps = np.stack([e1.ravel(), e2.ravel()], axis=-1)  # (G^2, K)
    want = np.zeros(N)
    for q in range(G * G):
        draw = np.broadcast_to(eps[q], (1, N, K))
        want += W[q] * vae_loss(U, A, b, mu, log_var, eps=draw)
    np.testing.assert_allclose(vae_loss(U, A, b, mu, log_var, nodes="auto"), want, rtol=1e-10)


def test_hermite_rule_agrees_with_monte_carlo_within_four_standard_errors():
    rng = np.random.default_rng(20240601)
    N, n, K, S = 4, 6, 3, 20_000
    A = rng.normal(size=(n, K))
    b = rng.normal(size=n)
    mu = rng.normal(size=(N, K))
    log_var = rng.normal(size=(N, K))
    U = rng.random((N, n))
    eps = rng.normal(size=(1, S * N, K))
    # each (draw, student) pair as its own "student" gives the per-draw losses
    per_draw = vae_loss(
        np.tile(U, (S, 1)), A, b, np.tile(mu, (S, 1)), np.tile(log_var, (S, 1)), eps=eps
    ).reshape(S, N)
    mc, se = per_draw.mean(axis=0), per_draw.std(axis=0, ddof=1) / math.sqrt(S)
    for nodes in (40, "auto"):
        quad = vae_loss(U, A, b, mu, log_var, nodes=nodes)
        assert np.all(np.abs(quad - mc) < 4 * se), (nodes, quad, mc, se)


@pytest.mark.parametrize("kw", [{"eps": "draws"}, {"nodes": 8}, {"nodes": "auto"}])
def test_losses_and_gradients_finite_at_the_extremes(kw):
    N, n, K = 4, 3, 2
    A = np.array([[1e4, 0.0], [-1e4, 1e-3], [0.0, 0.0]])
    b = np.array([0.0, 1e4, -1e4])
    mu = np.array([[1.0, -1.0], [-1.0, 1.0], [0.0, 0.0], [1.0, 1.0]])
    log_var = np.array([[-30.0, 30.0], [30.0, -30.0], [-30.0, -30.0], [30.0, 30.0]])
    U = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.5, 1.0]])
    if "eps" in kw:
        kw = {"eps": np.random.default_rng(0).normal(size=(2, N, K))}
    loss = vae_loss(U, A, b, mu, log_var, **kw)
    grads = vae_loss_grad(U, A, b, mu, log_var, **kw)
    assert np.all(np.isfinite(loss))
    for name in PARAMS:
        assert np.all(np.isfinite(grads[name])), name
    # z_hat of order 1e4 with the "right" answer costs nothing, the wrong one ~1e4
    small = dict(A=np.array([[1e4]]), b=np.array([0.0]), mu=np.array([[1.0]]))
    ok = vae_loss([[1.0]], **small, log_var=[[-30.0]], nodes="auto")
    bad = vae_loss([[0.0]], **small, log_var=[[-30.0]], nodes="auto")
    assert ok[0] == pytest.approx(0.5 * (30 - 1 + 1 + math.exp(-30)), abs=1e-9)
    assert bad[0] - ok[0] == pytest.approx(1e4, rel=1e-12)


def test_ml2p_prob_matches_direct_formula_and_saturates():
    A = np.array([[1.0, 2.0], [0.5, -1.0], [1e4, 0.0]])
    b = np.array([0.5, -0.2, 0.0])
    theta = np.array([[0.3, -0.1], [1.0, 2.0], [-1.0, 0.0]])
    P = ml2p_prob(A, b, theta)
    assert P.shape == (3, 3)
    for j in range(3):
        for i in range(2):
            z = A[i] @ theta[j] - b[i]
            assert P[j, i] == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-14)
    assert P[1, 2] == 1.0 and P[2, 2] == 0.0


def _good():
    return dict(
        U=np.zeros((2, 3)),
        A=np.ones((3, 2)),
        b=np.zeros(3),
        mu=np.zeros((2, 2)),
        log_var=np.zeros((2, 2)),
    )


@pytest.mark.parametrize(
    "change, kw, error, words",
    [
        ({"A": np.ones((3, 2, 1))}, {"nodes": 4}, ShapeError, ["A", "(n, K)"]),
        ({"b": np.zeros(4)}, {"nodes": 4}, ShapeError, ["b", "(n,)"]),
        ({"mu": np.zeros((2, 3))}, {"nodes": 4}, ShapeError, ["mu", "(N, K)"]),
        ({"log_var": np.zeros((3, 2))}, {"nodes": 4}, ShapeError, ["log_var", "(N, K)"]),
        ({"U": np.zeros((2, 4))}, {"nodes": 4}, ShapeError, ["U", "(N, n)"]),
        ({}, {"eps": np.zeros((1, 2, 3))}, ShapeError, ["eps", "(S, N, K)"]),
        ({}, {"eps": np.zeros((2, 2))}, ShapeError, ["eps", "(S, N, K)"]),
        ({"mu": np.array([[0.0, np.nan], [0, 0]])}, {"nodes": 4}, DomainError, ["mu", "NaN"]),
        ({"A": np.full((3, 2), np.inf)}, {"nodes": 4}, DomainError, ["A", "infinite"]),
        ({}, {"eps": np.full((1, 2, 2), -np.inf)}, DomainError, ["eps", "infinite"]),
        ({"U": np.full((2, 3), 1.5)}, {"nodes": 4}, DomainError, ["U", "[0, 1]"]),
        ({"U": np.full((2, 3), -0.1)}, {"nodes": 4}, DomainError, ["U", "[0, 1]"]),
        ({}, {"nodes": 0}, DomainError, ["nodes", "positive"]),
        ({}, {"nodes": -3}, DomainError, ["nodes", "positive"]),
        ({}, {"nodes": 2.5}, DomainError, ["nodes", "auto"]),
        ({}, {"nodes": True}, DomainError, ["nodes"]),
        ({}, {"nodes": "gauss"}, DomainError, ["nodes", "auto"]),
        ({}, {}, ArgumentError, ["eps", "nodes", "neither"]),
        ({}, {"nodes": 3, "eps": np.zeros((1, 2, 2))}, ArgumentError, ["both"]),
    ],
)
@pytest.mark.parametrize("fn", [vae_loss, vae_loss_grad])
def test_bad_inputs_raise_value_errors_naming_the_problem(fn, change, kw, error, words):
    with pytest.raises(error) as info:
        fn(**{**_good(), **change}, **kw)
    assert isinstance(info.value, ValueError)
    for word in words:
        assert word in str(info.value)


def test_ml2p_prob_rejects_mismatched_shapes():
    with pytest.raises(ShapeError, match="theta"):
        ml2p_prob(np.ones((3, 2)), np.zeros(3), np.zeros((4, 3)))
    with pytest.raises(DomainError, match="theta"):
        ml2p_prob(np.ones((3, 2)), np.zeros(3), np.full((4, 2), np.nan))


@pytest.mark.parametrize("kw", [{"nodes": 8}, {"nodes": "auto"}, {"eps": np.zeros((1, 2, 2))}])
@pytest.mark.parametrize("fn", [vae_loss, vae_loss_grad])
def test_log_var_whose_variance_overflows_raises_naming_it(fn, kw):
    """exp(710) overflows: the loss would be inf and its gradients NaN (with only a warning)."""
    args = _good()
    args["log_var"] = np.array([[0.0, 0.0], [710.0, 0.0]])
    with pytest.raises(DomainError, match=r"log_var is too large: log_var\[1, 0\] = 710 .* below 709\.78"):
        fn(**args, **kw)
    args["log_var"] = np.array([[0.0, 0.0], [700.0, 0.0]])
    out = fn(**args, **kw)
    values = out.values() if isinstance(out, dict) else [out]
    assert all(np.all(np.isfinite(v)) for v in values)


def test_messages_show_plain_numbers_not_numpy_reprs():
    args = _good()
    args["U"] = np.full((2, 3), 2.0)
    with pytest.raises(DomainError) as info:
        vae_loss(**args, nodes=4)
    assert "[2.0, 2.0]" in str(info.value) and "np." not in str(info.value)
    with pytest.raises(DomainError) as info:
        vae_loss(**_good(), nodes=np.float64(2.5))
    assert "got 2.5" in str(info.value) and "np." not in str(info.value)
