r"""The expected VAE loss of a decoder under the true model, its gradient, and its minimiser.

.. math:: \mathcal L(\hat A, \hat b) = \sum_{u\in\{0,1\}^n} p(u; A, b)\,
          \min_{q\in\mathcal Q}\Big(-E_q\log p(u\mid\theta;\hat A,\hat b)
          + \mathrm{KL}(q\,\|\,\mathcal N(0, \Sigma))\Big),

with the encoder family :math:`\mathcal Q` of :mod:`.exact` (all distributions) or
:mod:`.gaussian` (diagonal Gaussians), and :math:`\theta \sim \mathcal N(0, \Sigma)` both in
the truth :math:`p(u; A, b)` and in the model's prior. :func:`fit_decoder` minimises it by a
safeguarded Newton method; :func:`minimiser_bias` measures how far its minimiser is from the
truth, modulo the transformations that keep the loss (:func:`align_to`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..errors import ShapeError
from .exact import exact_terms
from .gaussian import gaussian_terms
from .patterns import (
    check_cost,
    check_encoder,
    check_items,
    check_nodes,
    check_q_pattern,
    log_pattern_probabilities,
    make_prior,
)

__all__ = [
    "expected_neg_elbo",
    "expected_neg_elbo_grad",
    "DecoderFit",
    "fit_decoder",
    "MinimiserBias",
    "minimiser_bias",
    "align_to",
]


def _terms(x, p, nodes, order, encoder, prior):
    if encoder == "exact":
        return exact_terms(x, p, nodes, order, prior)
    out = gaussian_terms(x, p, nodes, order, prior)
    return out[:-1] if order else out[0]


# --------------------------------------------------------------------------- public losses
def _inputs(A_hat, b_hat, A, b, encoder, nodes, Sigma, order, what):
    check_encoder(encoder)
    nodes = check_nodes(nodes)
    A, b = check_items(A, b)
    A_hat, b_hat = check_items(A_hat, b_hat, "A_hat, b_hat")
    if A_hat.shape != A.shape:
        raise ShapeError(f"A_hat has shape {A_hat.shape} but A has shape {A.shape}")
    prior = make_prior(Sigma, A.shape[1])
    check_cost(*A.shape, nodes, encoder, order=order, what=what)
    p = np.exp(log_pattern_probabilities(A, b, nodes, prior))
    return np.hstack([A_hat, b_hat[:, None]]), p, nodes, prior


def expected_neg_elbo(A_hat, b_hat, A, b, *, encoder="exact", Sigma=None, nodes=64):
    r"""Expected per-student VAE loss of the decoder :math:`(\hat A, \hat b)` under the true model.

    .. math:: \mathcal L(\hat A, \hat b) = \sum_{u\in\{0,1\}^n} p(u; A, b)\,
              \min_{q\in\mathcal Q}\Big(-E_q\log p(u\mid\theta;\hat A,\hat b)
              + \mathrm{KL}(q\,\|\,\mathcal N(0, \Sigma))\Big)

    ``Sigma``: the traits' covariance, in the truth (:math:`\theta \sim \mathcal N(0, \Sigma)`,
    :func:`~ml2p_symbolic.population.pattern_probabilities`) and in the model's prior (the
    KL term); ``None`` is :math:`\Sigma = I`. It must be a symmetric positive definite
    ``(K, K)`` matrix (:class:`~ml2p_symbolic.errors.ShapeError`,
    :class:`~ml2p_symbolic.errors.DomainError` otherwise).

    ``encoder="exact"``: :math:`\mathcal Q` is all distributions; the minimum is attained at
    the decoder's posterior and equals :math:`-\log p(u;\hat A,\hat b)`, so
    :math:`\mathcal L = -\sum_u p(u)\log\hat p(u) = H(p) + \mathrm{KL}(p\|\hat p)`; it is
    unchanged by :math:`\hat A \to \hat A M^{-1}` for every :math:`M` with
    :math:`M\Sigma M^\top = \Sigma`.
    ``encoder="gaussian"``: :math:`\mathcal Q` is the diagonal Gaussians
    (:func:`~ml2p_symbolic.population.best_gaussian_encoder`), and :math:`\mathcal L` exceeds
    the exact value by the expected gap :math:`\sum_u p(u)\,\mathrm{KL}(q^*_u\|\hat p(\theta\mid u))`.

    Shapes: ``A_hat``, ``A`` are ``(n, K)``; ``b_hat``, ``b`` are ``(n,)``; ``Sigma`` ``(K, K)``.

    Examples
    --------
    >>> from ml2p_symbolic.population import response_entropy
    >>> A, b = [[1.0], [2.0], [0.5]], [0.0, 0.5, -1.0]
    >>> h = response_entropy(A, b)
    >>> abs(expected_neg_elbo(A, b, A, b) - h) < 1e-12    # the truth attains the entropy
    True
    >>> round(expected_neg_elbo(A, b, A, b, encoder="gaussian") - h, 6)  # the Gaussian gap
    0.00...
    >>> A2, S = [[1.0, 0.0], [0.5, 1.0], [0.0, 1.5]], [[1.0, 0.5], [0.5, 1.0]]
    >>> abs(expected_neg_elbo(A2, b, A2, b, Sigma=S) - response_entropy(A2, b, Sigma=S)) < 1e-12
    True
    """
    x, p, nodes, prior = _inputs(A_hat, b_hat, A, b, encoder, nodes, Sigma, 0, "the expected loss")
    return float(_terms(x, p, nodes, 0, encoder, prior))


def expected_neg_elbo_grad(A_hat, b_hat, A, b, *, encoder="exact", Sigma=None, nodes=64):
    r"""Gradient of :func:`expected_neg_elbo` in :math:`(\hat A, \hat b)`: ``(dA_hat, db_hat)``.

    ``"exact"``: :math:`\partial\mathcal L/\partial\hat z_{iq} = -\sum_u p(u) r_{uq}(u_i - \hat P_{iq})`
    with :math:`r_{uq}` the decoder's posterior weight of node :math:`q` (nodes
    :math:`\theta_q = Cx_q` of :math:`\mathcal N(0, \Sigma)`);
    ``"gaussian"``: by the envelope theorem the gradient of :math:`f_u` at the optimal
    :math:`q^*_u` (held fixed), averaged with weights :math:`p(u)`. ``Sigma`` as in
    :func:`expected_neg_elbo`.

    Examples
    --------
    >>> A, b = [[1.0], [2.0]], [0.0, 0.5]
    >>> gA, gb = expected_neg_elbo_grad(A, b, A, b)
    >>> float(np.abs(gA).max() + np.abs(gb).max()) < 1e-14   # the truth is stationary
    True
    """
    x, p, nodes, prior = _inputs(A_hat, b_hat, A, b, encoder, nodes, Sigma, 1,
                                 "the gradient of the expected loss")
    g = _terms(x, p, nodes, 1, encoder, prior)[1]
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
    Sigma : ndarray or None
        The traits' covariance of the fit (``None``: :math:`I`).
    """

    A_hat: np.ndarray
    b_hat: np.ndarray
    value: float
    entropy: float
    grad_norm: float
    iterations: int
    encoder: str
    Q: np.ndarray | None = None
    Sigma: np.ndarray | None = None


def _signed_permutations(K, Q=None, prior=None):
    r"""The signed permutations of the columns, as (perm, signs), that keep Q's pattern and the prior.

    ``A_hat[:, perm] * signs`` is :math:`\hat A M^{-1}` for :math:`M = D\Pi^\top`; it keeps
    :math:`\mathcal N(0, \Sigma)` when :math:`M\Sigma M^\top = \Sigma`.
    """
    out = []
    for perm in itertools.permutations(range(K)):
        if Q is not None and not np.array_equal(Q[:, perm], Q):
            continue
        for signs in itertools.product((1.0, -1.0), repeat=K):
            M = (np.eye(K)[:, list(perm)] * np.array(signs)).T  # M^-1 = Pi D
            if prior is None or prior.preserves(M):
                out.append((list(perm), np.array(signs)))
    return out


def _canonical(A_hat, b_hat, A, encoder, Q=None, prior=None):
    """Representative of the decoder's symmetry class closest to the truth ``A``.

    With a Q-matrix only the column sign flips and the permutations of identical Q columns
    that keep the prior are used (the transformations that keep ``A_hat`` zero where ``Q`` is
    zero in general).
    """
    Sigma = None if prior is None else prior.Sigma
    if Q is None:
        group = "orthogonal" if encoder == "exact" else "signed-permutation"
        return align_to(A_hat, A, group=group, Sigma=Sigma), b_hat
    best, best_d = A_hat, np.inf
    for perm, signs in _signed_permutations(A.shape[1], Q, prior):
        cand = A_hat[:, perm] * signs
        d = np.linalg.norm(cand - A)
        if d < best_d:
            best, best_d = cand, d
    return np.where(Q == 0, 0.0, best), b_hat  # no -0.0 from a sign flip


def align_to(A_hat, A, *, group="orthogonal", Sigma=None):
    r"""Apply the trait transformation that brings ``A_hat`` closest to ``A``.

    The transformations :math:`\theta \to M\theta`, :math:`\hat A \to \hat A M^{-1}` that
    keep the prior :math:`\mathcal N(0, \Sigma)` are those with :math:`M\Sigma M^\top = \Sigma`,
    i.e. :math:`M^{-1} = C R^\top C^{-1}` with :math:`R` orthogonal and :math:`\Sigma = CC^\top`.

    ``group="orthogonal"``: all of them (the response distribution is invariant under each);
    :math:`R` is the orthogonal Procrustes solution for the whitened slopes, minimising
    :math:`\|\hat A C R^\top - AC\|_F` (for ``Sigma=None``, :math:`C = I`: the closest
    :math:`\hat A R^\top` to :math:`A`). ``group="signed-permutation"``: the signed
    permutations of the columns among them (the symmetries of a diagonal-Gaussian encoder
    family), the closest to ``A`` in Frobenius norm.

    Examples
    --------
    >>> align_to([[-1.0], [-2.0]], [[1.0], [2.0]])
    array([[1.],
           [2.]])
    """
    A_hat = np.asarray(A_hat, float)
    A = np.asarray(A, float)
    K = A.shape[1]
    prior = make_prior(Sigma, K)
    if group == "orthogonal":
        C = np.eye(K) if prior.chol is None else prior.chol
        Uo, _, Vt = np.linalg.svd((A_hat @ C).T @ (A @ C))
        return A_hat @ C @ (Uo @ Vt) @ np.linalg.inv(C)
    best, best_d = A_hat, np.inf
    for perm, signs in _signed_permutations(K, None, prior):
        cand = A_hat[:, perm] * signs
        d = np.linalg.norm(cand - A)
        if d < best_d:
            best, best_d = cand, d
    return best


def fit_decoder(A, b, *, encoder="exact", Sigma=None, nodes=64, start=None, tol=1e-8, max_iter=100, Q=None):
    r"""Decoder parameters minimising :func:`expected_neg_elbo` for the true model ``(A, b)``.

    Safeguarded Newton on the :math:`n(K+1)` decoder parameters with analytic gradients and
    Hessians: for ``"exact"`` the Hessian of the cross-entropy, for ``"gaussian"`` the
    Hessian of the reduced objective :math:`\sum_u p(u) f_u(q^*_u(x), x)` obtained by implicit
    differentiation, :math:`\nabla^2 = \sum_u p(u)[f_{xx} - f_{xq}f_{qq}^{-1}f_{qx}]`.
    Negative or tiny curvature (the rotation directions when :math:`K \ge 2`) is replaced by
    its absolute value floored at :math:`10^{-8}` times the largest; steps are backtracked
    until the loss decreases. Stops when the gradient norm is below ``tol``: at a minimiser
    from near the truth, but from far starts possibly at another stationary point -- a true
    local minimum, a saddle on a subspace a symmetry keeps (equal columns), or, with few
    ``nodes`` and steep slopes, a point the rule cannot resolve (docs/population.md, "Other
    stationary points"; ``benchmarks/bench_local_minima.py``).

    ``Sigma``: the traits' covariance in the truth and in the model's prior
    (:func:`expected_neg_elbo`); ``None`` is :math:`I`.

    ``start``: ``None`` starts at the truth; or a pair ``(A0, b0)``. The minimiser is
    reported in canonical form: the columns are transformed by the symmetry of the encoder
    family that keeps the prior and brings ``A_hat`` closest to ``A`` (:func:`align_to`:
    for ``"exact"`` every :math:`M` with :math:`M\Sigma M^\top = \Sigma`, orthogonal when
    ``Sigma`` is ``None``; for ``"gaussian"`` the signed permutations among them).

    ``Q``: ``None`` (every slope free), or a 0/1 array of ``A``'s shape ``(n, K)``. Then
    :math:`\hat a_{ik} = 0` is held fixed wherever :math:`Q_{ik} = 0` (the truth must be zero
    there too; a ``start`` is masked to the pattern) and Newton runs on the free slopes and
    :math:`\hat b` only, i.e. on the restricted gradient and Hessian; ``tol`` and
    ``grad_norm`` refer to the gradient over the free parameters. The canonical form then uses
    only column sign flips and permutations of identical Q columns (those that keep
    :math:`\Sigma`). Raises
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
    check_encoder(encoder)
    nodes = check_nodes(nodes)
    A, b = check_items(A, b)
    Q = check_q_pattern(Q, A)
    n, K = A.shape
    prior = make_prior(Sigma, K)
    check_cost(n, K, nodes, encoder, order=2, what="each Newton step of the decoder fit")
    p = np.exp(log_pattern_probabilities(A, b, nodes, prior))
    entropy = float(-(p @ np.log(p)))
    if start is None:
        x = np.hstack([A, b[:, None]])
    else:
        A0, b0 = check_items(*start, name="start")
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
            return exact_terms(x, p, nodes, order, prior)
        out = gaussian_terms(x, p, nodes, order, prior, warm)
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
    A_hat, b_hat = _canonical(x[:, :-1], x[:, -1], A, encoder, Q, prior)
    return DecoderFit(
        A_hat=A_hat, b_hat=b_hat.copy(), value=float(value), entropy=entropy,
        grad_norm=float(np.linalg.norm(grad.ravel()[free])), iterations=it, encoder=encoder,
        Q=None if Q is None else Q.copy(), Sigma=None if prior.Sigma is None else prior.Sigma.copy(),
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
        :math:`\\|\\hat A M^{-1} - A\\|_F` after the transformation :math:`M` that keeps the
        prior (:math:`M\\Sigma M^\\top = \\Sigma`; orthogonal for :math:`\\Sigma = I`) chosen by
        :func:`align_to` (``group="orthogonal"``): the part of the bias that is not a
        symmetry of the response distribution (equal to ``distance_A`` when K = 1). For
        :math:`\\Sigma = I` this is :math:`\\min_R \\|\\hat A R^\\top - A\\|_F`.
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


def minimiser_bias(A, b, *, encoder="gaussian", Sigma=None, nodes=64, Q=None):
    r"""Fit the decoder from the truth and measure :math:`\|\hat A - A\|`, :math:`\|\hat b - b\|`.

    For ``"exact"`` the distances are zero up to rounding (the truth is the minimiser); for
    ``"gaussian"`` they are the bias of the mean-field VAE's population minimiser.

    ``Q``: optional 0/1 array of ``A``'s shape; the decoder is then fitted with
    :math:`\hat a_{ik} = 0` where :math:`Q_{ik} = 0` (see :func:`fit_decoder`), so the bias is
    that of the VAE whose decoder is restricted to the Q-pattern. ``Sigma``: the traits'
    covariance in the truth and in the model's prior (:func:`expected_neg_elbo`).

    Examples
    --------
    >>> r = minimiser_bias([[1.0], [1.5], [0.7]], [0.2, -0.3, 0.5], encoder="exact")
    >>> r.distance_A < 1e-10, r.gap < 1e-12
    (True, True)
    """
    A, b = check_items(A, b)
    fit = fit_decoder(A, b, encoder=encoder, Sigma=Sigma, nodes=nodes, Q=Q)
    at_truth = expected_neg_elbo(A, b, A, b, encoder=encoder, Sigma=Sigma, nodes=nodes)
    return MinimiserBias(
        n=A.shape[0], K=A.shape[1], encoder=encoder,
        distance_A=float(np.linalg.norm(fit.A_hat - A)),
        distance_A_orthogonal=float(np.linalg.norm(align_to(fit.A_hat, A, Sigma=Sigma) - A)),
        distance_b=float(np.linalg.norm(fit.b_hat - b)),
        max_abs_A=float(np.abs(fit.A_hat - A).max()),
        max_abs_b=float(np.abs(fit.b_hat - b).max()),
        loss_at_truth=at_truth, loss_at_minimiser=fit.value, entropy=fit.entropy,
        gap=at_truth - fit.value, fit=fit,
    )

