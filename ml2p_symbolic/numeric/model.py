"""The ML2P-VAE model: an MLP encoder tied to a Q-masked 2PL decoder, with its objectives.

Decoder (the multidimensional 2PL of eq. (1)): for a latent draw z_j (length K),

    P_ij = sigmoid(eta_ij),   eta_ij = sum_k A_ik z_jk - b_i,

with A_ik = 0 wherever Q_ik = 0 and, optionally, A_ik >= 0 (as in the R package ML2Pvae,
whose decoder is a single dense sigmoid layer with a Q-mask and non-negative weights).
Latent prior theta ~ N(0, Sigma) (Sigma = I by default, or a correlation matrix R
estimated with the decoder: see :mod:`.correlation`); encoder q(theta | u_j) =
N(mu_j, diag(exp(log_var_j))) from :class:`~ml2p_symbolic.numeric.encoder.MLPEncoder`.
Reparameterised draws: z_sj = mu_j + exp(log_var_j / 2) * eps_sj with eps_sj ~ N(0, I).

Two objectives per student, both to be minimised (see :func:`objective_and_grad`):

- the plain ELBO of the seed, REC averaged over the S draws plus the closed-form KL:
      L_j = -(1/S) sum_s log p(u_j | z_sj) + KL(N(mu_j, diag var_j) || N(0, Sigma)),
      KL_j = 1/2 [sum_k (Sigma^-1)_kk var_jk + mu_j' Sigma^-1 mu_j - K + log det Sigma
                  - sum_k log_var_jk];
- the importance-weighted bound (IWAE, Burda et al. 2016) with the S draws:
      L_j = -log (1/S) sum_s w_sj,
      log w_sj = log p(u_j | z_sj) + log N(z_sj; 0, Sigma) - log N(z_sj; mu_j, diag var_j).

log p(u | z) = sum_i [u_i eta_i - softplus(eta_i)], which is u log sigmoid + (1-u) log(1 -
sigmoid) computed without overflow for any eta.
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, DomainError, ShapeError
from .correlation import (correlation_from_params, correlation_params_grad, correlation_precision,
                          n_correlation_params)
from .encoder import MLPEncoder
from .special import sigmoid, softplus_sigmoid
from .validate import as_generator

__all__ = ["ML2PVAE", "objective_and_grad", "prior_precision"]


def prior_precision(Sigma, K):
    """Return ``(P, logdet_P)`` for the prior N(0, Sigma): P = Sigma^-1; ``None`` means I.

    Raises :class:`DomainError` unless Sigma is a symmetric positive definite (K, K) matrix.
    """
    if Sigma is None:
        return None, 0.0
    Sigma = np.asarray(Sigma, dtype=np.float64)
    if Sigma.shape != (K, K):
        raise ShapeError(f"Sigma must have shape ({K}, {K}); got {Sigma.shape}")
    if not np.all(np.isfinite(Sigma)) or not np.allclose(Sigma, Sigma.T, atol=1e-12):
        raise DomainError("Sigma must be a finite symmetric matrix")
    try:
        L = np.linalg.cholesky(Sigma)
    except np.linalg.LinAlgError:
        raise DomainError("Sigma must be positive definite") from None
    L_inv = np.linalg.inv(L)
    return L_inv.T @ L_inv, -2.0 * np.log(np.diag(L)).sum()


def objective_and_grad(U, A, b, mu, log_var, eps, *, precision=None, logdet_precision=0.0,
                       iw=False, observed=None, want_grad=True, sigma_grad=False):
    """Per-student loss and its hand-derived gradients, for the ELBO or the IWAE bound.

    Parameters
    ----------
    U : (B, n) responses in [0, 1] (entries where ``observed`` is False are ignored).
    A : (n, K) discriminations;  b : (n,) difficulties.
    mu, log_var : (B, K) encoder outputs.
    eps : (S, B, K) standard normal draws.
    precision : (K, K) prior precision Sigma^-1, or ``None`` for Sigma = I.
    logdet_precision : log det Sigma^-1 (only enters the IWAE value).
    iw : ``False`` for the ELBO (REC averaged over S, closed-form KL); ``True`` for the
        importance-weighted bound with S samples.
    observed : optional (B, n) boolean mask of observed responses.
    sigma_grad : also return ``"Sigma"``, the gradient in the prior covariance.

    Returns
    -------
    loss : (B,) per-student loss L_j.
    grads : dict with ``"A"``, ``"b"``, ``"mu"``, ``"log_var"`` (and ``"Sigma"`` with
        ``sigma_grad``): gradients of ``loss.sum()`` (``None`` when ``want_grad`` is false).

    Gradients. With r_sij = u_ij - sigmoid(eta_sij) = d log p(u_j | z_sj) / d eta_sij and
    per-draw weights c_sj (1/S for the ELBO; the normalised importance weights
    w~_sj = softmax_s(log w_sj) for the IWAE bound):

        dL/dA_ik = -sum_sj c_sj r_sij z_sjk,      dL/db_i = sum_sj c_sj r_sij,
        g_sj = -c_sj (A' r_sj [- Sigma^-1 z_sj for IWAE]),
        dL/dmu_j = sum_s g_sj [+ Sigma^-1 mu_j for the ELBO's KL],
        dL/dlog_var_j = sum_s g_sj * eps_sj * exp(log_var_j / 2) / 2
                        + [1/2 (diag(Sigma^-1) exp(log_var_j) - 1) for the ELBO's KL;
                           -1/2 for IWAE, from -log N(z; mu, var) = ... + log_var / 2].

    In the prior covariance (entries of Sigma taken as independent; P = Sigma^-1), from
    d(x' P x)/dSigma = -P x x' P and d log det Sigma / dSigma = P:

        dL/dSigma = 1/2 (B P - P M P),
        M = sum_j (diag(exp(log_var_j)) + mu_j mu_j')   for the ELBO's KL,
        M = sum_j sum_s w~_sj z_sj z_sj'                 for IWAE (the weights sum to 1),

    which :func:`~ml2p_symbolic.numeric.correlation.correlation_params_grad` carries to the
    parameters of a correlation matrix.
    """
    S, B, K = eps.shape
    sig = np.exp(0.5 * log_var)
    z = eps * sig
    z += mu
    eta = z @ A.T
    eta -= b
    softplus, p = softplus_sigmoid(eta)
    # log p(u | z) = sum_i u eta - softplus(eta)
    ll = U * eta
    ll -= softplus
    if observed is not None:
        ll *= observed
    logp = ll.sum(axis=2)  # (S, B)

    if iw:
        zP = z if precision is None else z @ precision
        log_prior_minus_q = 0.5 * (
            logdet_precision - (z * zP).sum(axis=2) + (eps * eps).sum(axis=2) + log_var.sum(axis=1)
        )
        log_w = logp + log_prior_minus_q
        m = log_w.max(axis=0)
        w = np.exp(log_w - m)
        tot = w.sum(axis=0)
        loss = -(m + np.log(tot) - np.log(S))
        c = w / tot  # normalised importance weights (S, B)
    else:
        var = sig * sig
        if precision is None:
            kl = 0.5 * (var + mu * mu - 1.0 - log_var).sum(axis=1)
        else:
            kl = 0.5 * (
                var @ np.diag(precision) + ((mu @ precision) * mu).sum(axis=1) - K
                - logdet_precision - log_var.sum(axis=1)
            )
        loss = kl - logp.mean(axis=0)
        c = None

    if not want_grad:
        return loss, None

    r = np.subtract(U, p, out=p)  # r = u - sigmoid(eta), reusing p's buffer
    if observed is not None:
        r *= observed
    if iw:
        r *= c[:, :, None]
    else:
        r *= 1.0 / S
    # r now holds c_sj r_sij
    g_A = -np.einsum("sbn,sbk->nk", r, z, optimize=True)
    g_b = r.sum(axis=(0, 1))
    g_z = -(r @ A)  # (S, B, K): d loss / d z_sj through the likelihood
    if iw:
        g_z += c[:, :, None] * zP  # d/dz of -log prior (the -log q term has no z path)
    g_mu = g_z.sum(axis=0)
    g_lv = (g_z * eps).sum(axis=0)
    g_lv *= 0.5 * sig
    if iw:
        g_lv -= 0.5
    else:
        if precision is None:
            g_mu += mu
            g_lv += 0.5 * (var - 1.0)
        else:
            g_mu += mu @ precision
            g_lv += 0.5 * (var * np.diag(precision) - 1.0)
    grads = {"A": g_A, "b": g_b, "mu": g_mu, "log_var": g_lv}
    if sigma_grad:
        if iw:
            M = np.einsum("sb,sbk,sbl->kl", c, z, z, optimize=True)
        else:
            M = mu.T @ mu
            M[np.diag_indices(K)] += var.sum(axis=0)
        P = np.eye(K) if precision is None else precision
        grads["Sigma"] = 0.5 * (B * P - P @ M @ P)
    return loss, grads


class ML2PVAE:
    """An ML2P-VAE: :class:`MLPEncoder` + Q-masked (optionally non-negative) 2PL decoder.

    Parameters
    ----------
    encoder : MLPEncoder from n items to K traits.
    A : (n, K) discriminations; entries where ``Q`` is 0 are set to 0.
    b : (n,) difficulties.
    Q : (n, K) 0/1 Q-matrix.
    nonneg : keep A >= 0 (enforced by :meth:`project`, which the trainer calls after each
        step, as Keras' ``NonNeg`` constraint does in ML2Pvae).
    Sigma : (K, K) latent prior covariance; ``None`` for N(0, I).
    corr : ``None`` (the prior is fixed), or the K(K-1)/2 free parameters w of a latent
        correlation matrix R estimated with the decoder (prior N(0, R), R = L L' with
        unit-norm rows of L; :mod:`~ml2p_symbolic.numeric.correlation`); cannot be given
        together with ``Sigma``. Zeros start at R = I.

    ``params`` lists ``encoder.params + [A, b]`` (``+ [corr]`` when the correlations are
    estimated); :meth:`loss_and_grad` returns gradients in that order (the gradient of A is
    zero where Q is 0). :attr:`Sigma` is the current prior covariance (R when estimated).

    Examples
    --------
    >>> Q = np.array([[1, 0], [1, 1], [0, 1]])
    >>> m = ML2PVAE.init(Q, hidden=(4,), seed=0)
    >>> m.A.shape, m.b.shape, bool((m.A[Q == 0] == 0).all())
    ((3, 2), (3,), True)
    """

    def __init__(self, encoder, A, b, Q, *, nonneg=True, Sigma=None, corr=None):
        Q = np.asarray(Q)
        if Q.ndim != 2:
            raise ShapeError(f"Q must be a 2-D (n, K) matrix; got shape {Q.shape}")
        if not np.isin(Q, (0, 1)).all():
            raise DomainError("Q-matrix entries must be 0 or 1")
        n, K = Q.shape
        A = np.array(A, dtype=np.float64)
        b = np.array(b, dtype=np.float64)
        if A.shape != (n, K) or b.shape != (n,):
            raise ShapeError(f"A must have shape {(n, K)} and b {(n,)}; got {A.shape} and {b.shape}")
        if encoder.n_items != n or encoder.n_traits != K:
            raise ShapeError(
                f"the encoder maps {encoder.n_items} items to {encoder.n_traits} traits; "
                f"the Q-matrix has {n} items and {K} traits"
            )
        self.encoder = encoder
        self.Q = Q.astype(bool)
        self.mask = self.Q.astype(np.float64)
        self.A = A
        self.b = b
        self.nonneg = bool(nonneg)
        if corr is not None:
            if Sigma is not None:
                raise ArgumentError("give Sigma (a fixed prior covariance) or corr (the parameters "
                                    "of an estimated correlation matrix), not both")
            if K < 2:
                raise DomainError("a correlation matrix is estimated for K >= 2 traits; got K = 1")
            corr = np.array(corr, dtype=np.float64)
            if corr.shape != (n_correlation_params(K),):
                raise ShapeError(f"corr must have shape ({n_correlation_params(K)},) for K = {K}; "
                                 f"got {corr.shape}")
        self.corr = corr
        self._Sigma = None if Sigma is None else np.asarray(Sigma, dtype=np.float64)
        self._fixed_prior = prior_precision(self._Sigma, K)
        self.project()

    @classmethod
    def init(cls, Q, *, hidden=(64,), activation="elu", nonneg=True, Sigma=None, U=None, seed=None,
             estimate_correlation=False):
        """A fresh model for Q-matrix ``Q`` (n, K).

        With ``estimate_correlation`` the prior is N(0, R) with R a correlation matrix
        estimated with the decoder, starting at R = I (``corr`` zeros).

        A starts at 1 where Q is 1; b starts at -logit(item mean of ``U``) / sqrt(1 + |a_i|^2 pi/8)
        when responses ``U`` (N, n) are given (0 otherwise; the mean is over the answered
        cells, 1/2 for an item with none, clipped to [0.01, 0.99]), close to the marginal item
        difficulty under N(0, I). The encoder is drawn by :meth:`MLPEncoder.init` with ``seed``.
        """
        Q = np.asarray(Q)
        n, K = Q.shape
        rng = as_generator(seed)
        enc = MLPEncoder.init(n, K, hidden=hidden, activation=activation, seed=rng)
        A = (Q != 0).astype(np.float64)
        b = np.zeros(n)
        if U is not None:
            U = np.asarray(U, dtype=np.float64)
            answered = ~np.isnan(U)
            count = answered.sum(axis=0)
            pbar = np.where(answered, U, 0.0).sum(axis=0) / np.maximum(count, 1)
            pbar = np.clip(np.where(count > 0, pbar, 0.5), 0.01, 0.99)  # 0.5: no answer among U
            b = -np.log(pbar / (1 - pbar)) * np.sqrt(1 + (A * A).sum(axis=1) * np.pi / 8)
        corr = np.zeros(n_correlation_params(K)) if estimate_correlation else None
        return cls(enc, A, b, Q, nonneg=nonneg, Sigma=Sigma, corr=corr)

    @property
    def n_items(self):
        return self.Q.shape[0]

    @property
    def n_traits(self):
        return self.Q.shape[1]

    @property
    def params(self):
        """``encoder.params + [A, b]``, ``+ [corr]`` when the correlations are estimated
        (views: updating them in place updates the model)."""
        return self.encoder.params + [self.A, self.b] + ([] if self.corr is None else [self.corr])

    @property
    def Sigma(self):
        """The prior covariance: the estimated R, the fixed Sigma, or ``None`` for I."""
        if self.corr is not None:
            return correlation_from_params(self.corr, self.n_traits)
        return self._Sigma

    def prior(self):
        """``(P, logdet_P)`` of the current prior N(0, Sigma): P = Sigma^-1 (``None`` for I)."""
        if self.corr is not None:
            return correlation_precision(self.corr, self.n_traits)
        return self._fixed_prior

    @property
    def precision(self):
        return self.prior()[0]

    @property
    def logdet_precision(self):
        return self.prior()[1]

    def copy(self):
        """A deep copy."""
        return ML2PVAE(self.encoder.copy(), self.A.copy(), self.b.copy(), self.Q,
                       nonneg=self.nonneg, Sigma=self._Sigma,
                       corr=None if self.corr is None else self.corr.copy())

    def project(self):
        """Enforce the constraints in place: A_ik = 0 where Q_ik = 0, and A >= 0 if ``nonneg``."""
        self.A *= self.mask
        if self.nonneg:
            np.maximum(self.A, 0.0, out=self.A)

    def encode(self, U):
        """``(mu, log_var)``, each (N, K), for responses ``U`` (N, n); missing (NaN) reads as 0."""
        U = np.asarray(U, dtype=np.float64)
        if np.isnan(U).any():
            U = np.nan_to_num(U, nan=0.0)
        return self.encoder(U)

    def decode(self, theta):
        """P = sigmoid(theta A' - b), shape (N, n), for abilities ``theta`` (N, K)."""
        eta = np.asarray(theta, dtype=np.float64) @ self.A.T - self.b
        return sigmoid(eta, out=eta)

    def loss_and_grad(self, U, eps, *, iw=False, observed=None, want_grad=True):
        """Per-student loss (B,) and gradients (a list aligned with :attr:`params`).

        ``U`` (B, n) holds the responses with missing entries already replaced by 0 and
        flagged False in ``observed`` (or ``observed=None`` when all are observed);
        ``eps`` (S, B, K) the standard normal draws. See :func:`objective_and_grad` for the
        two objectives (``iw=False``: the seed's ELBO; ``iw=True``: the IWAE bound).
        """
        mu, log_var, cache = self.encoder.forward(U)
        precision, logdet_precision = self.prior()
        estimate = self.corr is not None
        loss, g = objective_and_grad(
            U, self.A, self.b, mu, log_var, eps, precision=precision,
            logdet_precision=logdet_precision, iw=iw, observed=observed, want_grad=want_grad,
            sigma_grad=estimate,
        )
        if not want_grad:
            return loss, None
        grads = self.encoder.backward(cache, g["mu"], g["log_var"])
        g["A"] *= self.mask
        grads += [g["A"], g["b"]]
        if estimate:
            grads.append(correlation_params_grad(self.corr, self.n_traits, g["Sigma"]))
        return loss, grads
