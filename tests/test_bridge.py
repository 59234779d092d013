"""The bridge: symbolic expressions, lambdified, agree with the numpy evaluator to 1e-10.

The symbolic loss of eq. (2) with the derived KL (8), and its SymPy derivatives, against
``vae_loss`` / ``vae_loss_grad`` at the same points (one student, n items, K traits).
"""

import math

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ml2p_symbolic.derive import gaussian_kl, rec_gradient, kl_gradient
from ml2p_symbolic.model import ml2p_symbols, reconstruction_loss
from ml2p_symbolic.numeric import vae_loss, vae_loss_grad

M = ml2p_symbols(K=2, n=3)
LOSS = reconstruction_loss(M) + gaussian_kl(M)
SYMS = sorted(LOSS.free_symbols, key=str)
F_LOSS = sp.lambdify(SYMS, LOSS, "mpmath")
F_GRAD = {
    "A": [[sp.lambdify(SYMS, sp.diff(LOSS, M.a_hat[i][k]), "mpmath") for k in range(M.K)] for i in range(M.n)],
    "b": [sp.lambdify(SYMS, sp.diff(LOSS, M.b_hat[i]), "mpmath") for i in range(M.n)],
    "mu": [sp.lambdify(SYMS, sp.diff(LOSS, M.theta_hat[k]), "mpmath") for k in range(M.K)],
    # d/dlog_var = d/dsigmahat * sigmahat / 2
    "log_var": [sp.lambdify(SYMS, sp.diff(LOSS, M.sigma_hat[k]) * M.sigma_hat[k] / 2, "mpmath") for k in range(M.K)],
}


def _vec(draw, n, lo, hi):
    return np.array(draw(st.lists(st.floats(lo, hi), min_size=n, max_size=n)))


@st.composite
def one_student(draw):
    n, K = M.n, M.K
    return dict(
        A=_vec(draw, n * K, -3, 3).reshape(n, K), b=_vec(draw, n, -30, 30),
        mu=_vec(draw, K, -3, 3).reshape(1, K), log_var=_vec(draw, K, -4, 2).reshape(1, K),
        eps=_vec(draw, K, -3, 3).reshape(1, 1, K),
        U=np.array([draw(st.lists(st.sampled_from([0.0, 1.0, 0.25, 0.5]), min_size=n, max_size=n))]),
    )


def _args(x):
    import mpmath

    vals = {}
    for i in range(M.n):
        vals[M.b_hat[i]] = x["b"][i]
        vals[M.u[i]] = x["U"][0, i]
        for k in range(M.K):
            vals[M.a_hat[i][k]] = x["A"][i, k]
    for k in range(M.K):
        vals[M.theta_hat[k]] = x["mu"][0, k]
        vals[M.sigma_hat[k]] = math.exp(x["log_var"][0, k] / 2)
        vals[M.eps[k]] = x["eps"][0, 0, k]
    return [mpmath.mpf(vals[s]) for s in SYMS]


def _rel_close(a, b, tol=1e-10):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


@settings(max_examples=60)
@given(one_student())
def test_symbolic_loss_and_gradients_match_numpy(x):
    import mpmath

    with mpmath.workdps(30):
        args = _args(x)
        sym_loss = float(F_LOSS(*args))
        sym = {key: np.array([[float(f(*args)) for f in row] if isinstance(row, list) else float(row(*args))
                              for row in fs]) for key, fs in F_GRAD.items()}
    num_loss = float(vae_loss(x["U"], x["A"], x["b"], x["mu"], x["log_var"], eps=x["eps"])[0])
    g = vae_loss_grad(x["U"], x["A"], x["b"], x["mu"], x["log_var"], eps=x["eps"])
    assert _rel_close(sym_loss, num_loss)
    for key in ("A", "b", "mu", "log_var"):
        np.testing.assert_allclose(g[key].reshape(-1), sym[key].reshape(-1), rtol=1e-10, atol=1e-10)


def test_derived_gradients_are_those_of_the_seed_notation():
    """rec_gradient/kl_gradient are the pieces of the same derivative."""
    for wrt in (M.theta_hat[0], M.sigma_hat[1]):
        total = sp.diff(LOSS, wrt)
        parts = sp.diff(reconstruction_loss(M), wrt) + kl_gradient(M, wrt)
        assert sp.simplify(total - parts) == 0
    assert rec_gradient(M, M.b_hat[0]).has(M.b_hat[0])


M1 = ml2p_symbols(K=1, n=1)


@settings(max_examples=10)
@given(st.floats(-3, 3), st.floats(-10, 10), st.floats(-3, 3), st.floats(-4, 3), st.sampled_from([0.0, 1.0, 0.3]))
def test_eps_expectation_by_mpmath_matches_numpy_quadrature(a, b, mu, log_var, u):
    """E_eps of the symbolic reconstruction loss (mpmath.quad, 30 digits) vs nodes="auto"."""
    from ml2p_symbolic.engine.expectation import expectation_numeric

    point = {M1.a_hat[0][0]: sp.Float(a, 30), M1.b_hat[0]: sp.Float(b, 30), M1.theta_hat[0]: sp.Float(mu, 30),
             M1.sigma_hat[0]: sp.Float(math.exp(log_var / 2), 30), M1.u[0]: sp.Float(u, 30)}
    sym = float(expectation_numeric(reconstruction_loss(M1), M1.eps, point, dps=30))
    kl = 0.5 * (mu * mu + math.exp(log_var) - 1 - log_var)
    num = float(vae_loss(np.array([[u]]), np.array([[a]]), np.array([b]), np.array([[mu]]),
                         np.array([[log_var]]), nodes="auto")[0]) - kl
    assert _rel_close(sym, num, 1e-10)
