r"""The response distribution: all :math:`2^n` patterns, and the quadrature over the traits.

The true model draws :math:`\theta \sim \mathcal N(0, \Sigma)` (:math:`\Sigma = I_K` when
``Sigma`` is ``None``) and answers item :math:`i` correctly with probability
:math:`P_i(\theta) = \sigma(a_i\cdot\theta - b_i)`, independently given :math:`\theta`:

.. math::  p(u; A, b) = \int \prod_{i=1}^n P_i(\theta)^{u_i}(1-P_i(\theta))^{1-u_i}
           \,\phi(\theta; 0, \Sigma)\,d\theta, \qquad u \in \{0, 1\}^n.

The integral runs through the Cholesky factor :math:`\Sigma = C C^\top`: with
:math:`\theta = C x`, :math:`x \sim \mathcal N(0, I)`, the logits are
:math:`a_i\cdot\theta - b_i = (C^\top a_i)\cdot x - b_i`, so :math:`p(u; A, b, \Sigma) =
p(u; AC, b, I)`, taken by the package's tensor Gauss-Hermite rule (``nodes`` points per
trait). ``A`` has shape ``(n, K)``, ``b`` shape ``(n,)``; patterns are the binary
expansions of ``0 .. 2**n - 1``, item 1 the most significant digit.

This module also holds the input checks and the cost estimate shared by the encoders.
"""

from __future__ import annotations

import math
import numbers
import sys
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import DomainError, QMatrixError, ResourceError, ShapeError
from ..numeric.budget import check_memory
from ..numeric.gauss_hermite import hermite_tensor_rule
from ..numeric.special import softplus
from ..numeric.validate import check_covariance, plain

__all__ = [
    "ENCODERS",
    "WORK_LIMIT_SECONDS",
    "estimate_cost",
    "response_patterns",
    "gauss_hermite_normal",
    "pattern_probabilities",
    "response_entropy",
]

ENCODERS = ("exact", "gaussian")
_CHUNK = 1 << 22  # entries of a (patterns x nodes) block kept in memory at once
#: Work estimated to take longer than this (seconds, on one core) is refused with the
#: figure (:func:`estimate_cost`); raise ``ml2p_symbolic.population.WORK_LIMIT_SECONDS`` to
#: allow longer runs.
WORK_LIMIT_SECONDS = 3600.0


# --------------------------------------------------------------------------- the prior
@dataclass(frozen=True)
class Prior:
    r"""The traits' prior :math:`\mathcal N(0, \Sigma)`, checked once.

    ``Sigma`` and ``chol`` (:math:`C`, :math:`\Sigma = CC^\top`) are ``None`` for
    :math:`\Sigma = I`; ``precision`` is :math:`\Sigma^{-1}` (``(K, K)``) and ``logdet``
    :math:`\log\det\Sigma`.
    """

    K: int
    Sigma: np.ndarray | None
    chol: np.ndarray | None
    precision: np.ndarray
    logdet: float

    def whiten(self, A):
        r"""The slopes on the standardised traits :math:`x = C^{-1}\theta`: :math:`AC`."""
        return A if self.chol is None else A @ self.chol

    def preserves(self, M):
        r"""Whether :math:`M\Sigma M^\top = \Sigma` (to 1e-12): the transformation keeps the prior."""
        S = np.eye(self.K) if self.Sigma is None else self.Sigma
        return bool(np.allclose(M @ S @ M.T, S, rtol=0, atol=1e-12))


def make_prior(Sigma, K):
    """The :class:`Prior` of ``Sigma`` (``None``: the identity) for ``K`` traits.

    Raises :class:`~ml2p_symbolic.errors.ShapeError` unless ``Sigma`` is ``(K, K)`` and
    :class:`~ml2p_symbolic.errors.DomainError` unless it is finite, symmetric and positive
    definite (:func:`ml2p_symbolic.numeric.validate.check_covariance`).
    """
    if Sigma is None:
        return Prior(K=K, Sigma=None, chol=None, precision=np.eye(K), logdet=0.0)
    S, C = check_covariance(Sigma, K)
    Ci = np.linalg.inv(C)
    return Prior(K=K, Sigma=S, chol=C, precision=Ci.T @ Ci, logdet=float(2 * np.log(np.diag(C)).sum()))


# --------------------------------------------------------------------------- inputs
def check_items(A, b, name="A, b"):
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


def check_encoder(encoder):
    if encoder not in ENCODERS:
        raise DomainError(f"encoder must be one of {ENCODERS}, got {encoder!r}")


def check_q_pattern(Q, A, name="A"):
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


def check_nodes(nodes):
    if (isinstance(nodes, numbers.Real) and not isinstance(nodes, (bool, np.bool_))
            and math.isfinite(nodes) and int(nodes) == nodes and nodes >= 1):
        return int(nodes)
    raise DomainError(f"nodes must be a positive integer, got {plain(nodes)}")


# --------------------------------------------------------------------------- cost
def estimate_cost(n, K, *, nodes=64, encoder="exact", order=0):
    r"""Estimated peak memory (bytes) and time (seconds, one core) of one evaluation.

    ``order``: 0 the loss (:func:`~ml2p_symbolic.population.expected_neg_elbo`,
    :func:`pattern_probabilities`), 1 with its gradient, 2 with its Hessian (one Newton step
    of :func:`~ml2p_symbolic.population.fit_decoder`). The ``2**n`` patterns meet the
    ``nodes**K`` quadrature points: the exact encoder costs about
    :math:`2^n \cdot \mathrm{nodes}^K \cdot n` operations (measured 5e7 to 6e8 a second),
    the Gaussian one :math:`2^n \cdot n \cdot \mathrm{nodes}` times its inner Newton
    iterations (measured 3e6 a second). Memory: the patterns (``2**n x n``), the
    probabilities, the rule and the (n, nodes**K) logits, one block of
    ``_CHUNK`` = 4,194,304 entries (three arrays), and for ``order=2`` the
    (nodes**K, n, n) second moments (four arrays) and the (2**n, n(K+1)) scores.
    A prior covariance changes neither figure. Returns ``{"bytes", "seconds"}``; the
    functions of :mod:`ml2p_symbolic.population` call it and raise
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


def _work_limit():
    """``WORK_LIMIT_SECONDS`` as set on the package (where the docs say to raise it)."""
    package = sys.modules.get(__package__)
    return getattr(package, "WORK_LIMIT_SECONDS", WORK_LIMIT_SECONDS)


def check_cost(n, K, nodes, encoder="exact", order=0, what="the expected loss"):
    """Refuse, with the figures, work too large for memory or for WORK_LIMIT_SECONDS."""
    cost = estimate_cost(n, K, nodes=nodes, encoder=encoder, order=order)
    work = f"{what} over 2**{n} = {2 ** n:,} patterns and {nodes}**{K} = {nodes ** K:,} nodes"
    hint = "use fewer nodes (quadrature points per trait) or fewer items"
    check_memory(cost["bytes"], work, hint)
    limit = _work_limit()
    if cost["seconds"] > limit:
        raise ResourceError(
            f"{work} would take about {_duration(cost['seconds'])} on one core (limit "
            f"{_duration(limit)}, population.WORK_LIMIT_SECONDS); {hint}"
        )


def _duration(seconds):
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.2g} {unit}"
    return f"{seconds:.2g} s"


# --------------------------------------------------------------------------- building blocks
@lru_cache(maxsize=32)
def patterns(n):
    """The (2**n, n) read-only 0/1 array of all patterns (cached)."""
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
    return patterns(int(n)).copy()


def standard_rule(nodes, K):
    """The tensor rule of N(0, I_K): points (nodes**K, K) and log-weights (read-only, cached)."""
    return hermite_tensor_rule(nodes, K, log_weights=True)


def gauss_hermite_normal(nodes, K=1, *, Sigma=None):
    r"""Tensor Gauss-Hermite rule for :math:`\mathcal N(0, \Sigma)`: ``(theta, weights)``.

    ``theta`` has shape ``(nodes**K, K)``; the weights are positive and sum to 1. For
    :math:`\Sigma = I` (``Sigma=None``), :math:`\sum_q w_q f(\theta_q) = E f(\theta)` exactly
    for polynomials of degree :math:`\le 2\,\mathrm{nodes} - 1` in each coordinate: this is
    :func:`ml2p_symbolic.numeric.gauss_hermite.hermite_tensor_rule`, the package's one rule,
    returned as writable copies. For a covariance ``Sigma`` the points are
    :math:`\theta_q = C x_q` with :math:`\Sigma = CC^\top` (Cholesky), so the rule is exact
    for the polynomials of :math:`C^{-1}\theta` of that degree.

    Examples
    --------
    >>> theta, w = gauss_hermite_normal(5)
    >>> round(float(w @ theta[:, 0] ** 4), 12)  # E theta^4 = 3
    3.0
    >>> theta, w = gauss_hermite_normal(5, 2, Sigma=[[1.0, 0.5], [0.5, 2.0]])
    >>> (theta.T * w) @ theta  # the covariance, exactly
    array([[1. , 0.5],
           [0.5, 2. ]])
    """
    K = int(K)
    prior = make_prior(Sigma, K)
    theta, w = hermite_tensor_rule(check_nodes(nodes), K)
    return (theta.copy() if prior.chol is None else theta @ prior.chol.T), w.copy()


def logsumexp_rows(X):
    m = X.max(axis=1)
    return m + np.log(np.exp(X - m[:, None]).sum(axis=1))


def chunks(n_patterns, n_nodes):
    step = max(1, _CHUNK // max(1, n_nodes))
    for start in range(0, n_patterns, step):
        yield slice(start, min(n_patterns, start + step))


def log_pattern_probabilities(A, b, nodes, prior=None):
    """log p(u; A, b) for every pattern, shape (2**n,), under the prior (None: N(0, I))."""
    if prior is not None:
        A = prior.whiten(A)
    n, K = A.shape
    theta, logw = standard_rule(nodes, K)
    z = A @ theta.T - b[:, None]  # (n, Q)
    base = logw - softplus(z).sum(axis=0)  # (Q,)
    U = patterns(n)
    out = np.empty(U.shape[0])
    for sl in chunks(U.shape[0], theta.shape[0]):
        out[sl] = logsumexp_rows(U[sl] @ z + base)
    return out


def pattern_probabilities(A, b, *, Sigma=None, nodes=64):
    r"""Probabilities :math:`p(u; A, b)` of all :math:`2^n` response patterns, shape ``(2**n,)``.

    .. math:: p(u) = \sum_q w_q \exp\Big(\sum_i u_i z_{iq} - \log(1 + e^{z_{iq}})\Big),
              \qquad z_{iq} = a_i\cdot C x_q - b_i,

    with the Gauss-Hermite rule :math:`(x_q, w_q)` of :func:`gauss_hermite_normal` and
    :math:`C` the Cholesky factor of ``Sigma`` (``None``: :math:`\Sigma = I`, :math:`C = I`).
    For every node the inner sum over patterns is exactly 1, so the probabilities sum to 1
    up to rounding whatever ``nodes`` is; ``nodes`` controls only the accuracy of each
    :math:`p(u)`.

    Examples
    --------
    >>> p = pattern_probabilities([[1.0], [2.0]], [0.0, 0.5])
    >>> p.round(6)
    array([0.35101 , 0.14899 , 0.224233, 0.275767])
    >>> bool(abs(p.sum() - 1) < 1e-12)
    True
    """
    A, b = check_items(A, b)
    nodes = check_nodes(nodes)
    prior = make_prior(Sigma, A.shape[1])
    check_cost(A.shape[0], A.shape[1], nodes, what="the pattern probabilities")
    return np.exp(log_pattern_probabilities(A, b, nodes, prior))


def response_entropy(A, b, *, Sigma=None, nodes=64):
    r"""Entropy of the true response distribution, :math:`H(p) = -\sum_u p(u)\log p(u)` (nats).

    :math:`p` is :func:`pattern_probabilities` under :math:`\theta \sim \mathcal N(0, \Sigma)`
    (``Sigma=None``: :math:`\mathcal N(0, I)`). This is the smallest possible expected loss
    of any decoder with any encoder (see :func:`~ml2p_symbolic.population.expected_neg_elbo`).

    Examples
    --------
    >>> round(response_entropy([[1.0], [2.0]], [0.0, 0.5]), 9)
    1.341631854
    >>> round(response_entropy([[1.0, 0.0], [0.0, 2.0]], [0.0, 0.5], Sigma=[[1, 0.6], [0.6, 1]]), 9)
    1.363525442
    """
    A, b = check_items(A, b)
    nodes = check_nodes(nodes)
    prior = make_prior(Sigma, A.shape[1])
    check_cost(A.shape[0], A.shape[1], nodes, what="the response entropy")
    logp = log_pattern_probabilities(A, b, nodes, prior)
    return float(-(np.exp(logp) @ logp))
