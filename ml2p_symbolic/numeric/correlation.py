"""A latent correlation matrix R parametrised by free reals, valid at every value.

The K(K-1)/2 free parameters ``w`` are the strictly lower entries of a lower-triangular
matrix V with unit diagonal (in the order of ``np.tril_indices(K, -1)``: row by row). The
rows of the Cholesky factor L are the rows of V scaled to unit length, and R = L L':

    V_ii = 1,  V_ij = w_(ij) (j < i),  V_ij = 0 (j > i),
    L_i = V_i / |V_i|,                 R = L L'.

Every w gives a correlation matrix: R_ii = |L_i|^2 = 1, and R is positive definite because
L is lower triangular with L_ii = 1 / |V_i| > 0. Conversely every K x K correlation matrix
comes from exactly one w: its Cholesky factor (positive diagonal) has unit-norm rows, and
w_(ij) = L_ij / L_ii (:func:`params_from_correlation`). So a gradient method moving w
freely never leaves the set of correlation matrices, and needs no projection.

Gradient (:func:`correlation_params_grad`). For a loss f with G = df/dR (entries treated
as independent), dR = dL L' + L dL' gives df/dL = (G + G') L; with g_i the lower part of row
i of df/dL and l_i = L_i, the unit-norm map gives

    df/dV_i = (g_i - (g_i . l_i) l_i) / |V_i|,

of which the strictly lower entries are df/dw. The prior terms of the ML2P-VAE objectives
need P = R^-1 = L^-T L^-1 and log det R = 2 sum_i log L_ii = -2 sum_i log |V_i|
(:func:`correlation_precision`).

Examples
--------
>>> R = correlation_from_params(np.array([0.5, -1.0, 2.0]), 3)
>>> bool(np.allclose(np.diag(R), 1)), bool(np.linalg.eigvalsh(R).min() > 0)
(True, True)
>>> np.round(params_from_correlation(R), 12).tolist()
[0.5, -1.0, 2.0]
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, DomainError, ShapeError

__all__ = ["n_correlation_params", "cholesky_from_params", "correlation_from_params",
           "correlation_precision", "correlation_params_grad", "params_from_correlation",
           "check_estimate_correlation"]


def check_estimate_correlation(estimate_correlation, Sigma, K):
    """Refuse a request to estimate the latent correlations that cannot be met: with ``Sigma``
    given (it fixes them; ``ArgumentError``) or with one trait (nothing to estimate;
    ``DomainError``)."""
    if estimate_correlation and Sigma is not None:
        raise ArgumentError("Sigma fixes the latent covariance and estimate_correlation=True "
                            "estimates it; give one or the other")
    if estimate_correlation and K < 2:
        raise DomainError("estimate_correlation needs K >= 2 traits; with K = 1 there is no "
                          "correlation to estimate")


def n_correlation_params(K):
    """K(K-1)/2, the number of free parameters (= the correlations) of a K x K matrix.

    >>> n_correlation_params(6)
    15
    """
    return int(K) * (int(K) - 1) // 2


def _check(w, K):
    w = np.asarray(w, dtype=np.float64)
    m = n_correlation_params(K)
    if w.shape != (m,):
        raise ShapeError(f"a {K} x {K} correlation matrix has {m} free parameters; got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise DomainError("the correlation parameters must be finite")
    return w


def _V(w, K):
    V = np.eye(K)
    V[np.tril_indices(K, -1)] = w
    return V


def cholesky_from_params(w, K):
    """L (K, K): lower triangular, rows of unit length, positive diagonal; R = L L'.

    ``w`` (K(K-1)/2,) are the strictly lower entries of V (unit diagonal), L_i = V_i / |V_i|.
    """
    V = _V(_check(w, K), K)
    return V / np.sqrt((V * V).sum(axis=1, keepdims=True))


def correlation_from_params(w, K):
    """R = L L' (K, K), a correlation matrix (unit diagonal, positive definite), for any
    finite ``w`` (K(K-1)/2,); see the module docstring."""
    L = cholesky_from_params(w, K)
    R = L @ L.T
    R[np.diag_indices(K)] = 1.0  # exactly 1 (it is |L_i|^2 = 1 up to rounding)
    return R


def correlation_precision(w, K):
    """``(P, logdet_P)``: P = R^-1 = L^-T L^-1 and log det P = -log det R = 2 sum_i log |V_i|."""
    V = _V(_check(w, K), K)
    norms = np.sqrt((V * V).sum(axis=1))
    L_inv = np.linalg.inv(V / norms[:, None])
    return L_inv.T @ L_inv, 2.0 * np.log(norms).sum()


def correlation_params_grad(w, K, grad_R):
    """df/dw (K(K-1)/2,) from G = df/dR (K, K), through R = L L' and L_i = V_i / |V_i|.

    df/dL = (G + G') L; then df/dV_i = (g_i - (g_i . L_i) L_i) / |V_i| for the lower part
    g_i of row i; the strictly lower entries of df/dV are df/dw.
    """
    V = _V(_check(w, K), K)
    G = np.asarray(grad_R, dtype=np.float64)
    if G.shape != (K, K):
        raise ShapeError(f"grad_R must have shape ({K}, {K}); got {G.shape}")
    norms = np.sqrt((V * V).sum(axis=1, keepdims=True))
    L = V / norms
    g = np.tril((G + G.T) @ L)
    g_V = (g - (g * L).sum(axis=1, keepdims=True) * L) / norms
    return g_V[np.tril_indices(K, -1)]


def params_from_correlation(R):
    """The ``w`` (K(K-1)/2,) of a correlation matrix R (K, K): w_(ij) = L_ij / L_ii for
    the Cholesky factor L of R. Raises :class:`DomainError` unless R is symmetric positive
    definite with unit diagonal."""
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise ShapeError(f"a correlation matrix must be square; got shape {R.shape}")
    K = R.shape[0]
    if (not np.all(np.isfinite(R)) or not np.allclose(R, R.T, atol=1e-12)
            or not np.allclose(np.diag(R), 1.0, atol=1e-12)):
        raise DomainError("a correlation matrix must be finite and symmetric with unit diagonal")
    try:
        L = np.linalg.cholesky(R)
    except np.linalg.LinAlgError:
        raise DomainError("a correlation matrix must be positive definite") from None
    return (L / np.diag(L)[:, None])[np.tril_indices(K, -1)]
