"""Seeded simulation of ML2P (multidimensional 2PL) data: Q-matrix, A, b, theta, responses.

The generating model is eq. (1) of the seed with a Q-matrix:

    theta_j ~ N(0, Sigma)  (Sigma = I unless given),
    u_ij ~ Bernoulli(sigmoid(sum_k A_ik theta_jk - b_i)),   A_ik = 0 where Q_ik = 0.

Defaults follow the Sim-ECPE-like design of the recovery study (Curi et al., IJCNN 2019):
each item loads on one or two traits at random, every trait is measured by at least three
items, a ~ Uniform(0.25, 1.75) where Q is 1 and b ~ Uniform(-3, 3). ``q=p`` (a float) draws
Q_ik ~ Bernoulli(p) instead, as in Sim-6 (Converse et al., Machine Learning 2021).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DomainError, ShapeError
from .budget import check_memory
from .special import sigmoid
from .validate import as_generator

__all__ = ["SimulatedData", "simulate", "simulate_q", "random_correlation", "simulation_bytes"]


def simulation_bytes(n_students, n_items, n_traits):
    """Peak memory of :func:`simulate` in bytes, estimated: theta (N, K) and, at once,
    three float64 (N, n) arrays (the probabilities, the uniform draws, U) and a boolean one.

    >>> simulation_bytes(10_000, 28, 3) / 1e6
    7.24
    """
    N, n, K = float(n_students), float(n_items), float(n_traits)
    return 8 * N * K + 25 * N * n


@dataclass(frozen=True, eq=False)
class SimulatedData:
    """A simulated data set and the truth that generated it.

    Attributes
    ----------
    U : (N, n) float64 array of 0/1 responses.
    Q : (n, K) int array, the Q-matrix.
    A : (n, K) true discriminations (0 where Q is 0).
    b : (n,) true difficulties.
    theta : (N, K) true abilities.
    Sigma : (K, K) latent covariance used to draw theta.
    """

    U: np.ndarray
    Q: np.ndarray
    A: np.ndarray
    b: np.ndarray
    theta: np.ndarray
    Sigma: np.ndarray


def simulate_q(n_items, n_traits, *, q="ecpe", min_items=3, seed=None):
    """Draw an (n, K) 0/1 Q-matrix.

    ``q="ecpe"``: each item loads on one or two traits (each with probability 1/2, the
    traits chosen uniformly), and every trait is measured by at least ``min_items`` items:
    a random set of ``min_items * K`` items is dealt round-robin one guaranteed trait each,
    so the condition holds by construction (needs n >= min_items * K).
    ``q=p`` (a float in (0, 1]): Q_ik ~ Bernoulli(p), then every empty row gets one trait at
    random and every empty column one item at random (so no item and no trait is left out).
    ``seed`` is an int or a numpy ``Generator``.

    Examples
    --------
    >>> Q = simulate_q(28, 3, seed=11)
    >>> Q.shape, bool((Q.sum(axis=0) >= 3).all()), set(Q.sum(axis=1)) <= {1, 2}
    ((28, 3), True, True)
    """
    rng = as_generator(seed)
    n, K = int(n_items), int(n_traits)
    if n < 1 or K < 1:
        raise ShapeError(f"need at least one item and one trait; got n={n}, K={K}")
    Q = np.zeros((n, K), dtype=int)
    if isinstance(q, str):
        if q != "ecpe":
            raise DomainError(f"unknown Q design {q!r}; expected 'ecpe' or a probability")
        if n < min_items * K:
            raise ShapeError(
                f"every trait needs at least {min_items} items, so n >= {min_items * K} for "
                f"K = {K}; got n = {n}"
            )
        guaranteed = rng.permutation(n)[: min_items * K]
        first = rng.integers(0, K, size=n)
        first[guaranteed] = np.arange(min_items * K) % K
        Q[np.arange(n), first] = 1
        if K > 1:
            two = rng.random(n) < 0.5
            other = (first + rng.integers(1, K, size=n)) % K  # a different trait, uniformly
            Q[np.flatnonzero(two), other[two]] = 1
        return Q
    p = float(q)
    if not 0.0 < p <= 1.0:
        raise DomainError(f"the Q-matrix probability must be in (0, 1]; got {p}")
    Q[:] = rng.random((n, K)) < p
    for i in np.flatnonzero(Q.sum(axis=1) == 0):
        Q[i, rng.integers(K)] = 1
    for k in np.flatnonzero(Q.sum(axis=0) == 0):
        Q[rng.integers(n), k] = 1
    return Q


def random_correlation(n_traits, *, low=0.0, high=0.5, seed=None):
    """A random (K, K) correlation matrix with off-diagonal entries ~ Uniform(low, high),
    redrawn until positive definite. ``seed`` is an int or a numpy ``Generator``.

    >>> R = random_correlation(3, seed=0)
    >>> bool(np.allclose(np.diag(R), 1)) and bool(np.all(np.linalg.eigvalsh(R) > 0))
    True
    """
    rng = as_generator(seed)
    K = int(n_traits)
    for _ in range(1000):
        R = np.eye(K)
        iu = np.triu_indices(K, 1)
        R[iu] = rng.uniform(low, high, size=len(iu[0]))
        R = np.triu(R) + np.triu(R, 1).T
        if np.linalg.eigvalsh(R).min() > 1e-6:
            return R
    raise DomainError(f"no positive definite correlation matrix with entries in [{low}, {high}]")


def simulate(n_students=10_000, n_items=28, n_traits=3, *, seed=None, q="ecpe", Q=None,
             a_range=(0.25, 1.75), b_range=(-3.0, 3.0), Sigma=None, min_items=3):
    """Simulate responses from the Q-masked multidimensional 2PL.

    Parameters
    ----------
    n_students, n_items, n_traits : N, n, K.
    seed : int or numpy ``Generator``; the same seed gives the same data set.
    q : Q design for :func:`simulate_q`: ``"ecpe"`` (default) or a probability p (Sim-6).
    Q : a given (n, K) Q-matrix instead of a drawn one.
    a_range : A_ik ~ Uniform(a_range) where Q_ik = 1, and A_ik = 0 elsewhere.
    b_range : b_i ~ Uniform(b_range).
    Sigma : (K, K) covariance of theta ~ N(0, Sigma); default I.
    min_items : least number of items per trait in the ``"ecpe"`` design.

    Returns
    -------
    SimulatedData with U (N, n) 0/1, Q, A, b, theta (N, K), Sigma.

    Draw order (fixed, for reproducibility): Q, A, b, theta, U.

    Examples
    --------
    >>> d = simulate(100, 9, 3, seed=0)
    >>> d.U.shape, d.theta.shape, d.A.shape, bool(np.all((d.A > 0) == (d.Q == 1)))
    ((100, 9), (100, 3), (9, 3), True)
    """
    rng = as_generator(seed)
    N, n, K = int(n_students), int(n_items), int(n_traits)
    if N < 1:
        raise ShapeError(f"need at least one student; got N={N}")
    check_memory(simulation_bytes(N, n, K), f"simulating {N:,} students x {n:,} items",
                 "simulate fewer students or items")
    if Q is None:
        Q = simulate_q(n, K, q=q, min_items=min_items, seed=rng)
    else:
        Q = np.asarray(Q)
        if Q.shape != (n, K):
            raise ShapeError(f"Q must have shape ({n}, {K}); got {Q.shape}")
        if not np.isin(Q, (0, 1)).all():
            raise DomainError("Q-matrix entries must be 0 or 1")
        Q = Q.astype(int)
    lo, hi = a_range
    A = np.where(Q == 1, rng.uniform(lo, hi, size=(n, K)), 0.0)
    b = rng.uniform(*b_range, size=n)
    if Sigma is None:
        Sigma = np.eye(K)
        theta = rng.standard_normal((N, K))
    else:
        Sigma = np.asarray(Sigma, dtype=np.float64)
        if Sigma.shape != (K, K):
            raise ShapeError(f"Sigma must have shape ({K}, {K}); got {Sigma.shape}")
        try:
            L = np.linalg.cholesky(Sigma)
        except np.linalg.LinAlgError:
            raise DomainError("Sigma must be symmetric positive definite") from None
        theta = rng.standard_normal((N, K)) @ L.T
    eta = theta @ A.T - b
    P = sigmoid(eta, out=eta)
    U = (rng.random((N, n)) < P).astype(np.float64)
    return SimulatedData(U=U, Q=Q, A=A, b=b, theta=theta, Sigma=Sigma)
