"""Derivations (4), (5), (8) and the KL derivatives against independent evaluations."""

import math

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from ml2p_symbolic.derive import (Z, ZHAT, d_rec_d_zhat, gaussian_kl, gaussian_kl_1d,
                                  general_K_zhat_partials, kl_gradient, rec_gradient)
from ml2p_symbolic.model import expected_reconstruction, ml2p_symbols
from strategies import model_points, reals

_DERIV = sp.lambdify((Z, ZHAT), d_rec_d_zhat(), "mpmath")


def _sigmoid(x):
    return 0.5 * (1 + math.tanh(x / 2))


@given(reals(-60, 60), reals(-60, 60))
def test_cross_entropy_derivative_is_sigmoid_difference(zv, zh):
    import mpmath

    with mpmath.workdps(60):
        got = float(_DERIV(mpmath.mpf(zv), mpmath.mpf(zh)))
    assert got == pytest.approx(_sigmoid(zh) - _sigmoid(zv), rel=1e-9, abs=1e-15)


M = ml2p_symbols(K=2, n=2)
LOSS = expected_reconstruction(M)
_SYMS = sorted(LOSS.free_symbols, key=str)
_LOSS_MP = sp.lambdify(_SYMS, LOSS, "mpmath")


_GRADS = {name: sp.lambdify(_SYMS, rec_gradient(M, wrt), "mpmath")
          for name, wrt in (("a_hat", M.a_hat[1][0]), ("b_hat", M.b_hat[0]), ("theta_hat", M.theta_hat[1]))}


def _mp_point(pt, **override):
    import mpmath

    vals = {**pt, **override}
    return [mpmath.mpf(sp.Rational(vals[s]).p) / sp.Rational(vals[s]).q for s in _SYMS]


@given(model_points(M, logit_scale=5.0), st.sampled_from(["a_hat", "b_hat", "theta_hat"]))
def test_rec_gradient_matches_central_differences(pt, which):
    wrt = {"a_hat": M.a_hat[1][0], "b_hat": M.b_hat[0], "theta_hat": M.theta_hat[1]}[which]
    import mpmath

    grad = _GRADS[which]
    h = sp.Rational(1, 10**10)
    with mpmath.workdps(50):
        g = grad(*_mp_point(pt))
        up = _LOSS_MP(*_mp_point({**pt, wrt: pt[wrt] + h}))
        down = _LOSS_MP(*_mp_point({**pt, wrt: pt[wrt] - h}))
        fd = (up - down) / (2 * mpmath.mpf(h.p) / h.q)
    assert float(g) == pytest.approx(float(fd), rel=1e-8, abs=1e-12)


def test_gaussian_kl_matches_numeric_integral():
    import mpmath

    expr, mu, s = gaussian_kl_1d()
    for mv, sv in [(0.3, 0.7), (-2.0, 3.0), (1.5, 0.05)]:
        q = lambda x: mpmath.npdf(x, mv, sv)  # noqa: E731
        direct = mpmath.quad(lambda x: q(x) * mpmath.log(q(x) / mpmath.npdf(x)), [-mpmath.inf, mv, mpmath.inf])
        assert float(expr.subs({mu: mv, s: sv})) == pytest.approx(float(direct), rel=1e-10)


@given(st.lists(reals(-5, 5), min_size=2, max_size=2), st.lists(st.floats(0.05, 5), min_size=2, max_size=2))
def test_kl_gradients(thetas, sigmas):
    m = ml2p_symbols(K=2)
    pt = {**dict(zip(m.theta_hat, thetas)), **dict(zip(m.sigma_hat, sigmas))}
    for k in range(2):
        assert float(kl_gradient(m, m.theta_hat[k]).subs(pt)) == pytest.approx(thetas[k], abs=1e-12)
        assert float(kl_gradient(m, m.sigma_hat[k]).subs(pt)) == pytest.approx(sigmas[k] - 1 / sigmas[k], rel=1e-12)
    total = sum(0.5 * (t * t + s * s - 1) - math.log(s) for t, s in zip(thetas, sigmas))
    assert float(gaussian_kl(m).subs(pt)) == pytest.approx(total, rel=1e-12, abs=1e-12)


def test_general_K_partials_are_the_chain_rule_factors():
    partials, (K, l) = general_K_zhat_partials()
    th, eps, sig, ah = (sp.IndexedBase(n) for n in ("thetahat", "varepsilon", "sigmahat", "ahat"))
    assert sp.simplify(partials["a_hat"] - (th[l] + eps[l] * sig[l])) == 0
    assert partials["b_hat"] == -1
    assert sp.simplify(partials["theta_hat"] - ah[l]) == 0
