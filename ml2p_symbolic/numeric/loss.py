r"""The ML2P-VAE loss of the seed and its hand-derived gradients, in float64 numpy.

Notation (shapes): responses U (N, n) with entries in [0, 1] (0/1 data, or probabilities
for the expected loss of eq. (3)); discriminations A (n, K); difficulties b (n,); encoder
outputs mu and log_var (N, K); noise eps (S, N, K).

    z_hat_ij = sum_k A_ik (mu_jk + eps_k exp(log_var_jk / 2)) - b_i
    REC_j    = -sum_i [u_ij log sigmoid(z_hat_ij) + (1 - u_ij) log(1 - sigmoid(z_hat_ij))]
             =  sum_i [softplus(z_hat_ij) - u_ij z_hat_ij]
    KL_j     = -1/2 sum_k (1 + log_var_jk - mu_jk^2 - exp(log_var_jk))

With ``eps`` REC_j is averaged over the S draws.  With ``nodes`` it is the expectation over
eps ~ N(0, I): given mu_j and log_var_j, z_hat_ij ~ N(m_ij, s_ij^2) with

    m_ij = A_i . mu_j - b_i,     s_ij^2 = v_ij = sum_k A_ik^2 exp(log_var_jk),

so E[REC_j] = sum_i [F(m_ij, s_ij) - u_ij m_ij], F(m, s) = E[softplus(m + s eps)], a
one-dimensional integral (cost O(N n G) for any K; see :mod:`.quadrature`).

Gradients (of the sum over students), with G_m = dF/dm - U = E[sigmoid] - U and
G_v = dF/dv (both (N, n)), E = exp(log_var):

    d/dA       = G_m^T mu + 2 A * (G_v^T E)         d/db = -sum_j G_m
    d/dmu      = G_m A + mu                         d/dlog_var = E * (G_v A^2) + (E - 1) / 2

and with eps (theta^(s) = mu + eps^(s) * exp(log_var / 2), G^(s) = (sigmoid(z^(s)) - U) / S):

    d/dA = sum_s G^(s)T theta^(s),  d/db = -sum_s sum_j G^(s),
    d/dmu = sum_s G^(s) A + mu,     d/dlog_var = sum_s (G^(s) A) * eps^(s) * exp(log_var/2) / 2
                                                 + (E - 1) / 2.

Students are processed in blocks so that the temporaries stay near ``BLOCK_ELEMENTS``
float64 numbers whatever N is.

Examples
--------
>>> import numpy as np
>>> A = np.array([[1.0], [2.0]]); b = np.array([0.0, 1.0])
>>> U = np.array([[1.0, 0.0]]); mu = np.zeros((1, 1)); log_var = np.zeros((1, 1))
>>> vae_loss(U, A, b, mu, log_var, eps=np.zeros((1, 1, 1))).round(10).tolist()
[1.0064088681]
>>> vae_loss(U, A, b, mu, log_var, nodes="auto").round(10).tolist()
[1.4485545529]
"""

import numpy as np

from .quadrature import expected_softplus
from .special import sigmoid, softplus
from .validate import as_matrix, as_vector, check_loss_inputs, check_shape

__all__ = ["ml2p_prob", "vae_loss", "vae_loss_grad", "BLOCK_ELEMENTS"]

#: Target number of float64 elements in one block's largest temporary (1 MiB: the
#: temporaries of a block stay in cache, 5x faster than 8 MiB blocks on the benchmark).
BLOCK_ELEMENTS = 1 << 17


def _softplus_minus_uz(z, U):
    """Row sums of softplus(z) - U z (z is overwritten)."""
    uz = np.multiply(U, z)
    t = softplus(z, out=z)
    t -= uz
    return t.sum(axis=1)


def ml2p_prob(A, b, theta):
    """P = sigmoid(theta @ A.T - b), the (N, n) ML2P response probabilities.

    A (n, K), b (n,), theta (N, K); P_ji = 1 / (1 + exp(-(A_i . theta_j - b_i))).

    >>> ml2p_prob([[1.0, 0.0]], [0.0], [[0.0, 5.0], [1e4, 0.0]]).tolist()
    [[0.5], [1.0]]
    """
    A = as_matrix(A, "A", "(n, K)")
    n, K = A.shape
    b = as_vector(b, "b", "(n,)")
    check_shape(b, "b", (n,), "(n,)")
    theta = as_matrix(theta, "theta", "(N, K)")
    check_shape(theta, "theta", (theta.shape[0], K), "(N, K)")
    z = theta @ A.T
    z -= b
    return sigmoid(z, out=z)


def _kl(mu, log_var):
    """KL_j = -1/2 sum_k (1 + log_var_jk - mu_jk^2 - exp(log_var_jk))."""
    return -0.5 * np.sum(1.0 + log_var - mu * mu - np.exp(log_var), axis=1)


def _blocks(N, per_student):
    """Slices of students with about BLOCK_ELEMENTS / per_student students each."""
    step = max(1, BLOCK_ELEMENTS // max(1, per_student))
    for start in range(0, N, step):
        yield slice(start, min(N, start + step))


def _node_count(nodes):
    return 48 if nodes == "auto" else nodes


def vae_loss(U, A, b, mu, log_var, *, eps=None, nodes=None):
    """Per-student ML2P-VAE loss REC_j + KL_j, shape (N,).  See the module docstring.

    Exactly one of ``eps`` (S, N, K) -- REC averaged over the S draws -- and ``nodes``
    (int G: G-point Gauss-Hermite; ``"auto"``: ~1e-13 absolute per item) is given.
    Raises a ``ValueError`` subclass on bad shapes, non-finite values, U outside [0, 1].
    """
    U, A, b, mu, log_var, eps, nodes = check_loss_inputs(U, A, b, mu, log_var, eps, nodes)
    N, n = U.shape
    loss = _kl(mu, log_var)
    if eps is not None:
        S = eps.shape[0]
        sd = np.exp(0.5 * log_var)
        rec = np.zeros(N)
        for blk in _blocks(N, 3 * n):
            Ub = U[blk]
            for s in range(S):
                theta = eps[s, blk] * sd[blk]
                theta += mu[blk]
                z = theta @ A.T
                z -= b
                rec[blk] += _softplus_minus_uz(z, Ub)
        loss += rec / S
    else:
        A2T = (A * A).T
        for blk in _blocks(N, n * _node_count(nodes)):
            m = mu[blk] @ A.T
            m -= b
            v = np.exp(log_var[blk]) @ A2T
            F = expected_softplus(m, np.sqrt(v, out=v), nodes)
            F -= np.multiply(U[blk], m, out=m)
            loss[blk] += F.sum(axis=1)
    return loss


def vae_loss_grad(U, A, b, mu, log_var, *, eps=None, nodes=None):
    """Gradients of ``vae_loss(...).sum()``: dict with keys "A", "b", "mu", "log_var".

    Each gradient has the shape of its argument; derived by hand (module docstring).  For
    ``nodes`` they are the exact derivatives of the quadrature formula that ``vae_loss``
    evaluates, so they match finite differences of ``vae_loss`` to rounding.
    """
    U, A, b, mu, log_var, eps, nodes = check_loss_inputs(U, A, b, mu, log_var, eps, nodes)
    N, n = U.shape
    E = np.exp(log_var)
    g_A = np.zeros_like(A)
    g_b = np.zeros_like(b)
    g_mu = mu.copy()
    g_lv = 0.5 * (E - 1.0)
    if eps is not None:
        S = eps.shape[0]
        sd = np.exp(0.5 * log_var)
        for blk in _blocks(N, 3 * n):
            Ub = U[blk]
            for s in range(S):
                e_sd = eps[s, blk] * sd[blk]
                theta = e_sd + mu[blk]
                z = theta @ A.T
                z -= b
                Gz = sigmoid(z, out=z)
                Gz -= Ub
                Gz *= 1.0 / S
                g_A += Gz.T @ theta
                g_b -= Gz.sum(axis=0)
                g_theta = Gz @ A
                g_mu[blk] += g_theta
                g_theta *= e_sd
                g_theta *= 0.5
                g_lv[blk] += g_theta
    else:
        A2 = A * A
        for blk in _blocks(N, n * _node_count(nodes)):
            mu_b = mu[blk]
            E_b = E[blk]
            m = mu_b @ A.T
            m -= b
            v = E_b @ A2.T
            _, Gm, Gv = expected_softplus(m, np.sqrt(v, out=v), nodes, value=False, grad=True)
            Gm -= U[blk]
            g_A += Gm.T @ mu_b
            g_A += 2.0 * A * (Gv.T @ E_b)
            g_b -= Gm.sum(axis=0)
            g_mu[blk] += Gm @ A
            g_lv[blk] += E_b * (Gv @ A2)
    return {"A": g_A, "b": g_b, "mu": g_mu, "log_var": g_lv}
