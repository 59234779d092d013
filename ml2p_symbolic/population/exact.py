r"""The exact-posterior encoder: the expected loss is the cross-entropy of the response distributions.

With the family of all distributions the best encoder of a pattern is the decoder's own
posterior and the per-pattern loss is :math:`-\log\hat p(u)`, so

.. math:: \mathcal L(\hat A, \hat b) = -\sum_u p(u)\log\hat p(u) = H(p) + \mathrm{KL}(p\,\|\,\hat p),

where :math:`\hat p(u) = p(u; \hat A, \hat b, \Sigma)` uses the same prior
:math:`\mathcal N(0, \Sigma)` as the truth. Through the Cholesky factor
:math:`\Sigma = CC^\top` it is the :math:`\mathcal N(0, I)` cross-entropy of the whitened
decoder :math:`(\hat AC, \hat b)`; the gradient and Hessian come back by the chain rule
(each item's row :math:`(\hat a_i, \hat b_i)` is mapped by :math:`T = \mathrm{diag}(C, 1)`).
"""

from __future__ import annotations

import numpy as np

from ..numeric.special import sigmoid, softplus
from .patterns import chunks, logsumexp_rows, patterns, standard_rule

__all__ = []


def exact_terms(x, p, nodes, order, prior=None):
    """Cross-entropy -sum_u p(u) log p_hat(u) under the prior and, for order >= 1, its
    gradient (and Hessian) in the decoder ``x``, an (n, K+1) array of rows (a_hat_i, b_hat_i).
    """
    if prior is None or prior.chol is None:
        return _standard_terms(x, p, nodes, order)
    K = x.shape[1] - 1
    T = np.eye(K + 1)
    T[:K, :K] = prior.chol  # whitened row = row @ T
    out = _standard_terms(x @ T, p, nodes, order)
    if order == 0:
        return out
    grad = out[1] @ T.T
    if order == 1:
        return out[0], grad
    n = x.shape[0]
    Hw = out[2].reshape(n, K + 1, n, K + 1)
    H = np.einsum("ab,ibjd,cd->iajc", T, Hw, T).reshape(n * (K + 1), n * (K + 1))
    return out[0], grad, 0.5 * (H + H.T)


def _standard_terms(x, p, nodes, order):
    """The same under N(0, I); z = x @ (theta, -1)."""
    n, K1 = x.shape
    K = K1 - 1
    theta, logw = standard_rule(nodes, K)
    taug = np.hstack([theta, -np.ones((theta.shape[0], 1))])  # (Q, K+1)
    z = x @ taug.T  # (n, Q)
    base = logw - softplus(z).sum(axis=0)
    U = patterns(n)
    value = 0.0
    c = np.zeros(theta.shape[0])
    D = np.zeros((n, theta.shape[0]))
    E2 = np.zeros((theta.shape[0], n, n)) if order >= 2 else None
    G = np.zeros((2**n, n * K1)) if order >= 2 else None
    s = sigmoid(z)
    for sl in chunks(U.shape[0], theta.shape[0]):
        L = U[sl] @ z + base
        lp = logsumexp_rows(L)
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
