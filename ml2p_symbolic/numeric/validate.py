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
    "as_generator",
    "check_log_var",
    "check_covariance",
    "LOG_VAR_MAX",
    "plain",
    "check_responses",
]

#: log of the largest float64: exp(log_var) overflows to inf above it.
LOG_VAR_MAX = float(np.log(np.finfo(np.float64).max))


def plain(value):
    """A value as a message shows it: numbers plainly (``np.float64(2.0)`` -> ``2.0``,
    ``np.int64(3)`` -> ``3``, NaN -> ``nan``), anything else by ``repr``.

    >>> plain(np.float64(2.0)), plain(np.int64(-1)), plain("x")
    ('2.0', '-1', "'x'")
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return repr(value)


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


def check_covariance(Sigma, K, name="Sigma", *, correlation=False):
    r"""``Sigma`` as a symmetric positive definite ``(K, K)`` float64 array, and its Cholesky factor.

    Returns ``(Sigma, C)`` with :math:`\Sigma = C C^\top`, ``C`` lower triangular with a
    positive diagonal; ``Sigma`` is returned symmetrised, :math:`(\Sigma + \Sigma^\top)/2`.
    With ``correlation=True`` the diagonal must also be 1 (to 1e-12): a correlation matrix.

    Raises :class:`ShapeError` for another shape than ``(K, K)`` and :class:`DomainError`
    for a non-numeric, NaN or infinite entry, an asymmetric matrix (beyond 1e-12 times its
    largest entry), a matrix that is not positive definite (its smallest eigenvalue is
    given), or, for a correlation matrix, a diagonal entry other than 1.

    >>> S, C = check_covariance([[1.0, 0.5], [0.5, 1.0]], 2)
    >>> C.round(4).tolist(), bool(np.allclose(C @ C.T, S, rtol=0, atol=1e-15))
    ([[1.0, 0.0], [0.5, 0.866]], True)
    >>> check_covariance([[1.0, 2.0], [2.0, 1.0]], 2)
    Traceback (most recent call last):
    ...
    ml2p_symbolic.errors.DomainError: Sigma must be positive definite (a covariance matrix); its smallest eigenvalue is -1.0
    """
    try:
        S = np.array(Sigma, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DomainError(f"{name} must be a real ({K}, {K}) matrix; {exc}") from None
    if S.shape != (K, K):
        raise ShapeError(f"{name} must have shape (K, K) = ({K}, {K}), one row and column per trait; "
                         f"got {S.shape}")
    check_finite(S, name)
    tol = 1e-12 * max(1.0, float(np.abs(S).max()))
    asym = np.abs(S - S.T)
    if asym.max() > tol:
        i, k = np.unravel_index(int(np.argmax(asym)), S.shape)
        raise DomainError(f"{name} must be symmetric; {name}[{i}, {k}] = {plain(S[i, k])} but "
                          f"{name}[{k}, {i}] = {plain(S[k, i])}")
    S = 0.5 * (S + S.T)
    if correlation:
        off = np.abs(np.diag(S) - 1.0)
        if off.max() > 1e-12:
            k = int(np.argmax(off))
            raise DomainError(f"{name} must be a correlation matrix (unit diagonal); "
                              f"{name}[{k}, {k}] = {plain(S[k, k])}")
        S[np.diag_indices(K)] = 1.0
    try:
        C = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        C = None
    if C is None or not np.all(np.diag(C) > 0):
        what = "a correlation matrix" if correlation else "a covariance matrix"
        raise DomainError(f"{name} must be positive definite ({what}); its smallest eigenvalue is "
                          f"{plain(float(np.linalg.eigvalsh(S)[0]))}")
    return S, C


def check_probabilities(arr, name):
    """Raise :class:`DomainError` unless every entry of ``arr`` lies in [0, 1]."""
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise DomainError(
            f"{name} must hold responses or probabilities in [0, 1]; "
            f"got values in [{plain(arr.min())}, {plain(arr.max())}]"
        )


def check_nodes(nodes):
    """``nodes`` if it is an int >= 1 or ``"auto"``; :class:`DomainError` otherwise."""
    if isinstance(nodes, str):
        if nodes == "auto":
            return nodes
    elif isinstance(nodes, numbers.Integral) and not isinstance(nodes, (bool, np.bool_)):
        if nodes >= 1:
            return int(nodes)
    raise DomainError(f'nodes must be a positive int or "auto"; got {plain(nodes)}')


def check_log_var(log_var, A=None):
    """Raise :class:`DomainError` where the variances the loss needs overflow float64.

    The KL term needs sum_k exp(log_var_jk), and the noise expectation the variance of
    z_hat, v_ij = sum_k A_ik^2 exp(log_var_jk); both must be finite (the loss would be inf
    and its gradients NaN). The message names ``log_var`` and its first offending row.
    ``log_var`` (N, K), ``A`` (n, K) or None.
    """
    if log_var.size == 0 or log_var.max() < LOG_VAR_MAX - 50:  # far from overflow: no work
        return
    with np.errstate(over="ignore"):
        E = np.exp(log_var)
        bad = ~np.isfinite(E.sum(axis=1))
        if A is not None and A.size:
            bad |= ~np.isfinite(E @ (A * A).T).all(axis=1)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        k = int(np.argmax(log_var[j]))
        raise DomainError(
            f"log_var is too large: log_var[{j}, {k}] = {float(log_var[j, k]):g} makes the variance "
            f"exp(log_var) (or sum_k A_ik^2 exp(log_var_jk)) overflow float64 (log_var must stay "
            f"below {LOG_VAR_MAX:.2f}, less for large A); {int(bad.sum())} student row(s) affected"
        )


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
    check_log_var(log_var, A)
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


def as_generator(seed, name="seed"):
    """A numpy ``Generator`` from ``seed``: ``None`` (fresh entropy), an int >= 0, a
    ``SeedSequence``, or a ``Generator`` (returned as it is, so draws continue from it).

    Raises :class:`DomainError` for anything else (a negative int, a float, a string).

    >>> as_generator(3).integers(10) == as_generator(3).integers(10)
    np.True_
    >>> as_generator(-1)
    Traceback (most recent call last):
    ...
    ml2p_symbolic.errors.DomainError: seed must be an int >= 0, a numpy Generator or None; got -1
    """
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise DomainError(f"{name} must be an int >= 0, a numpy Generator or None; got {plain(seed)}")


def check_responses(U, Q, *, require_answered=True):
    """Validate responses ``U`` (N, n) of 0, 1 or NaN (missing) and a Q-matrix (n, K) of 0/1:
    every trait measured by an item and, with ``require_answered`` (for estimation), every item
    answered by someone. Returns
    ``(U as float64, Q, missing mask)``; raises ``ShapeError``/``DomainError`` naming the problem."""
    U = np.asarray(U, dtype=np.float64)
    Q = np.asarray(Q)
    if U.ndim != 2:
        raise ShapeError(f"responses must be a 2-D (N, n) array; got shape {U.shape}")
    if U.shape[0] < 1:
        raise ShapeError("responses: no students (U has 0 rows)")
    if Q.ndim != 2 or Q.shape[0] != U.shape[1]:
        raise ShapeError(
            f"the Q-matrix must have one row per item: shape ({U.shape[1]}, K); got {Q.shape}"
        )
    missing = np.isnan(U)
    if not np.all(missing | (U == 0) | (U == 1)):
        raise DomainError("responses must be 0, 1 or NaN (missing)")
    if not np.isin(Q, (0, 1)).all():
        raise DomainError("Q-matrix entries must be 0 or 1")
    if (Q.sum(axis=0) == 0).any():
        raise DomainError("every trait (column of Q) must be measured by at least one item")
    unanswered = np.flatnonzero(missing.all(axis=0))
    if require_answered and unanswered.size:
        which = ", ".join(str(i + 1) for i in unanswered[:10]) + (", ..." if unanswered.size > 10 else "")
        raise DomainError(
            f"item{'s' if unanswered.size > 1 else ''} {which} (column{'s' if unanswered.size > 1 else ''} "
            f"of the responses, counted from 1) {'were' if unanswered.size > 1 else 'was'} answered by no "
            "student (every response missing), so the item's a and b cannot be estimated; remove "
            f"{'those items' if unanswered.size > 1 else 'the item'} from the responses and the Q-matrix"
        )
    return U, Q, missing
