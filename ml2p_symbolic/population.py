r"""The population view: exact expected VAE losses over all response patterns.

The true ML2P model draws a student's traits :math:`\theta \sim \mathcal N(0, I_K)` and answers
item :math:`i` correctly with probability :math:`P_i(\theta) = \sigma(a_i\cdot\theta - b_i)`,
independently across items given :math:`\theta`. For ``n`` items the response distribution is
the finite mixture

.. math::  p(u; A, b) = \int \prod_{i=1}^n P_i(\theta)^{u_i}(1-P_i(\theta))^{1-u_i}
           \,\phi_K(\theta)\,d\theta, \qquad u \in \{0, 1\}^n,

which this module evaluates for all :math:`2^n` patterns with a tensor Gauss-Hermite rule
(``nodes`` points per trait, so ``nodes**K`` points in all). ``A`` has shape ``(n, K)`` and
``b`` shape ``(n,)``; patterns are ordered as the binary expansions of ``0 .. 2**n - 1`` with
item 1 as the most significant digit (see :func:`response_patterns`).

The seed's expected loss (3) replaces the data by their expectation. Taken over the whole
response distribution, and with the encoder the best one of its family for every pattern,
the expected per-student loss of a decoder :math:`(\hat A, \hat b)` is

``encoder="exact"`` (the encoder is the decoder's own posterior :math:`\hat p(\theta\mid u)`)
    .. math:: \mathcal L(\hat A,\hat b) = -\sum_u p(u; A,b)\log p(u;\hat A,\hat b)
              = H(p) + \mathrm{KL}(p\,\|\,\hat p) \ \ge\ H(p),

    with equality iff :math:`\hat p = p` (Gibbs' inequality), so the truth is a global
    minimiser, unique up to the transformations that leave the response distribution
    unchanged (see :mod:`ml2p_symbolic.identifiability`);
``encoder="gaussian"`` (the best diagonal Gaussian :math:`q = \mathcal N(\mu, \mathrm{diag}\,s^2)`
    for each pattern)
    .. math:: \mathcal L(\hat A,\hat b) = \sum_u p(u)\min_q\big[-E_q\log p(u\mid\theta;\hat A,\hat b)
              + \mathrm{KL}(q\,\|\,\mathcal N(0, I))\big]
              = \mathcal L_{\rm exact}(\hat A,\hat b)
              + \sum_u p(u)\,\mathrm{KL}(q^*_u\,\|\,\hat p(\theta\mid u)),

    whose minimiser is in general *not* the truth (:func:`minimiser_bias` measures how far).

All functions are numpy (with the package's one sigmoid, softplus and Gauss-Hermite rule
from :mod:`ml2p_symbolic.numeric`); :func:`fit_decoder` uses analytic gradients and
Hessians and a safeguarded Newton method.
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import DomainError, QMatrixError, ResourceError, ShapeError
from .numeric.budget import check_memory
from .numeric.gauss_hermite import hermite_rule, hermite_tensor_rule
from .numeric.special import sigmoid, softplus
from .numeric.validate import plain

__all__ = [
    "ENCODERS",
    "response_patterns",
    "gauss_hermite_normal",
    "pattern_probabilities",
    "response_entropy",
    "expected_neg_elbo",
    "expected_neg_elbo_grad",
    "best_gaussian_encoder",
    "DecoderFit",
    "fit_decoder",
    "MinimiserBias",
    "minimiser_bias",
    "align_to",
    "symbolic_identities",
    "estimate_cost",
    "WORK_LIMIT_SECONDS",
]

ENCODERS = ("exact", "gaussian")
_CHUNK = 1 << 22  # entries of a (patterns x nodes) block kept in memory at once
#: Work estimated to take longer than this (seconds, on one core) is refused with the
#: figure (:func:`estimate_cost`); raise it to allow longer runs.
WORK_LIMIT_SECONDS = 3600.0


# --------------------------------------------------------------------------- inputs
def _check_items(A, b, name="A, b"):
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2 or b.ndim != 1 or A.shape[0] != b.shape[0]:
        raise ShapeError(
            f"{name}: expected A of shape (n, K) and b of shape (n,), got {A.shape} and {b.shape}"
        )
    if A.shape[0] < 1 or A.shape[1] < 1:
        raise ShapeError(f"{name}: need at least one item and one trait, got A of shape {A.shape}")
    if A.shape[0] > 20:
        raise ShapeError(f"{name}: 2**n patterns are enumerated; n = {A.shape[0]} > 20 is too many")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        raise DomainError(f"{name}: item parameters must be finite")
    return A, b


def _check_encoder(encoder):
    if encoder not in ENCODERS:
        raise DomainError(f"encoder must be one of {ENCODERS}, got {encoder!r}")


def _check_q_pattern(Q, A, name="A"):
    """Q as a float 0/1 array of A's shape, with A zero wherever Q is zero (or None)."""
    if Q is None:
        return None
    try:
        Q = np.asarray(Q, dtype=float)
    except (TypeError, ValueError) as exc:
        raise QMatrixError(f"Q must be a rectangular 0/1 array of shape {A.shape}: {exc}") from None
    if Q.ndim == 1 and A.shape[1] == 1:
        Q = Q[:, None]
    if Q.shape != A.shape:
        raise ShapeError(f"Q must have the shape of {name}, {A.shape} (items x traits), got {Q.shape}")
    if not np.all((Q == 0) | (Q == 1)):
        bad = sorted(set(Q.ravel().tolist()) - {0.0, 1.0})[:5]
        raise QMatrixError(f"Q must contain only 0 and 1, got the values {', '.join(map(plain, bad))}")
    bad = np.argwhere((Q == 0) & (A != 0))
    if bad.size:
        i, k = bad[0]
        raise QMatrixError(
            f"{name} must be 0 where Q is 0, but {name}[{i}, {k}] = {plain(A[i, k])} with Q[{i}, {k}] = 0 "
            f"({len(bad)} such entr{'y' if len(bad) == 1 else 'ies'})"
        )
    return Q


def _check_nodes(nodes):
    if (isinstance(nodes, numbers.Real) and not isinstance(nodes, (bool, np.bool_))
            and math.isfinite(nodes) and int(nodes) == nodes and nodes >= 1):
        return int(nodes)
    raise DomainError(f"nodes must be a positive integer, got {plain(nodes)}")


def estimate_cost(n, K, *, nodes=64, encoder="exact", order=0):
    r"""Estimated peak memory (bytes) and time (seconds, one core) of one evaluation.

    ``order``: 0 the loss (:func:`expected_neg_elbo`, :func:`pattern_probabilities`), 1
    with its gradient, 2 with its Hessian (one Newton step of :func:`fit_decoder`). The
    ``2**n`` patterns meet the ``nodes**K`` quadrature points: the exact encoder costs about
    :math:`2^n \cdot \mathrm{nodes}^K \cdot n` operations (measured 5e7 to 6e8 a second),
    the Gaussian one :math:`2^n \cdot n \cdot \mathrm{nodes}` times its inner Newton
    iterations (measured 3e6 a second). Memory: the patterns (``2**n x n``), the
    probabilities, the rule and the (n, nodes**K) logits, one block of
    ``_CHUNK`` = 4,194,304 entries (three arrays), and for ``order=2`` the
    (nodes**K, n, n) second moments (four arrays) and the (2**n, n(K+1)) scores.
    Returns ``{"bytes", "seconds"}``; the functions of this module call it and raise
    :class:`~ml2p_symbolic.errors.ResourceError` when the memory exceeds the limit of
    :mod:`ml2p_symbolic.numeric.budget` or the time exceeds ``WORK_LIMIT_SECONDS``.

    >>> c = estimate_cost(20, 3)
    >>> f"{c['seconds'] / 3600:.0f} h"
    '31 h'
    """
    n, K, nodes = int(n), int(K), int(nodes)
    P = 2.0 ** n
    Qn = float(nodes) ** K
    chunk = min(max(Qn, _CHUNK), P * Qn)
    nbytes = 8 * (P * n + 4 * P + Qn * (2 * K + 3) + (3 * n + 3) * Qn + 3 * chunk)
    if encoder == "exact":
        seconds = P * Qn * n / 5e7 * (1 + order)
        if order >= 2:
            nbytes += 8 * (4 * Qn * n * n + 2 * P * n * (K + 1))
    else:
        gchunk = max(min(_CHUNK // 2, P * n * nodes), n * nodes)
        nbytes += 8 * (4 * P * K + 8 * gchunk)
        seconds = P * n * nodes / 3e6 * (1 + order)
        if order >= 2:
            nbytes += 8 * (2 * P * n * (K + 1) ** 2 + (n * (K + 1)) ** 2)
    return {"bytes": nbytes, "seconds": seconds}


def _check_cost(n, K, nodes, encoder="exact", order=0, what="the expected loss"):
    """Refuse, with the figures, work too large for memory or for WORK_LIMIT_SECONDS."""
    cost = estimate_cost(n, K, nodes=nodes, encoder=encoder, order=order)
    work = f"{what} over 2**{n} = {2 ** n:,} patterns and {nodes}**{K} = {nodes ** K:,} nodes"
    hint = "use fewer nodes (quadrature points per trait) or fewer items"
    check_memory(cost["bytes"], work, hint)
    if cost["seconds"] > WORK_LIMIT_SECONDS:
        raise ResourceError(
            f"{work} would take about {_duration(cost['seconds'])} on one core (limit "
            f"{_duration(WORK_LIMIT_SECONDS)}, population.WORK_LIMIT_SECONDS); {hint}"
        )


def _duration(seconds):
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.2g} {unit}"
    return f"{seconds:.2g} s"


# --------------------------------------------------------------------------- building blocks
@lru_cache(maxsize=32)
def _patterns(n):
    j = np.arange(2**n)[:, None]
    U = ((j >> np.arange(n - 1, -1, -1)[None, :]) & 1).astype(float)
    U.setflags(write=False)
    return U


def response_patterns(n):
    """All :math:`2^n` response patterns as a ``(2**n, n)`` float array of 0/1.

    Row ``j`` is the binary expansion of ``j``, item 1 first (most significant digit).

    Examples
    --------
    >>> response_patterns(2)
    array([[0., 0.],
           [0., 1.],
           [1., 0.],
           [1., 1.]])
    """
    return _patterns(int(n)).copy()


def _gh(nodes, K):
    """The tensor rule's points (nodes**K, K) and log-weights (read-only, cached)."""
    return hermite_tensor_rule(nodes, K, log_weights=True)


def gauss_hermite_normal(nodes, K=1):
    r"""Tensor Gauss-Hermite rule for :math:`\mathcal N(0, I_K)`: ``(theta, weights)``.

    ``theta`` has shape ``(nodes**K, K)``; the weights are positive and sum to 1, and
    :math:`\sum_q w_q f(\theta_q) = E f(\theta)` exactly for polynomials of degree
    :math:`\le 2\,\mathrm{nodes} - 1` in each coordinate. This is
    :func:`ml2p_symbolic.numeric.gauss_hermite.hermite_tensor_rule`, the package's one rule,
    returned as writable copies.

    Examples
    --------
    >>> theta, w = gauss_hermite_normal(5)
    >>> round(float(w @ theta[:, 0] ** 4), 12)  # E theta^4 = 3
    3.0
    """
    theta, w = hermite_tensor_rule(_check_nodes(nodes), int(K))
    return theta.copy(), w.copy()


def _logsumexp_rows(X):
    m = X.max(axis=1)
    return m + np.log(np.exp(X - m[:, None]).sum(axis=1))


def _chunks(n_patterns, n_nodes):
    step = max(1, _CHUNK // max(1, n_nodes))
    for start in range(0, n_patterns, step):
        yield slice(start, min(n_patterns, start + step))


def _log_pattern_probabilities(A, b, nodes):
    """log p(u; A, b) for every pattern, shape (2**n,)."""
    n, K = A.shape
    theta, logw = _gh(nodes, K)
    z = A @ theta.T - b[:, None]  # (n, Q)
    base = logw - softplus(z).sum(axis=0)  # (Q,)
    U = _patterns(n)
    out = np.empty(U.shape[0])
    for sl in _chunks(U.shape[0], theta.shape[0]):
        out[sl] = _logsumexp_rows(U[sl] @ z + base)
    return out


def pattern_probabilities(A, b, *, nodes=64):
    r"""Probabilities :math:`p(u; A, b)` of all :math:`2^n` response patterns, shape ``(2**n,)``.

    .. math:: p(u) = \sum_q w_q \exp\Big(\sum_i u_i z_{iq} - \log(1 + e^{z_{iq}})\Big),
              \qquad z_{iq} = a_i\cdot\theta_q - b_i,

    with the Gauss-Hermite rule of :func:`gauss_hermite_normal`. For every node the inner sum
    over patterns is exactly 1, so the probabilities sum to 1 up to rounding whatever
    ``nodes`` is; ``nodes`` controls only the accuracy of each :math:`p(u)`.

    Examples
    --------
    >>> p = pattern_probabilities([[1.0], [2.0]], [0.0, 0.5])
    >>> p.round(6)
    array([0.35101 , 0.14899 , 0.224233, 0.275767])
    >>> bool(abs(p.sum() - 1) < 1e-12)
    True
    """
    A, b = _check_items(A, b)
    nodes = _check_nodes(nodes)
    _check_cost(A.shape[0], A.shape[1], nodes, what="the pattern probabilities")
    return np.exp(_log_pattern_probabilities(A, b, nodes))


def response_entropy(A, b, *, nodes=64):
    r"""Entropy of the true response distribution, :math:`H(p) = -\sum_u p(u)\log p(u)` (nats).

    This is the smallest possible expected loss of any decoder with any encoder (see
    :func:`expected_neg_elbo`).

    Examples
    --------
    >>> round(response_entropy([[1.0], [2.0]], [0.0, 0.5]), 9)
    1.341631854
    """
    A, b = _check_items(A, b)
    nodes = _check_nodes(nodes)
    _check_cost(A.shape[0], A.shape[1], nodes, what="the response entropy")
    logp = _log_pattern_probabilities(A, b, nodes)
    return float(-(np.exp(logp) @ logp))


# --------------------------------------------------------------------------- exact encoder
def _exact_terms(x, p, nodes, order):
    """Cross-entropy -sum_u p(u) log p_hat(u) and, for order >= 1, its gradient (and Hessian).

    ``x`` is the decoder as an (n, K+1) array of rows (a_hat_i, b_hat_i); z = x @ (theta, -1).
    """
    n, K1 = x.shape
    K = K1 - 1
    theta, logw = _gh(nodes, K)
    taug = np.hstack([theta, -np.ones((theta.shape[0], 1))])  # (Q, K+1)
    z = x @ taug.T  # (n, Q)
    base = logw - softplus(z).sum(axis=0)
    U = _patterns(n)
    value = 0.0
    c = np.zeros(theta.shape[0])
    D = np.zeros((n, theta.shape[0]))
    E2 = np.zeros((theta.shape[0], n, n)) if order >= 2 else None
    G = np.zeros((2**n, n * K1)) if order >= 2 else None
    s = sigmoid(z)
    for sl in _chunks(U.shape[0], theta.shape[0]):
        L = U[sl] @ z + base
        lp = _logsumexp_rows(L)
        value -= p[sl] @ lp
        if order >= 1:
            R = np.exp(L - lp[:, None])  # posterior weights of the decoder
            M = p[sl, None] * R
            c += M.sum(axis=0)
            D += U[sl].T @ M
            if order >= 2:
                UU = (U[sl][:, :, None] * U[sl][:, None, :]).reshape(U[sl].shape[0], n * n)
                E2 += (M.T @ UU).reshape(-1, n, n)
                # per-pattern score: sum_q R_uq (u_i - s_iq) taug_q
                Rt = R @ taug  # (m, K+1)
                Rst = np.einsum("uq,iq,qk->uik", R, s, taug)
                G[sl] = (U[sl][:, :, None] * Rt[:, None, :] - Rst).reshape(-1, n * K1)
    if order == 0:
        return value
    gz = -(D - s * c)  # d value / d z_iq, (n, Q)
    grad = gz @ taug  # (n, K+1)
    if order == 1:
        return value, grad
    # Hessian = sum_q c_q blockdiag(s'(z_iq) t t^T) - sum_u sum_q M_uq l l^T + sum_u p_u g_u g_u^T
    sp = s * (1 - s)
    H = np.zeros((n, K1, n, K1))
    direct = np.einsum("q,iq,qa,qb->iab", c, sp, taug, taug)
    for i in range(n):
        H[i, :, i, :] += direct[i]
    C = E2 - np.einsum("iq,jq->qij", s, D) - np.einsum("iq,jq->qij", D, s) \
        + np.einsum("iq,jq,q->qij", s, s, c)
    H -= np.einsum("qij,qa,qb->iajb", C, taug, taug)
    H = H.reshape(n * K1, n * K1)
    H += G.T @ (p[:, None] * G)
    return value, grad, 0.5 * (H + H.T)


# --------------------------------------------------------------------------- gaussian encoder
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


def _gauss_objective(x, U, mu, lam, nodes, order):
    """Per-pattern negative ELBO f_u(mu, lam) with lam = log s^2, and its q-derivatives."""
    a, bb = x[:, :-1], x[:, -1]
    w = np.exp(lam)
    m = mu @ a.T - bb  # (P, n)
    v = w @ (a**2).T
    res = _F(m, v, nodes, order)
    kl = 0.5 * (mu**2 + w - lam - 1).sum(axis=1)
    f = -(U * m).sum(axis=1) + res[0].sum(axis=1) + kl
    if order == 0:
        return f, None
    F, Fm, Fv = res[:3]
    a2 = a**2
    g_mu = (Fm - U) @ a + mu
    g_lam = (Fv @ a2) * w + 0.5 * (w - 1)
    out = {"f": f, "m": m, "v": v, "w": w, "Fm": Fm, "Fv": Fv, "g": np.hstack([g_mu, g_lam])}
    if order >= 2:
        Fmm, Fmv, Fvv = res[3:]
        K = a.shape[1]
        Hmm = np.einsum("pi,ik,il->pkl", Fmm, a, a) + np.eye(K)
        Hml = np.einsum("pi,ik,il->pkl", Fmv, a, a2) * w[:, None, :]
        Hll = np.einsum("pi,ik,il->pkl", Fvv, a2, a2) * w[:, :, None] * w[:, None, :]
        Hll[:, np.arange(K), np.arange(K)] += (Fv @ a2) * w + 0.5 * w
        H = np.concatenate(
            [np.concatenate([Hmm, Hml], axis=2), np.concatenate([Hml.transpose(0, 2, 1), Hll], axis=2)],
            axis=1,
        )
        out.update(Fmm=Fmm, Fmv=Fmv, Fvv=Fvv, H=H)
    return f, out


def _solve_q(x, U, nodes, mu=None, lam=None, tol=1e-12, max_iter=60):
    """Damped Newton per pattern for the best diagonal Gaussian q; returns (mu, lam)."""
    P = U.shape[0]
    K = x.shape[1] - 1
    mu = np.zeros((P, K)) if mu is None else mu.copy()
    lam = np.zeros((P, K)) if lam is None else lam.copy()
    for _ in range(max_iter):
        f, d = _gauss_objective(x, U, mu, lam, nodes, 2)
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
            f_c, _ = _gauss_objective(x, U, mu_c, lam_c, nodes, 0)
            ok = f_c <= f + 1e-4 * t * (g * step).sum(axis=1) + 1e-13 * np.abs(f)
            active &= ~ok
            if not active.any():
                break
            t = np.where(active, 0.5 * t, t)
        mu = mu + t[:, None] * step[:, :K]
        lam = np.clip(lam + t[:, None] * step[:, K:], -60, 60)
    return mu, lam


def best_gaussian_encoder(A_hat, b_hat, *, nodes=64):
    r"""The best diagonal-Gaussian encoder of the decoder :math:`(\hat A, \hat b)` for every pattern.

    For each pattern :math:`u`, minimises over :math:`q = \mathcal N(\mu, \mathrm{diag}\,s^2)`

    .. math:: f_u(q) = -\sum_i\big[u_i m_i - E\log(1 + e^{m_i + \sqrt{v_i}\,\varepsilon})\big]
              - \tfrac12\sum_k\big(1 + \log s_k^2 - \mu_k^2 - s_k^2\big),

    where :math:`m_i = \hat a_i\cdot\mu - \hat b_i` and :math:`v_i = \sum_k \hat a_{ik}^2 s_k^2`
    (under :math:`q`, :math:`\hat z_i` is exactly :math:`\mathcal N(m_i, v_i)`, so the
    expectation is one-dimensional; it is taken by ``nodes``-point Gauss-Hermite). The
    objective is convex in :math:`(\mu, s)`; a damped Newton method in :math:`(\mu, \log s^2)`
    drives the gradient below 1e-12.

    Returns ``(mu, s, f)`` with shapes ``(2**n, K)``, ``(2**n, K)``, ``(2**n,)``.

    Examples
    --------
    >>> mu, s, f = best_gaussian_encoder([[1.5]], [0.0])
    >>> mu.round(4).ravel(), s.round(4).ravel()  # patterns u = 0 and u = 1
    (array([-0.6..., 0.6...]), array([0.8..., 0.8...]))
    """
    A_hat, b_hat = _check_items(A_hat, b_hat, "A_hat, b_hat")
    nodes = _check_nodes(nodes)
    _check_cost(A_hat.shape[0], A_hat.shape[1], nodes, "gaussian", what="the best Gaussian encoders")
    x = np.hstack([A_hat, b_hat[:, None]])
    U = _patterns(x.shape[0])
    mu, lam = _solve_q(x, U, nodes)
    f, _ = _gauss_objective(x, U, mu, lam, nodes, 0)
    return mu, np.exp(0.5 * lam), f


def _gaussian_terms(x, p, nodes, order, warm=None):
    """Value (and gradient, Hessian) of sum_u p(u) min_q f_u(q; x), chunked over patterns.

    Returns ``(value, [grad, [hess,]] (mu, lam))`` with the optimal q of every pattern, which
    can be passed back as ``warm`` to start the next inner solve.
    """
    n, K1 = x.shape
    U = _patterns(n)
    mu_all = np.zeros((U.shape[0], K1 - 1))
    lam_all = np.zeros((U.shape[0], K1 - 1))
    value = 0.0
    grad = np.zeros((n, K1))
    hess = np.zeros((n * K1, n * K1))
    step = max(1, (_CHUNK // 2) // (n * nodes))
    for start in range(0, U.shape[0], step):
        sl = slice(start, min(U.shape[0], start + step))
        w0 = (warm[0][sl], warm[1][sl]) if warm is not None else (None, None)
        res = _gaussian_chunk(x, U[sl], p[sl], nodes, order, *w0)
        value += res[0]
        if order >= 1:
            grad += res[1]
        if order >= 2:
            hess += res[2]
        mu_all[sl], lam_all[sl] = res[-1]
    out = (value,) + ((grad,) if order >= 1 else ()) + ((0.5 * (hess + hess.T),) if order >= 2 else ())
    return out + ((mu_all, lam_all),)


def _gaussian_chunk(x, U, p, nodes, order, mu0, lam0):
    n, K1 = x.shape
    K = K1 - 1
    mu, lam = _solve_q(x, U, nodes, mu0, lam0)
    f, d = _gauss_objective(x, U, mu, lam, nodes, order)
    value = float(p @ f)
    if order == 0:
        return value, (mu, lam)
    P = U.shape[0]
    a = x[:, :-1]
    w = d["w"]
    Fm, Fv = d["Fm"], d["Fv"]
    # envelope theorem: d/dx of f_u at the optimal q_u
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


# --------------------------------------------------------------------------- public losses
def expected_neg_elbo(A_hat, b_hat, A, b, *, encoder="exact", nodes=64):
    r"""Expected per-student VAE loss of the decoder :math:`(\hat A, \hat b)` under the true model.

    .. math:: \mathcal L(\hat A, \hat b) = \sum_{u\in\{0,1\}^n} p(u; A, b)\,
              \min_{q\in\mathcal Q}\Big(-E_q\log p(u\mid\theta;\hat A,\hat b)
              + \mathrm{KL}(q\,\|\,\mathcal N(0, I))\Big)

    ``encoder="exact"``: :math:`\mathcal Q` is all distributions; the minimum is attained at
    the decoder's posterior and equals :math:`-\log p(u;\hat A,\hat b)`, so
    :math:`\mathcal L = -\sum_u p(u)\log\hat p(u) = H(p) + \mathrm{KL}(p\|\hat p)`.
    ``encoder="gaussian"``: :math:`\mathcal Q` is the diagonal Gaussians
    (:func:`best_gaussian_encoder`), and :math:`\mathcal L` exceeds the exact value by the
    expected gap :math:`\sum_u p(u)\,\mathrm{KL}(q^*_u\|\hat p(\theta\mid u))`.

    Shapes: ``A_hat``, ``A`` are ``(n, K)``; ``b_hat``, ``b`` are ``(n,)``.

    Examples
    --------
    >>> A, b = [[1.0], [2.0], [0.5]], [0.0, 0.5, -1.0]
    >>> h = response_entropy(A, b)
    >>> abs(expected_neg_elbo(A, b, A, b) - h) < 1e-12    # the truth attains the entropy
    True
    >>> round(expected_neg_elbo(A, b, A, b, encoder="gaussian") - h, 6)  # the Gaussian gap
    0.00...
    """
    _check_encoder(encoder)
    nodes = _check_nodes(nodes)
    A, b = _check_items(A, b)
    A_hat, b_hat = _check_items(A_hat, b_hat, "A_hat, b_hat")
    if A_hat.shape != A.shape:
        raise ShapeError(f"A_hat has shape {A_hat.shape} but A has shape {A.shape}")
    _check_cost(*A.shape, nodes, encoder)
    p = np.exp(_log_pattern_probabilities(A, b, nodes))
    x = np.hstack([A_hat, b_hat[:, None]])
    if encoder == "exact":
        return float(_exact_terms(x, p, nodes, 0))
    return _gaussian_terms(x, p, nodes, 0)[0]


def expected_neg_elbo_grad(A_hat, b_hat, A, b, *, encoder="exact", nodes=64):
    r"""Gradient of :func:`expected_neg_elbo` in :math:`(\hat A, \hat b)`: ``(dA_hat, db_hat)``.

    ``"exact"``: :math:`\partial\mathcal L/\partial\hat z_{iq} = -\sum_u p(u) r_{uq}(u_i - \hat P_{iq})`
    with :math:`r_{uq}` the decoder's posterior weight of node :math:`q`;
    ``"gaussian"``: by the envelope theorem the gradient of :math:`f_u` at the optimal
    :math:`q^*_u` (held fixed), averaged with weights :math:`p(u)`.

    Examples
    --------
    >>> A, b = [[1.0], [2.0]], [0.0, 0.5]
    >>> gA, gb = expected_neg_elbo_grad(A, b, A, b)
    >>> float(np.abs(gA).max() + np.abs(gb).max()) < 1e-14   # the truth is stationary
    True
    """
    _check_encoder(encoder)
    nodes = _check_nodes(nodes)
    A, b = _check_items(A, b)
    A_hat, b_hat = _check_items(A_hat, b_hat, "A_hat, b_hat")
    if A_hat.shape != A.shape:
        raise ShapeError(f"A_hat has shape {A_hat.shape} but A has shape {A.shape}")
    _check_cost(*A.shape, nodes, encoder, order=1, what="the gradient of the expected loss")
    p = np.exp(_log_pattern_probabilities(A, b, nodes))
    x = np.hstack([A_hat, b_hat[:, None]])
    if encoder == "exact":
        _, g = _exact_terms(x, p, nodes, 1)
    else:
        _, g, _ = _gaussian_terms(x, p, nodes, 1)
    return g[:, :-1].copy(), g[:, -1].copy()


# --------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class DecoderFit:
    """The decoder minimising :func:`expected_neg_elbo`.

    Attributes
    ----------
    A_hat, b_hat : ndarray
        The minimiser, shapes ``(n, K)`` and ``(n,)``, in canonical form (see :func:`fit_decoder`).
    value : float
        :math:`\\mathcal L(\\hat A, \\hat b)`.
    entropy : float
        :math:`H(p)`, the lower bound of every encoder's loss.
    grad_norm : float
        Euclidean norm of the gradient at the minimiser, over the free parameters (all of
        them, or with a Q-matrix the entries of ``A_hat`` where ``Q`` is 1, and ``b_hat``).
    iterations : int
        Newton iterations used.
    encoder : str
    Q : ndarray or None
        The Q-matrix the slopes were restricted to (as a float 0/1 array), or ``None``.
    """

    A_hat: np.ndarray
    b_hat: np.ndarray
    value: float
    entropy: float
    grad_norm: float
    iterations: int
    encoder: str
    Q: np.ndarray | None = None


def _canonical(A_hat, b_hat, A, encoder, Q=None):
    """Representative of the decoder's symmetry class closest to the truth ``A``.

    With a Q-matrix only the column sign flips and the permutations of identical Q columns
    are used (the transformations that keep ``A_hat`` zero where ``Q`` is zero in general).
    """
    if Q is None:
        return align_to(A_hat, A, group="orthogonal" if encoder == "exact" else "signed-permutation"), b_hat
    K = A.shape[1]
    best, best_d = A_hat, np.inf
    for perm in itertools.permutations(range(K)):
        if not np.array_equal(Q[:, perm], Q):
            continue
        for signs in itertools.product((1.0, -1.0), repeat=K):
            cand = A_hat[:, perm] * np.array(signs)
            d = np.linalg.norm(cand - A)
            if d < best_d:
                best, best_d = cand, d
    return np.where(Q == 0, 0.0, best), b_hat  # no -0.0 from a sign flip


def align_to(A_hat, A, *, group="orthogonal"):
    r"""Apply the trait transformation that brings ``A_hat`` closest to ``A``.

    ``group="orthogonal"``: :math:`\hat A R^\top` with :math:`R` the orthogonal Procrustes
    solution (the response distribution is invariant under every orthogonal :math:`R`);
    ``group="signed-permutation"``: the best signed permutation of the columns (the symmetries
    of a diagonal-Gaussian encoder family).

    Examples
    --------
    >>> align_to([[-1.0], [-2.0]], [[1.0], [2.0]])
    array([[1.],
           [2.]])
    """
    A_hat = np.asarray(A_hat, float)
    A = np.asarray(A, float)
    K = A.shape[1]
    if group == "orthogonal":
        Uo, _, Vt = np.linalg.svd(A_hat.T @ A)
        return A_hat @ (Uo @ Vt)
    best, best_d = A_hat, np.inf
    for perm in itertools.permutations(range(K)):
        for signs in itertools.product((1.0, -1.0), repeat=K):
            cand = A_hat[:, perm] * np.array(signs)
            d = np.linalg.norm(cand - A)
            if d < best_d:
                best, best_d = cand, d
    return best


def fit_decoder(A, b, *, encoder="exact", nodes=64, start=None, tol=1e-8, max_iter=100, Q=None):
    r"""Decoder parameters minimising :func:`expected_neg_elbo` for the true model ``(A, b)``.

    Safeguarded Newton on the :math:`n(K+1)` decoder parameters with analytic gradients and
    Hessians: for ``"exact"`` the Hessian of the cross-entropy, for ``"gaussian"`` the
    Hessian of the reduced objective :math:`\sum_u p(u) f_u(q^*_u(x), x)` obtained by implicit
    differentiation, :math:`\nabla^2 = \sum_u p(u)[f_{xx} - f_{xq}f_{qq}^{-1}f_{qx}]`.
    Negative or tiny curvature (the rotation directions when :math:`K \ge 2`) is replaced by
    its absolute value floored at :math:`10^{-8}` times the largest; steps are backtracked
    until the loss decreases. Stops when the gradient norm is below ``tol``.

    ``start``: ``None`` starts at the truth; or a pair ``(A0, b0)``. The minimiser is
    reported in canonical form: the columns are transformed by the symmetry of the encoder
    family (orthogonal for ``"exact"``, signed permutation for ``"gaussian"``) that brings
    ``A_hat`` closest to ``A``.

    ``Q``: ``None`` (every slope free), or a 0/1 array of ``A``'s shape ``(n, K)``. Then
    :math:`\hat a_{ik} = 0` is held fixed wherever :math:`Q_{ik} = 0` (the truth must be zero
    there too; a ``start`` is masked to the pattern) and Newton runs on the free slopes and
    :math:`\hat b` only, i.e. on the restricted gradient and Hessian; ``tol`` and
    ``grad_norm`` refer to the gradient over the free parameters. The canonical form then uses
    only column sign flips and permutations of identical Q columns. Raises
    :class:`~ml2p_symbolic.errors.ShapeError` for a Q of the wrong shape and
    :class:`~ml2p_symbolic.errors.QMatrixError` for entries other than 0/1 or a true ``A``
    that is nonzero where ``Q`` is 0.

    Examples
    --------
    >>> A, b = np.array([[1.0], [1.5], [0.7]]), np.array([0.2, -0.3, 0.5])
    >>> fit = fit_decoder(A, b, start=(np.ones((3, 1)), np.zeros(3)))
    >>> fit.grad_norm < 1e-8, float(np.abs(fit.A_hat - A).max()) < 1e-6
    (True, True)

    Two traits in simple structure (items 1-3 measure trait 1, items 4-6 trait 2): the zeros
    stay exact zeros and the exact encoder recovers the truth without any rotation.

    >>> Q = np.kron(np.eye(2), np.ones((3, 1)))
    >>> A = Q * np.array([[1.0], [1.4], [0.8], [1.2], [0.9], [1.1]])
    >>> b = np.array([0.3, -0.2, 0.1, 0.0, 0.5, -0.4])
    >>> fit = fit_decoder(A, b, nodes=16, Q=Q, start=(np.ones((6, 2)), np.zeros(6)))
    >>> bool(np.all(fit.A_hat[Q == 0] == 0)), fit.grad_norm < 1e-8
    (True, True)
    >>> float(np.abs(fit.A_hat - A).max()) < 1e-6, float(np.abs(fit.b_hat - b).max()) < 1e-6
    (True, True)
    """
    _check_encoder(encoder)
    nodes = _check_nodes(nodes)
    A, b = _check_items(A, b)
    Q = _check_q_pattern(Q, A)
    n, K = A.shape
    _check_cost(n, K, nodes, encoder, order=2, what="each Newton step of the decoder fit")
    p = np.exp(_log_pattern_probabilities(A, b, nodes))
    entropy = float(-(p @ np.log(p)))
    if start is None:
        x = np.hstack([A, b[:, None]])
    else:
        A0, b0 = _check_items(*start, name="start")
        if A0.shape != A.shape:
            raise ShapeError(f"start: A0 has shape {A0.shape} but A has shape {A.shape}")
        x = np.hstack([A0, b0[:, None]])
    # the free parameters: all, or the slopes where Q is 1 and every intercept
    free = np.ones(x.shape, dtype=bool)
    if Q is not None:
        free[:, :-1] = Q == 1
        x = np.where(free, x, 0.0)
    free = free.ravel()
    warm = None

    def terms(x, order):
        nonlocal warm
        if encoder == "exact":
            return _exact_terms(x, p, nodes, order)
        out = _gaussian_terms(x, p, nodes, order, warm)
        warm = out[-1]
        return out[:-1] if order else out[0]

    value, grad, H = terms(x, 2)
    it = 0
    for it in range(1, max_iter + 1):
        g = grad.ravel()[free]
        if np.linalg.norm(g) < tol:
            it -= 1
            break
        ev, V = np.linalg.eigh(H[np.ix_(free, free)])
        top = max(np.abs(ev).max(), 1e-300)
        ev = np.maximum(np.abs(ev), 1e-8 * top)
        step = np.zeros(x.size)
        step[free] = -(V @ ((V.T @ g) / ev))
        step = step.reshape(x.shape)
        t = 1.0
        for _ in range(50):
            x_new = x + t * step
            v_new = terms(x_new, 0)
            if v_new <= value + 1e-4 * t * (g @ step.ravel()[free]) + 1e-14 * abs(value):
                break
            t *= 0.5
        x = x_new
        value, grad, H = terms(x, 2)
    A_hat, b_hat = _canonical(x[:, :-1], x[:, -1], A, encoder, Q)
    return DecoderFit(
        A_hat=A_hat, b_hat=b_hat.copy(), value=float(value), entropy=entropy,
        grad_norm=float(np.linalg.norm(grad.ravel()[free])), iterations=it, encoder=encoder,
        Q=None if Q is None else Q.copy(),
    )


# --------------------------------------------------------------------------- bias of the minimiser
@dataclass(frozen=True)
class MinimiserBias:
    """How far the minimiser of an encoder family's expected loss is from the truth.

    Attributes
    ----------
    n, K : int
    encoder : str
    distance_A : float
        :math:`\\|\\hat A - A\\|_F` after alignment by the encoder family's symmetries
        (:func:`align_to`: orthogonal for ``"exact"``, signed permutations for ``"gaussian"``;
        with a Q-matrix, column sign flips and permutations of identical Q columns).
    distance_A_orthogonal : float
        :math:`\\min_R \\|\\hat A R^\\top - A\\|_F` over all orthogonal :math:`R`: the part of
        the bias that is not a rotation of the traits (equal to ``distance_A`` when K = 1).
    distance_b : float
        :math:`\\|\\hat b - b\\|_2`.
    max_abs_A, max_abs_b : float
        Largest entrywise deviations.
    loss_at_truth, loss_at_minimiser, entropy : float
    gap : float
        ``loss_at_truth - loss_at_minimiser`` (>= 0): how much the truth is beaten.
    fit : DecoderFit
    """

    n: int
    K: int
    encoder: str
    distance_A: float
    distance_A_orthogonal: float
    distance_b: float
    max_abs_A: float
    max_abs_b: float
    loss_at_truth: float
    loss_at_minimiser: float
    entropy: float
    gap: float
    fit: DecoderFit


def minimiser_bias(A, b, *, encoder="gaussian", nodes=64, Q=None):
    r"""Fit the decoder from the truth and measure :math:`\|\hat A - A\|`, :math:`\|\hat b - b\|`.

    For ``"exact"`` the distances are zero up to rounding (the truth is the minimiser); for
    ``"gaussian"`` they are the bias of the mean-field VAE's population minimiser.

    ``Q``: optional 0/1 array of ``A``'s shape; the decoder is then fitted with
    :math:`\hat a_{ik} = 0` where :math:`Q_{ik} = 0` (see :func:`fit_decoder`), so the bias is
    that of the VAE whose decoder is restricted to the Q-pattern.

    Examples
    --------
    >>> r = minimiser_bias([[1.0], [1.5], [0.7]], [0.2, -0.3, 0.5], encoder="exact")
    >>> r.distance_A < 1e-10, r.gap < 1e-12
    (True, True)
    """
    A, b = _check_items(A, b)
    fit = fit_decoder(A, b, encoder=encoder, nodes=nodes, Q=Q)
    at_truth = expected_neg_elbo(A, b, A, b, encoder=encoder, nodes=nodes)
    return MinimiserBias(
        n=A.shape[0], K=A.shape[1], encoder=encoder,
        distance_A=float(np.linalg.norm(fit.A_hat - A)),
        distance_A_orthogonal=float(np.linalg.norm(align_to(fit.A_hat, A) - A)),
        distance_b=float(np.linalg.norm(fit.b_hat - b)),
        max_abs_A=float(np.abs(fit.A_hat - A).max()),
        max_abs_b=float(np.abs(fit.b_hat - b).max()),
        loss_at_truth=at_truth, loss_at_minimiser=fit.value, entropy=fit.entropy,
        gap=at_truth - fit.value, fit=fit,
    )


# --------------------------------------------------------------------------- symbolic statements
def symbolic_identities(n=2):
    r"""The identities behind the minimiser theorems, each checked by SymPy.

    Returns a tuple of ``(name, statement, proved)`` for ``n`` items, with ``proved`` True
    when every equation behind the statement is ``"verified"`` by
    :func:`ml2p_symbolic.engine.identity.check_identity` (an exact rewriting to 0 on the symbols'
    domain; sums of logarithms of positive symbols are first split by ``expand_log``,
    which is exact for positive arguments):

    ``patterns-sum-to-one``
        :math:`\sum_u\prod_i P_i^{u_i}(1-P_i)^{1-u_i} = 1` for symbolic :math:`P_i`, hence
        :math:`\sum_u p(u) = 1` for any mixing distribution (and any quadrature rule);
    ``cross-entropy-decomposition``
        :math:`-\sum_u p_u\log q_u = -\sum_u p_u\log p_u + \sum_u p_u\log(p_u/q_u)`;
    ``gibbs``
        :math:`g(t) = t - 1 - \log t \ge 0` for :math:`t > 0` (:math:`g(1) = g'(1) = 0`,
        :math:`g'' = 1/t^2 > 0`), and :math:`\mathrm{KL}(p\|q) = \sum_u p_u g(q_u/p_u)
        - \sum_u q_u + \sum_u p_u`, so :math:`\mathrm{KL} \ge 0` when both sum to 1,
        with equality iff :math:`q = p`;
    ``stationary-at-truth``
        :math:`\partial_x\big(-\sum_u p_u\log p_u(x)\big)\big|_{p(x) = p} = -\sum_u p_u'(x) = 0`
        because :math:`\sum_u p_u(x) = 1` for every decoder :math:`x`;
    ``elbo-gap``
        for a posterior on finitely many nodes, :math:`\log p(u) - \mathrm{ELBO}(q) =
        \mathrm{KL}(q\,\|\,p(\cdot\mid u))` (so the Gaussian loss is the exact loss plus the
        expected gap);
    ``gaussian-kl``
        :math:`\mathrm{KL}(\mathcal N(\mu, s^2)\|\mathcal N(0,1)) =
        -\tfrac12(1 + \log s^2 - \mu^2 - s^2)` by integration.

    Examples
    --------
    >>> all(ok for _, _, ok in symbolic_identities(2))
    True
    """
    import sympy as sp

    from .engine.identity import check_identity

    def proved(*pairs):
        return all(check_identity(lhs, rhs).verdict == "verified" for lhs, rhs in pairs)

    def logs_split(expr):  # log(x y) = log x + log y, exact for the positive symbols used
        return sp.expand_log(expr, force=True)

    out = []
    P = sp.symbols(f"P1:{n + 1}", positive=True)
    total = sum(
        sp.Mul(*[P[i] if u[i] else 1 - P[i] for i in range(n)])
        for u in itertools.product((0, 1), repeat=n)
    )
    out.append(("patterns-sum-to-one", sp.Eq(total, 1), proved((total, sp.Integer(1)))))

    m = 2**n
    p = sp.symbols(f"p1:{m + 1}", positive=True)
    q = sp.symbols(f"q1:{m + 1}", positive=True)
    ce = -sum(p[j] * sp.log(q[j]) for j in range(m))
    H = -sum(p[j] * sp.log(p[j]) for j in range(m))
    KL = sum(p[j] * sp.log(p[j] / q[j]) for j in range(m))
    out.append(("cross-entropy-decomposition", sp.Eq(ce, H + KL),
                proved((logs_split(ce), logs_split(H + KL)))))

    t = sp.symbols("t", positive=True)
    g = t - 1 - sp.log(t)
    rebuilt = sum(p[j] * g.subs(t, q[j] / p[j]) for j in range(m)) - sum(q) + sum(p)
    gibbs_ok = proved((g.subs(t, 1), sp.Integer(0)), (sp.diff(g, t).subs(t, 1), sp.Integer(0)),
                      (sp.diff(g, t, 2), 1 / t**2), (logs_split(rebuilt), logs_split(KL)))
    out.append(("gibbs", sp.Eq(KL, rebuilt), gibbs_ok))

    pf = sp.symbols(f"phat1:{m + 1}", positive=True)  # p_j(x) of the decoder
    dp = sp.symbols(f"dphat1:{m + 1}", real=True)  # d p_j(x) / dx
    grad = -sum(p[j] * dp[j] / pf[j] for j in range(m))  # d/dx of -sum_j p_j log p_j(x)
    at_truth = grad.subs({pf[j]: p[j] for j in range(m)})
    # sum_j p_j(x) = 1 for all x, so sum_j dp_j = 0: eliminate the last derivative
    out.append(("stationary-at-truth", sp.Eq(at_truth, 0),
                proved((at_truth.subs(dp[-1], -sum(dp[:-1])), sp.Integer(0)))))

    J = 3
    wq = sp.symbols(f"w1:{J + 1}", positive=True)  # prior x likelihood at each node
    r = sp.symbols(f"r1:{J + 1}", positive=True)  # q on the nodes
    Z = sum(wq)
    elbo = sum(r[j] * (sp.log(wq[j]) - sp.log(r[j])) for j in range(J))
    klq = sum(r[j] * sp.log(r[j] / (wq[j] / Z)) for j in range(J))
    # q sums to 1: r_J = 1 - r_1 - ... - r_(J-1)
    on_simplex = {r[-1]: 1 - sum(r[:-1])}
    out.append(("elbo-gap", sp.Eq(sp.log(Z) - elbo, klq),
                proved((logs_split(sp.log(Z) - elbo).subs(on_simplex),
                        logs_split(klq).subs(on_simplex)))))

    mu = sp.symbols("mu", real=True)
    s = sp.symbols("s", positive=True)
    th = sp.symbols("theta", real=True)
    qd = sp.exp(-(th - mu) ** 2 / (2 * s**2)) / (s * sp.sqrt(2 * sp.pi))
    log_ratio = sp.expand(-(th - mu) ** 2 / (2 * s**2) - sp.log(s) + th**2 / 2)
    kl_int = sp.integrate(qd * log_ratio, (th, -sp.oo, sp.oo))
    closed = -sp.Rational(1, 2) * (1 + sp.log(s**2) - mu**2 - s**2)
    out.append(("gaussian-kl", sp.Eq(kl_int, closed), proved((logs_split(kl_int), logs_split(closed)))))
    return tuple(out)
