"""Input checks of the numeric evaluator.

Every check either returns the argument as a C-contiguous float64 array or raises a
:class:`~ml2p_symbolic.errors.ML2PError` subclass (a ``ValueError``) whose message names
the argument, what it received, and what was expected:

* :class:`~ml2p_symbolic.errors.ShapeError` -- wrong number of dimensions or sizes that
  do not fit together (``A`` is (n, K), ``b`` (n,), ``mu`` and ``log_var`` (N, K),
  ``U`` (N, n), ``eps`` (S, N, K));
* :class:`~ml2p_symbolic.errors.DomainError` -- NaN or infinite entries, ``U`` outside
  [0, 1], ``nodes`` that is neither an int >= 1 nor ``"auto"``;
* :class:`~ml2p_symbolic.errors.ArgumentError` -- both or neither of ``eps`` and ``nodes``.

Examples
--------
>>> as_matrix([[1, 2]], "A").dtype
dtype('float64')
>>> check_nodes(0)
Traceback (most recent call last):
...
ml2p_symbolic.errors.DomainError: nodes must be a positive int or "auto"; got 0
"""

import numbers

import numpy as np

from ..errors import ArgumentError, DomainError, ShapeError

__all__ = [
    "as_array",
    "as_matrix",
    "as_vector",
    "check_finite",
    "check_nodes",
    "check_probabilities",
    "check_loss_inputs",
]


def as_array(x, name, ndim, expected):
    """``x`` as a float64 array with ``ndim`` dimensions, finite entries.

    ``expected`` describes the expected shape in the message, e.g. ``"(n, K)"``.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DomainError(f"{name} must be a real array of shape {expected}; {exc}") from None
    if arr.ndim != ndim:
        raise ShapeError(
            f"{name} must be a {ndim}-D array of shape {expected}; got shape {arr.shape}"
        )
    check_finite(arr, name)
    return np.ascontiguousarray(arr)


def as_matrix(x, name, expected="(rows, columns)"):
    """``x`` as a finite 2-D float64 array."""
    return as_array(x, name, 2, expected)


def as_vector(x, name, expected="(length,)"):
    """``x`` as a finite 1-D float64 array."""
    return as_array(x, name, 1, expected)


def check_finite(arr, name):
    """Raise :class:`DomainError` if ``arr`` holds NaN or +-inf."""
    if not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "infinite"
        raise DomainError(f"{name} must be finite; it contains {bad} entries")


def check_shape(arr, name, shape, expected):
    """Raise :class:`ShapeError` unless ``arr.shape == shape``."""
    if arr.shape != tuple(shape):
        raise ShapeError(
            f"{name} must have shape {expected} = {tuple(shape)}; got {arr.shape}"
        )


def check_probabilities(arr, name):
    """Raise :class:`DomainError` unless every entry of ``arr`` lies in [0, 1]."""
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise DomainError(
            f"{name} must hold responses or probabilities in [0, 1]; "
            f"got values in [{arr.min()!r}, {arr.max()!r}]"
        )


def check_nodes(nodes):
    """``nodes`` if it is an int >= 1 or ``"auto"``; :class:`DomainError` otherwise."""
    if isinstance(nodes, str):
        if nodes == "auto":
            return nodes
    elif isinstance(nodes, numbers.Integral) and not isinstance(nodes, (bool, np.bool_)):
        if nodes >= 1:
            return int(nodes)
    raise DomainError(f'nodes must be a positive int or "auto"; got {nodes!r}')


def check_loss_inputs(U, A, b, mu, log_var, eps, nodes):
    """Validate the arguments of :func:`~ml2p_symbolic.numeric.vae_loss`.

    Returns ``(U, A, b, mu, log_var, eps, nodes)`` with arrays as float64; ``eps`` is
    None when ``nodes`` is given and the other way round.
    """
    if (eps is None) == (nodes is None):
        which = "both" if eps is not None else "neither"
        raise ArgumentError(
            f"give exactly one of eps (noise draws of shape (S, N, K)) and nodes "
            f'(an int >= 1 or "auto"); got {which}'
        )
    A = as_matrix(A, "A", "(n, K)")
    n, K = A.shape
    b = as_vector(b, "b", "(n,)")
    check_shape(b, "b", (n,), "(n,)")
    mu = as_matrix(mu, "mu", "(N, K)")
    N = mu.shape[0]
    check_shape(mu, "mu", (N, K), "(N, K)")
    log_var = as_matrix(log_var, "log_var", "(N, K)")
    check_shape(log_var, "log_var", (N, K), "(N, K)")
    U = as_matrix(U, "U", "(N, n)")
    check_shape(U, "U", (N, n), "(N, n)")
    check_probabilities(U, "U")
    if eps is not None:
        eps = as_array(eps, "eps", 3, "(S, N, K)")
        if eps.shape[1:] != (N, K) or eps.shape[0] < 1:
            raise ShapeError(
                f"eps must have shape (S, N, K) = (S, {N}, {K}) with S >= 1; got {eps.shape}"
            )
    else:
        nodes = check_nodes(nodes)
    return U, A, b, mu, log_var, eps, nodes
