r"""The VAE's diagonal-Gaussian encoder: the best :math:`q = \mathcal N(\hat\theta, \mathrm{diag}\,\hat\sigma^2)` per pattern.

For a decoder :math:`(\hat A, \hat b)` and a pattern :math:`u`, the encoder minimises the
negative ELBO

.. math:: f_u(q) = -E_q\log p(u\mid\theta; \hat A, \hat b) + \mathrm{KL}(q\,\|\,\mathcal N(0, \Sigma)),

.. math:: \mathrm{KL}(\mathcal N(m, D)\,\|\,\mathcal N(0, \Sigma)) = \tfrac12\big[\mathrm{tr}(\Sigma^{-1}D)
          + m^\top\Sigma^{-1}m - K + \log\det\Sigma - \log\det D\big],

with :math:`D = \mathrm{diag}(s^2)`. Under :math:`q` each logit :math:`\hat z_i` is exactly
:math:`\mathcal N(m_i, v_i)`, :math:`m_i = \hat a_i\cdot\hat\theta - \hat b_i`,
:math:`v_i = \sum_k \hat a_{ik}^2 s_k^2`, so the reconstruction term is a sum of
one-dimensional Gaussian expectations (``nodes``-point Gauss-Hermite). The prior enters
only the KL term, hence only the encoder's own problem: the derivatives in the decoder at
the optimal :math:`q` (envelope theorem, implicit differentiation) keep their form.
"""

from __future__ import annotations

import numpy as np

from ..numeric.gauss_hermite import hermite_rule
from ..numeric.special import sigmoid, softplus
from .patterns import _CHUNK, check_cost, check_items, check_nodes, make_prior, patterns

__all__ = ["best_gaussian_encoder"]


def _F(m, v, nodes, order):
    r"""F(m, v) = E softplus(m + sqrt(v) eps) and derivatives (Stein: d/dv = 1/2 d^2/dm^2)."""
    x, w = hermite_rule(nodes)
    z = m[..., None] + np.sqrt(v)[..., None] * x
    F = softplus(z) @ w
    if order == 0:
        return (F,)
    s = sigmoid(z)
    s1 = s * (1 - s)
    Fm = s @ w
    Fv = 0.5 * (s1 @ w)
    if order == 1:
        return F, Fm, Fv
    Fmm = 2 * Fv
    Fmv = 0.5 * ((s1 * (1 - 2 * s)) @ w)
    Fvv = 0.25 * ((s1 * (1 - 6 * s1)) @ w)
    return F, Fm, Fv, Fmm, Fmv, Fvv


def kl_to_prior(mu, lam, prior):
    r"""KL(N(mu, diag e^lam) || N(0, Sigma)) row by row: 1/2[tr(P D) + mu'P mu - K + log det Sigma - sum lam]."""
    P = prior.precision
    w = np.exp(lam)
    K = mu.shape[1]
    return 0.5 * (w @ np.diag(P) + np.einsum("pk,kl,pl->p", mu, P, mu) - K + prior.logdet - lam.sum(axis=1))


def objective(x, U, mu, lam, nodes, order, prior):
    """Per-pattern negative ELBO f_u(mu, lam) with lam = log s^2, and its q-derivatives."""
    a, bb = x[:, :-1], x[:, -1]
    w = np.exp(lam)
    m = mu @ a.T - bb  # (P, n)
    v = w @ (a**2).T
    res = _F(m, v, nodes, order)
    f = -(U * m).sum(axis=1) + res[0].sum(axis=1) + kl_to_prior(mu, lam, prior)
    if order == 0:
        return f, None
    F, Fm, Fv = res[:3]
    a2 = a**2
    Pd = np.diag(prior.precision)
    g_mu = (Fm - U) @ a + mu @ prior.precision
    g_lam = (Fv @ a2) * w + 0.5 * (Pd * w - 1)
    out = {"f": f, "m": m, "v": v, "w": w, "Fm": Fm, "Fv": Fv, "g": np.hstack([g_mu, g_lam])}
    if order >= 2:
        Fmm, Fmv, Fvv = res[3:]
        K = a.shape[1]
        Hmm = np.einsum("pi,ik,il->pkl", Fmm, a, a) + prior.precision
        Hml = np.einsum("pi,ik,il->pkl", Fmv, a, a2) * w[:, None, :]
        Hll = np.einsum("pi,ik,il->pkl", Fvv, a2, a2) * w[:, :, None] * w[:, None, :]
        Hll[:, np.arange(K), np.arange(K)] += (Fv @ a2) * w + 0.5 * Pd * w
        H = np.concatenate(
            [np.concatenate([Hmm, Hml], axis=2), np.concatenate([Hml.transpose(0, 2, 1), Hll], axis=2)],
            axis=1,
        )
        out.update(Fmm=Fmm, Fmv=Fmv, Fvv=Fvv, H=H)
    return f, out


def solve_q(x, U, nodes, prior, mu=None, lam=None, tol=1e-12, max_iter=60):
    """Damped Newton per pattern for the best diagonal Gaussian q; returns (mu, lam).

    Starts (without ``mu``, ``lam``) from the best diagonal Gaussian for the prior alone,
    mu = 0 and s_k^2 = 1 / (Sigma^-1)_kk.
    """
    P = U.shape[0]
    K = x.shape[1] - 1
    mu = np.zeros((P, K)) if mu is None else mu.copy()
    lam = np.tile(-np.log(np.diag(prior.precision)), (P, 1)) if lam is None else lam.copy()
    for _ in range(max_iter):
        f, d = objective(x, U, mu, lam, nodes, 2, prior)
        g, H = d["g"], d["H"]
        if np.max(np.abs(g)) < tol:
            break
        ev = np.linalg.eigvalsh(H)
        shift = np.maximum(0.0, 1e-8 - ev[:, 0])
        Hs = H + shift[:, None, None] * np.eye(2 * K)
        step = -np.linalg.solve(Hs, g[..., None])[..., 0]
        t = np.ones(P)
        active = np.ones(P, dtype=bool)
        for _ in range(40):
            mu_c = mu + t[:, None] * step[:, :K]
            lam_c = np.clip(lam + t[:, None] * step[:, K:], -60, 60)
            f_c, _ = objective(x, U, mu_c, lam_c, nodes, 0, prior)
            ok = f_c <= f + 1e-4 * t * (g * step).sum(axis=1) + 1e-13 * np.abs(f)
            active &= ~ok
            if not active.any():
                break
            t = np.where(active, 0.5 * t, t)
        mu = mu + t[:, None] * step[:, :K]
        lam = np.clip(lam + t[:, None] * step[:, K:], -60, 60)
    return mu, lam


def best_gaussian_encoder(A_hat, b_hat, *, Sigma=None, nodes=64):
    r"""The best diagonal-Gaussian encoder of the decoder :math:`(\hat A, \hat b)` for every pattern.

    For each pattern :math:`u`, minimises over :math:`q = \mathcal N(\hat\theta, \mathrm{diag}\,s^2)`

    .. math:: f_u(q) = -\sum_i\big[u_i m_i - E\log(1 + e^{m_i + \sqrt{v_i}\,\varepsilon})\big]
              + \tfrac12\big[\mathrm{tr}(\Sigma^{-1}D) + \hat\theta^\top\Sigma^{-1}\hat\theta
              - K + \log\det\Sigma - \log\det D\big],

    where :math:`D = \mathrm{diag}(s^2)`, :math:`m_i = \hat a_i\cdot\hat\theta - \hat b_i` and
    :math:`v_i = \sum_k \hat a_{ik}^2 s_k^2` (under :math:`q`, :math:`\hat z_i` is exactly
    :math:`\mathcal N(m_i, v_i)`, so the expectation is one-dimensional; it is taken by
    ``nodes``-point Gauss-Hermite). ``Sigma``: the prior covariance (``None``: :math:`I`,
    when the KL term is :math:`-\tfrac12\sum_k(1 + \log s_k^2 - \hat\theta_k^2 - s_k^2)`).
    The objective is convex in :math:`(\hat\theta, s)`; a damped Newton method in
    :math:`(\hat\theta, \log s^2)` drives the gradient below 1e-12.

    Returns ``(mu, s, f)`` (:math:`\hat\theta`, :math:`s`, :math:`f_u`) with shapes
    ``(2**n, K)``, ``(2**n, K)``, ``(2**n,)``.

    Examples
    --------
    >>> mu, s, f = best_gaussian_encoder([[1.5]], [0.0])
    >>> mu.round(4).ravel(), s.round(4).ravel()  # patterns u = 0 and u = 1
    (array([-0.6..., 0.6...]), array([0.8..., 0.8...]))
    """
    A_hat, b_hat = check_items(A_hat, b_hat, "A_hat, b_hat")
    nodes = check_nodes(nodes)
    prior = make_prior(Sigma, A_hat.shape[1])
    check_cost(A_hat.shape[0], A_hat.shape[1], nodes, "gaussian", what="the best Gaussian encoders")
    x = np.hstack([A_hat, b_hat[:, None]])
    U = patterns(x.shape[0])
    mu, lam = solve_q(x, U, nodes, prior)
    f, _ = objective(x, U, mu, lam, nodes, 0, prior)
    return mu, np.exp(0.5 * lam), f


def gaussian_terms(x, p, nodes, order, prior, warm=None):
    """Value (and gradient, Hessian) of sum_u p(u) min_q f_u(q; x), chunked over patterns.

    Returns ``(value, [grad, [hess,]] (mu, lam))`` with the optimal q of every pattern, which
    can be passed back as ``warm`` to start the next inner solve.
    """
    n, K1 = x.shape
    U = patterns(n)
    mu_all = np.zeros((U.shape[0], K1 - 1))
    lam_all = np.zeros((U.shape[0], K1 - 1))
    value = 0.0
    grad = np.zeros((n, K1))
    hess = np.zeros((n * K1, n * K1))
    step = max(1, (_CHUNK // 2) // (n * nodes))
    for start in range(0, U.shape[0], step):
        sl = slice(start, min(U.shape[0], start + step))
        w0 = (warm[0][sl], warm[1][sl]) if warm is not None else (None, None)
        res = _chunk(x, U[sl], p[sl], nodes, order, prior, *w0)
        value += res[0]
        if order >= 1:
            grad += res[1]
        if order >= 2:
            hess += res[2]
        mu_all[sl], lam_all[sl] = res[-1]
    out = (value,) + ((grad,) if order >= 1 else ()) + ((0.5 * (hess + hess.T),) if order >= 2 else ())
    return out + ((mu_all, lam_all),)


def _chunk(x, U, p, nodes, order, prior, mu0, lam0):
    n, K1 = x.shape
    K = K1 - 1
    mu, lam = solve_q(x, U, nodes, prior, mu0, lam0)
    f, d = objective(x, U, mu, lam, nodes, order, prior)
    value = float(p @ f)
    if order == 0:
        return value, (mu, lam)
    P = U.shape[0]
    a = x[:, :-1]
    w = d["w"]
    Fm, Fv = d["Fm"], d["Fv"]
    # envelope theorem: d/dx of f_u at the optimal q_u (the KL term does not depend on x)
    dm = np.concatenate([np.broadcast_to(mu[:, None, :], (P, n, K)), -np.ones((P, n, 1))], axis=2)
    dv = np.concatenate([2 * a[None, :, :] * w[:, None, :], np.zeros((P, n, 1))], axis=2)
    gx = (Fm - U)[..., None] * dm + Fv[..., None] * dv  # (P, n, K+1)
    grad = np.einsum("p,pia->ia", p, gx)
    if order == 1:
        return value, grad, (mu, lam)
    Fmm, Fmv, Fvv, Hq = d["Fmm"], d["Fmv"], d["Fvv"], d["H"]
    # direct second derivatives, block diagonal over items
    Bxx = (Fmm[..., None, None] * dm[..., :, None] * dm[..., None, :]
           + Fmv[..., None, None] * (dm[..., :, None] * dv[..., None, :] + dv[..., :, None] * dm[..., None, :])
           + Fvv[..., None, None] * dv[..., :, None] * dv[..., None, :])
    idx = np.arange(K)
    Bxx[..., idx, idx] += Fv[..., None] * 2 * w[:, None, :]
    direct = np.einsum("p,piab->iab", p, Bxx)
    # cross derivatives d^2 f / dx_i dq, q = (mu, lam): (P, n, K+1, 2K)
    a2w = (a**2)[None, :, :] * w[:, None, :]  # dv_i/dlam_l
    C = np.zeros((P, n, K1, 2 * K))
    C[..., :K] = (Fmm[..., None, None] * dm[..., :, None] * a[None, :, None, :]
                  + Fmv[..., None, None] * dv[..., :, None] * a[None, :, None, :])
    for l in range(K):
        C[:, :, l, l] += Fm - U
        C[:, :, l, K + l] += Fv * 2 * a[None, :, l] * w[:, None, l]
    C[..., K:] += (Fmv[..., None, None] * dm[..., :, None] * a2w[:, :, None, :]
                   + Fvv[..., None, None] * dv[..., :, None] * a2w[:, :, None, :])
    C = C.reshape(P, n * K1, 2 * K)
    HinvCt = np.linalg.solve(Hq, C.transpose(0, 2, 1))  # (P, 2K, n(K+1))
    H = -np.einsum("pxa,pay->xy", p[:, None, None] * C, HinvCt)
    H = H.reshape(n, K1, n, K1)
    for i in range(n):
        H[i, :, i, :] += direct[i]
    return value, grad, H.reshape(n * K1, n * K1), (mu, lam)
