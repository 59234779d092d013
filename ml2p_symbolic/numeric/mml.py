r"""Marginal maximum likelihood (MML) of the Q-masked multidimensional 2PL, by EM.

The generating model of the seed's eq. (1) with a Q-matrix,

    theta_j ~ N(0, Sigma),   P(u_ij = 1 | theta_j) = sigmoid(a_i . theta_j - b_i),
    a_ik = 0 where Q_ik = 0,

has the marginal log-likelihood (Sigma fixed, I unless given; or a correlation matrix
estimated with (A, b) by a parameter-expanded EM step, ``fit_mml(...,
estimate_correlation=True)``)

    ell(A, b) = sum_j log integral prod_{i in O_j} p_ij(theta)^u_ij (1 - p_ij(theta))^(1 - u_ij)
                                  phi_Sigma(theta) dtheta,

O_j the items student j answered (a NaN response is left out of the product).  MML is the
estimator an importance-weighted VAE tends to as k grows, and the floor that the data set
puts on every consistent estimator; :func:`fit_mml` computes it by EM (Bock & Aitkin 1981).
The integral becomes a weighted sum over quadrature points theta_q with log-weights
lw_q:

    E-step   W_jq = softmax_q (lw_q + sum_{i in O_j} [u_ij eta_iq - softplus(eta_iq)]),
             eta_iq = a_i . theta_q - b_i  (the posterior weight of point q for student j);
    M-step   for each item, (a_i[Q_i = 1], b_i) maximises
             sum_jq W_jq [i in O_j] (u_ij log p_iq + (1 - u_ij) log(1 - p_iq)),
             a weighted logistic regression on x_q = (theta_q[Q_i = 1], -1), solved by
             Newton steps with gradient sum W (u - p) x and information sum W p (1 - p) x x^T.

Two quadrature rules (``rule=``), both built on the one Gauss-Hermite rule of the package
(:func:`~ml2p_symbolic.numeric.quadrature.hermite_rule`, G nodes per trait):

``"tensor"``
    The G^K tensor product, theta_q = L x_q with Sigma = L L^T, shared by every student.
    The E-step then reduces to expected counts f_qi = sum_j W_jq [i in O_j] and
    r_qi = sum_j W_jq u_ij, so each M-step (three Newton steps per item) costs O(G^K n)
    whatever N is.  Work per iteration about N G^K n multiply-adds (one matrix product).
    EM on a shared grid increases the quadrature log-likelihood at every iteration and its
    fixed points are stationary points of it.  Feasible up to K = 3 (15^3 = 3375 points).

``"adaptive"``
    Adaptive Gauss-Hermite (Naylor & Smith 1982; Schilling & Bock 2005) on axis-aligned
    grids: each student's G^K tensor rule is centred at the posterior mean m_j and scaled
    per trait by the posterior standard deviations s_j, both from the previous E-step
    (at the first, from the Laplace approximation: the posterior mode by Newton's method
    and the square roots of the diagonal of the inverse negative Hessian there):

        theta_jq = m_j + s_j * x_q,
        lw_jq    = log w_q + log phi_Sigma(theta_jq) - log phi_I(x_q) + sum_k log s_jk.

    The rule follows each posterior, so 3 to 5 nodes per trait do what 15 do on a shared
    grid (with 2 the adapted variances shrink from one iteration to the next, so at least
    3 are required).  Because the grid is axis-aligned, the log-integrand is a sum of
    tables over few traits each: one per set of traits that items load on (eta_i depends
    only on theta[Q_i = 1]), one per trait (the node weights), one per pair with
    Sigma^-1_kl != 0 (the prior).  With a 0/1 matrix M (G^K x S, S the number of table
    entries) the grid's log-integrand is L = T M' and every table's posterior marginal is
    W M, two matrix products; each item's expected counts come from the marginal on its
    own traits.  Work per iteration about N G^K S multiply-adds (plus N G^d n logits for
    items on d traits) instead of N G^K n logits.  The points differ from student to
    student, so the M-step takes one Newton step per item and iteration on the E-step's
    Q-function, with its gradient and expected information accumulated in the E-step's
    own pass (the EM gradient algorithm, Lange 1995; by Fisher's identity that gradient is
    the gradient of the quadrature log-likelihood); a step longer than 1 in any
    coordinate is shortened to 1.

    Measured on Sim-ECPE-like data (N = 10,000, n = 28, K = 3, seed 11), largest
    difference from the tensor rule's estimates: 3 nodes 0.021, 4 nodes 0.006.  An
    axis-aligned grid fits a correlated posterior less well: for an item with slopes 1.7
    and 0.7 on two traits correlated 0.5 (N = 1,500, n = 10) the difference was 0.20 with
    5 nodes, 0.03 with 7 and 0.01 with 9.  Sim-6-like (N = 20,000, n = 50, K = 6,
    correlated traits, seed 11; ``benchmarks/bench_mml.py``): 3 nodes (the default) took
    76-118 s (64 iterations, a RMSE 0.0310, b 0.0288), 4 nodes 355 s (39 iterations, a
    0.0309, b 0.0292); the largest difference between the two was 0.055 in a, 0.022 in b.

``"auto"`` (the default)
    ``"tensor"`` with 15 nodes for K <= 3 (the rule of ``benchmarks/recovery_study.py``),
    ``"adaptive"`` for K >= 4 with the most nodes per trait (3 to 10) that keep
    G^K <= 1000: K = 4 gets 5, K >= 5 get 3.

Before any work the cost of one iteration (:func:`mml_plan`) is compared with
``max_work``; above it :func:`fit_mml` refuses with a
:class:`~ml2p_symbolic.errors.DomainError` that states the figure (the 15^4 tensor grid at
N = 20,000, n = 50 is 5.1e10, refused).

Abilities: theta_hat is the posterior mean (EAP) at the estimate and theta_sd the
posterior standard deviation, from the E-step at the estimate.

Examples
--------
>>> from ml2p_symbolic.numeric.simulate import simulate
>>> d = simulate(2000, 8, 1, seed=3)
>>> r = fit_mml(d.U, d.Q, nodes=21)
>>> r.method, r.A_hat.shape, r.theta_hat.shape, r.converged
('mml', (8, 1), (2000, 1), True)
>>> bool(abs(r.A_hat - d.A).max() < 0.5)
True
"""

from __future__ import annotations

import math
import numbers
import sys
import time

import numpy as np

from ..errors import DomainError
from .loss import BLOCK_ELEMENTS
from .gauss_hermite import hermite_rule, hermite_tensor_rule
from .correlation import check_estimate_correlation
from .model import prior_precision
from .special import softplus_sigmoid
from .train import FitResult
from .validate import check_responses

__all__ = ["fit_mml", "marginal_loglik", "mml_plan", "MAX_WORK", "TENSOR_NODES"]

#: Gauss-Hermite nodes per trait of the tensor rule when ``nodes`` is not given.
TENSOR_NODES = 15

#: The largest K for which ``rule="auto"`` picks the tensor rule.
_TENSOR_MAX_K = 3

#: The adaptive rule without ``nodes``: the most nodes per trait (3 to 10) with
#: nodes**K <= this.
_ADAPTIVE_POINTS = 1000

#: Default limit on the work of one EM iteration (see :func:`mml_plan`): about 10 s.
MAX_WORK = 5e10

#: Seconds per 1e8 units of work on one core of the development machine, for the
#: messages only (measured by benchmarks/bench_mml.py).
_SECONDS_PER_1E8 = {"tensor": 0.025, "adaptive": 0.02}


def _tables(Q, precision):
    """The sets of traits the adaptive rule's log-integrand is a sum of tables over.

    Returns [(dims, items)], the K one-trait tables first: ``dims`` a sorted tuple of
    trait indices, ``items`` the items whose Q row is exactly ``dims`` (possibly none).  Every trait has a table (for the
    node weights) and every pair with precision[k, l] != 0 (the prior's cross term).
    """
    K = Q.shape[1]
    sets = {(k,): [] for k in range(K)}
    for k in range(K):
        for l in range(k + 1, K):
            if precision[k, l] != 0.0:
                sets.setdefault((k, l), [])
    for i, row in enumerate(Q):
        sets.setdefault(tuple(int(k) for k in np.flatnonzero(row)), []).append(i)
    return [(dims, np.array(items, dtype=int)) for dims, items in sorted(sets.items(), key=lambda kv: (len(kv[0]), kv[0]))]


def mml_plan(N, Q, *, rule="auto", nodes=None, Sigma=None, max_work=MAX_WORK):
    """The quadrature :func:`fit_mml` would use for N students and Q-matrix ``Q`` (n, K),
    and its cost, without fitting.

    Returns a dict with ``rule`` (``"tensor"`` or ``"adaptive"``), ``nodes`` (per trait),
    ``points`` (nodes**K; per student for the adaptive rule) and ``work``: for the tensor
    rule N x points x n (the multiply-adds of the E-step's matrix product), for the
    adaptive rule N x points x S, S the entries of the tables the log-integrand is summed
    from (nodes^d for a table on d traits: one per trait, per pair of traits correlated in
    Sigma^-1, and per distinct Q row on two traits or more; two matrix products of that
    size per iteration).  Raises :class:`DomainError` for an unknown rule, bad ``nodes``
    or a work above ``max_work`` (the message states the figure, an estimate of the
    seconds per iteration, and what to change).

    >>> import numpy as np
    >>> mml_plan(10_000, np.ones((28, 3), dtype=int))
    {'rule': 'tensor', 'nodes': 15, 'points': 3375, 'work': 945000000}
    >>> mml_plan(20_000, np.eye(6, dtype=int))["points"]
    729
    """
    Q = np.asarray(Q)
    if Q.ndim != 2:
        raise DomainError(f"Q must be a 2-D (n, K) array; got shape {Q.shape}")
    if rule not in ("auto", "tensor", "adaptive"):
        raise DomainError(f"rule must be 'auto', 'tensor' or 'adaptive'; got {rule!r}")
    N = int(N)
    n, K = Q.shape
    if rule == "auto":
        rule = "tensor" if K <= _TENSOR_MAX_K else "adaptive"
    if nodes is None:
        if rule == "tensor":
            nodes = TENSOR_NODES
        else:
            nodes = max(3, min(10, int(math.floor(_ADAPTIVE_POINTS ** (1.0 / K) + 1e-9))))
    elif isinstance(nodes, (bool, np.bool_)) or not isinstance(nodes, numbers.Integral) or nodes < 1:
        raise DomainError(f"nodes must be a positive int (Gauss-Hermite nodes per trait); got {nodes!r}")
    nodes = int(nodes)
    if rule == "adaptive" and nodes < 3:
        raise DomainError(
            f"the adaptive rule needs at least 3 nodes per trait; got {nodes} (with 2 the "
            "posterior variances it adapts to shrink from one iteration to the next)"
        )
    points = nodes ** K
    if rule == "tensor":
        work = N * points * n
    else:
        precision, _ = prior_precision(Sigma, K)
        tables = _tables(Q != 0, np.eye(K) if precision is None else precision)
        work = N * points * sum(nodes ** len(dims) for dims, _ in tables)
    if work > max_work:
        where = " per student" if rule == "adaptive" else ""
        seconds = work / 1e8 * _SECONDS_PER_1E8[rule]
        hint = ("use rule='adaptive' (3 nodes per trait), fewer students, or the VAE"
                if rule == "tensor" else "use fewer nodes per trait, fewer students, or the VAE")
        unit = "n" if rule == "tensor" else "S"
        raise DomainError(
            f"MML with the {rule} rule of {nodes}^{K} = {points} points{where} costs "
            f"N x points x {unit} = {work:.3g} operations per EM iteration (about "
            f"{seconds:.3g} s each on one core), above the limit max_work = {max_work:.3g}; "
            f"{hint}"
        )
    return {"rule": rule, "nodes": nodes, "points": points, "work": work}


# --------------------------------------------------------------------------- shared helpers
    return {"rule": rule, "nodes": nodes, "points": points, "work": work}


def _prior(Sigma, K):
    """(Cholesky factor L of Sigma, precision Sigma^-1, log det Sigma)."""
    precision, logdet_precision = prior_precision(Sigma, K)
    if precision is None:
        return np.eye(K), np.eye(K), 0.0
    return np.linalg.cholesky(np.asarray(Sigma, dtype=np.float64)), precision, -logdet_precision


def _check_items(U, Q):
    """Items the MML estimate exists for: not all observed responses equal (an item nobody
    answered is refused before, by :func:`~ml2p_symbolic.numeric.validate.check_responses`)."""
    counts = (~np.isnan(U)).sum(axis=0)
    ones = np.nansum(U, axis=0)
    const = np.flatnonzero((ones == 0) | (ones == counts))
    if const.size:
        raise DomainError(
            f"item(s) {', '.join(str(i + 1) for i in const)}: every observed response is "
            "the same, so the difficulty has no finite maximum likelihood estimate "
            "(drop the item or use the VAE, whose prior keeps it finite)"
        )


def _newton_step(H, g, item):
    try:
        step = np.linalg.solve(H, g)
    except np.linalg.LinAlgError:
        step = np.full_like(g, np.nan)
    if not np.all(np.isfinite(step)):
        raise DomainError(
            f"the M-step of item {item + 1} is singular (its information matrix cannot be "
            "inverted); the item's parameters are not estimable from these responses"
        )
    return step


# --------------------------------------------------------------------------- tensor EM
def _tensor_pass(U0, obs, theta_q, lw, A, b, *, counts=True, eap=False, wsum=None):
    """One E-step over a shared grid: log-likelihood, expected counts (f, r), EAP moments.

    f is (M,) without missing responses and (M, n) with them; r is (M, n). ``wsum`` (M,),
    when given, receives sum_j W_jq (the posterior mass of each point).
    """
    N, n = U0.shape
    M, K = theta_q.shape
    eta = theta_q @ A.T - b                       # (M, n)
    sp, _ = softplus_sigmoid(eta)
    sp_sum = sp.sum(axis=1)
    ll = 0.0
    f = np.zeros(M) if obs is None else np.zeros((M, n))
    r = np.zeros((M, n))
    mean = np.empty((N, K)) if eap else None
    sd = np.empty((N, K)) if eap else None
    step = max(1, BLOCK_ELEMENTS // M)
    for s in range(0, N, step):
        u = U0[s:s + step]
        L = u @ eta.T
        L += lw
        if obs is None:
            L -= sp_sum
        else:
            L -= obs[s:s + step] @ sp.T
        m = L.max(axis=1, keepdims=True)
        L -= m
        W = np.exp(L, out=L)
        tot = W.sum(axis=1, keepdims=True)
        W /= tot
        ll += float((m + np.log(tot)).sum())
        if counts:
            r += W.T @ u
            if obs is None:
                f += W.sum(axis=0)
            else:
                f += W.T @ obs[s:s + step]
        if wsum is not None:
            wsum += W.sum(axis=0)
        if eap:
            mu = W @ theta_q
            mean[s:s + step] = mu
            sd[s:s + step] = np.sqrt(np.maximum(W @ (theta_q * theta_q) - mu * mu, 0.0))
    return ll, f, r, mean, sd


def _tensor_mstep(theta_q, f, r, A, b, Q, steps=3):
    """Three Newton steps of each item's weighted logistic regression on the counts."""
    n = Q.shape[0]
    ones = -np.ones((len(theta_q), 1))
    for i in range(n):
        ks = np.flatnonzero(Q[i])
        X = np.hstack([theta_q[:, ks], ones])
        beta = np.r_[A[i, ks], b[i]]
        fi = f if f.ndim == 1 else f[:, i]
        for _ in range(steps):
            _, p = softplus_sigmoid(X @ beta)
            H = (X * (fi * p * (1.0 - p))[:, None]).T @ X
            beta = beta + _newton_step(H, X.T @ (r[:, i] - fi * p), i)
        A[i, ks], b[i] = beta[:-1], beta[-1]


# --------------------------------------------------------------------------- adaptive EM
def _posterior_modes(U0, obs, A, b, precision, start, *, max_steps=50, tol=1e-8):
    """Each student's posterior mode and Laplace standard deviations.

    Newton's method on the strictly concave log posterior
    g_j(theta) = sum_{i in O_j} [u_ij eta_ij - softplus(eta_ij)] - theta' Sigma^-1 theta / 2,
    gradient (u_j - p_j) A - Sigma^-1 theta, Hessian -(A' diag(p (1 - p)) A + Sigma^-1),
    from ``start`` (N, K), every step shortened to length <= 1.  Returns the modes (N, K)
    and s (N, K), the square roots of the diagonal of the inverse negative Hessian there.
    """
    theta = start.copy()
    for _ in range(max_steps):
        eta = theta @ A.T
        eta -= b
        _, p = softplus_sigmoid(eta)
        w = p * (1.0 - p)
        res = U0 - p
        if obs is not None:
            w *= obs
            res *= obs
        grad = res @ A - theta @ precision
        K = A.shape[1]
        neg_hess = (w @ (A[:, :, None] * A[:, None, :]).reshape(-1, K * K)).reshape(-1, K, K)
        neg_hess += precision
        step = np.linalg.solve(neg_hess, grad[:, :, None])[:, :, 0]
        length = np.sqrt((step * step).sum(axis=1, keepdims=True))
        step /= np.maximum(1.0, length)
        theta += step
        if length.max() < tol:
            break
    sd = np.sqrt(np.diagonal(np.linalg.inv(neg_hess), axis1=1, axis2=2))
    return theta, sd


def _subgrid(G, d):
    """Node indices of the G^d grid in C order: (G^d, d)."""
    if d == 0:
        return np.zeros((1, 0), dtype=int)
    return np.stack(np.meshgrid(*[np.arange(G)] * d, indexing="ij"), -1).reshape(-1, d)


def _layout(tables, G, K):
    """Where each table sits in the concatenated table vector, and the 0/1 matrix M (P, S)
    with L = T M' (the full grid from the S table entries) and T_marginal = W M (each
    table's posterior marginal from the full grid's weights)."""
    full = _subgrid(G, K)                                           # (P, K) node indices
    layout, offset = [], 0
    columns = []
    for dims, items in tables:
        d = len(dims)
        sub = full[:, list(dims)] @ (G ** np.arange(d - 1, -1, -1)) if d else np.zeros(len(full), int)
        layout.append((dims, items, offset, G ** d, _subgrid(G, d)))
        columns.append(sub + offset)
        offset += G ** d
    M = np.zeros((len(full), offset))
    for col in columns:
        M[np.arange(len(full)), col] = 1.0
    return layout, M


def _adaptive_pass(U0, obs, x, lw_x, A, b, centres, scales, precision, logdet_Sigma, layout, M,
                   *, grad=True, second=None):
    """One pass of the adaptive rule over all students.

    Returns the log-likelihood, the posterior means and standard deviations (N, K), and
    (``grad``) the gradient of the E-step's Q-function, gA (n, K) and gb (n,), and its
    expected information per item, ``info[i]`` ((d + 1) x (d + 1) on (theta[Q_i], -1)).
    ``second`` (K, K), when given, receives sum_j E[theta_k theta_l | u_j] for k != l from the
    two-trait tables (each pair needs one; the diagonal is left to the caller).
    """
    N, n = U0.shape
    K = A.shape[1]
    P, S = M.shape
    unary = lw_x + 0.5 * x * x              # log w - log phi_I per node, up to a constant
    step = max(1, (8 * BLOCK_ELEMENTS) // P)
    ll = 0.0
    mean = np.empty((N, K))
    sd = np.empty((N, K))
    gA = np.zeros((n, K))
    gb = np.zeros(n)
    info = [None] * n
    for s in range(0, N, step):
        sl = slice(s, s + step)
        c = len(U0[sl])
        th = centres[sl, :, None] + scales[sl, :, None] * x          # (c, K, G): theta_k at node g
        T = np.zeros((c, S))
        kept = []
        pair_tables = []
        for dims, items, off, size, idx in layout:
            ts = np.stack([th[:, k, idx[:, t]] for t, k in enumerate(dims)], axis=-1)  # (c, G^d, d)
            if second is not None and len(dims) == 2:
                pair_tables.append((dims, off, size, ts[:, :, 0] * ts[:, :, 1]))
            table = T[:, off:off + size]
            if len(dims) == 1:
                k = dims[0]
                table += unary - 0.5 * precision[k, k] * ts[:, :, 0] ** 2
            elif len(dims) == 2 and precision[dims[0], dims[1]] != 0.0:
                table -= precision[dims[0], dims[1]] * ts[:, :, 0] * ts[:, :, 1]
            if len(items):
                eta = ts @ A[np.ix_(items, dims)].T
                eta -= b[items]                                        # (c, G^d, m)
                sp, p = softplus_sigmoid(eta)
                table += np.matmul(eta, U0[sl][:, items, None])[:, :, 0]
                if obs is None:
                    table -= sp.sum(axis=2)
                else:
                    table -= np.matmul(sp, obs[sl][:, items, None])[:, :, 0]
                kept.append((dims, items, off, size, ts, p))
        L = T @ M.T                                                    # (c, P)
        L += (np.log(scales[sl]).sum(axis=1) - 0.5 * logdet_Sigma)[:, None]
        m = L.max(axis=1, keepdims=True)
        L -= m
        W = np.exp(L, out=L)
        tot = W.sum(axis=1, keepdims=True)
        W /= tot
        ll += float((m + np.log(tot)).sum())
        Wm = W @ M                                                     # (c, S) marginals
        for k, (_, _, off, size, _) in enumerate(layout[:K]):          # the one-trait tables
            wk = Wm[:, off:off + size]
            e1 = wk @ x
            mean[sl, k] = centres[sl, k] + scales[sl, k] * e1
            sd[sl, k] = scales[sl, k] * np.sqrt(np.maximum(wk @ (x * x) - e1 * e1, 0.0))
        for (k, l), off, size, prod in pair_tables:
            second[k, l] += float((Wm[:, off:off + size] * prod).sum())
        if not grad:
            continue
        for dims, items, off, size, ts, p in kept:
            d = len(dims)
            wm = Wm[:, off:off + size]
            res = U0[sl][:, None, items] - p
            wt = p * (1.0 - p)
            if obs is not None:
                o = obs[sl][:, None, items]
                res *= o
                wt *= o
            res *= wm[:, :, None]
            wt *= wm[:, :, None]
            X = np.concatenate([ts, -np.ones(ts.shape[:2] + (1,))], axis=-1).reshape(-1, d + 1)
            m_items = len(items)
            g = res.reshape(-1, m_items).T @ X
            outer = (X[:, :, None] * X[:, None, :]).reshape(-1, (d + 1) ** 2)
            H = (wt.reshape(-1, m_items).T @ outer).reshape(m_items, d + 1, d + 1)
            gA[np.ix_(items, dims)] += g[:, :-1]
            gb[items] += g[:, -1]
            for h, i in zip(H, items):
                info[i] = h if info[i] is None else info[i] + h
    return ll, mean, sd, (gA, gb, info)


# --------------------------------------------------------------------------- driver
def _progress_line(iteration, max_iter, neg_ll, change, *, file=None):
    file = sys.stderr if file is None else file
    print(f"\rMML EM iteration {iteration}/{max_iter}  -loglik/N {neg_ll:.6f}  change {change:.2e}",
          end="", file=file, flush=True)


def _check_finite(A, b, iteration):
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        raise DomainError(f"EM diverged at iteration {iteration} (non-finite parameters)")


def fit_mml(U, Q, *, rule="auto", nodes=None, tol=1e-4, max_iter=500, Sigma=None,
            estimate_correlation=False, max_work=MAX_WORK, quiet=True, progress=None):
    """Marginal maximum likelihood estimates of (A, b) by EM, and EAP abilities.

    Parameters
    ----------
    U : (N, n) array of 0/1 responses; NaN marks a missing response (left out of the
        likelihood).
    Q : (n, K) 0/1 Q-matrix; a_ik is held at 0 where Q_ik = 0.
    rule : ``"auto"`` (tensor for K <= 3, adaptive above), ``"tensor"`` or ``"adaptive"``
        (see the module docstring).
    nodes : Gauss-Hermite nodes per trait (default: 15 for the tensor rule; for the
        adaptive rule the most, from 3 to 10, with nodes**K <= 1000, and at least 3).
    tol : stop when the log-likelihood (summed over students) changes by less than
        ``tol`` from one iteration to the next (for the tensor rule: increases by less).
    max_iter : at most this many EM iterations (``converged`` is False when reached).
    Sigma : (K, K) covariance of the ability distribution, held fixed (default I).
    estimate_correlation : estimate the latent correlation matrix R with (A, b), starting at
        R = I, by a parameter-expanded EM step (Liu, Rubin & Wu 1998): the M-step over a free
        covariance is the posterior second moment S = (1/N) sum_j E[theta_j theta_j' | u_j]
        (tensor rule: sum_q (sum_j W_jq) theta_q theta_q' / N; adaptive rule: the one- and
        two-trait posterior marginals, every pair of traits getting a table); then
        theta -> D^-1/2 theta with D = diag(S), which leaves the likelihood unchanged when
        A's columns are multiplied by sqrt(D_k): R = D^-1/2 S D^-1/2, a_ik <- a_ik sqrt(D_k).
        Needs K >= 2; cannot be combined with ``Sigma``. The estimate is ``Sigma_hat``.
    max_work : refuse (``DomainError`` with the figure) when the work of one iteration
        (:func:`mml_plan`) exceeds it.
    quiet : no progress line on stderr.
    progress : a callable ``(iteration, max_iter, -loglik/N, change)`` called after each
        iteration instead of the progress line.

    Returns
    -------
    FitResult
        ``method="mml"``; ``A_hat`` (n, K) with 0 where Q is 0; ``b_hat`` (n,);
        ``theta_hat`` (N, K) posterior means (EAP) and ``theta_sd`` (N, K) posterior
        standard deviations at the estimate; ``curve`` rows (iteration, -loglik/N, NaN),
        the log-likelihood of the parameters the iteration started from;
        ``epochs = best_epoch`` = iterations run; ``iw_samples=None``; ``model=None``;
        ``quadrature`` e.g. ``"tensor 15^3 = 3375 points"``; ``converged``; ``Sigma_hat``
        the estimated R (``estimate_correlation``) or None.

    Raises :class:`DomainError` for an item with no observed or only equal responses, a
    cost above ``max_work``, or a singular M-step.
    """
    U, Q, _ = check_responses(U, Q)
    N, n = U.shape
    K = Q.shape[1]
    Q = (Q != 0).astype(int)
    if not (isinstance(tol, numbers.Real) and tol > 0 and math.isfinite(tol)):
        raise DomainError(f"tol must be a positive number; got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise DomainError(f"max_iter must be a positive int; got {max_iter!r}")
    check_estimate_correlation(estimate_correlation, Sigma, K)
    # with R estimated every pair of traits gets an adaptive table (a dense stand-in for Sigma)
    dense = 0.5 * (np.ones((K, K)) + np.eye(K))
    plan = mml_plan(N, Q, rule=rule, nodes=nodes, Sigma=dense if estimate_correlation else Sigma,
                    max_work=max_work)
    _check_items(U, Q)
    L_sigma, precision, logdet_Sigma = _prior(Sigma, K)
    R = np.eye(K) if estimate_correlation else None
    t0 = time.perf_counter()
    missing = np.isnan(U)
    obs = (~missing).astype(np.float64) if missing.any() else None
    U0 = np.where(missing, 0.0, U)
    A, b = Q.astype(np.float64), np.zeros(n)
    if progress is None and not quiet:
        progress = _progress_line
    curve = []
    prev = -np.inf
    converged = False
    iteration = 0
    if plan["rule"] == "tensor":
        x, lw = hermite_tensor_rule(plan["nodes"], K, log_weights=True)
        theta_q = x @ L_sigma.T
        for iteration in range(1, int(max_iter) + 1):
            wsum = np.zeros(len(theta_q)) if estimate_correlation else None
            ll, f, r, _, _ = _tensor_pass(U0, obs, theta_q, lw, A, b, wsum=wsum)
            curve.append((iteration, -ll / N, float("nan")))
            if progress is not None:
                progress(iteration, int(max_iter), -ll / N, ll - prev)
            if ll - prev < tol:
                converged = True
                break
            prev = ll
            _tensor_mstep(theta_q, f, r, A, b, Q)
            _check_finite(A, b, iteration)
            if estimate_correlation:
                R, scale = _px_correlation((theta_q * wsum[:, None]).T @ theta_q / N)
                A *= scale
                theta_q = x @ np.linalg.cholesky(R).T
        _, _, _, theta_hat, theta_sd = _tensor_pass(U0, obs, theta_q, lw, A, b, counts=False, eap=True)
        where = ""
    else:
        x, w = hermite_rule(plan["nodes"])
        lw_x = np.log(w)
        layout, M = _layout(_tables(Q, np.linalg.inv(dense) if estimate_correlation else precision),
                            plan["nodes"], K)
        centres, scales = _posterior_modes(U0, obs, A, b, precision, np.zeros((N, K)))
        for iteration in range(1, int(max_iter) + 1):
            second = np.zeros((K, K)) if estimate_correlation else None
            ll, mean, sd, (gA, gb, info) = _adaptive_pass(
                U0, obs, x, lw_x, A, b, centres, scales, precision, logdet_Sigma, layout, M,
                second=second)
            curve.append((iteration, -ll / N, float("nan")))
            if progress is not None:
                progress(iteration, int(max_iter), -ll / N, ll - prev)
            if abs(ll - prev) < tol:
                converged = True
                break
            prev = ll
            for i in range(n):
                ks = np.flatnonzero(Q[i])
                step = _newton_step(info[i], np.r_[gA[i, ks], gb[i]], i)
                step /= max(1.0, np.abs(step).max())
                A[i, ks] += step[:-1]
                b[i] += step[-1]
            _check_finite(A, b, iteration)
            centres, scales = mean, np.maximum(sd, 1e-3)
            if estimate_correlation:
                S = second + second.T
                S[np.diag_indices(K)] = (mean * mean + sd * sd).sum(axis=0)
                R, scale = _px_correlation(S / N)
                A *= scale
                centres, scales = mean / scale, np.maximum(sd / scale, 1e-3)
                _, precision, logdet_Sigma = _prior(R, K)
        if converged:  # the last pass was at the estimate
            theta_hat, theta_sd = mean, sd
        else:
            _, theta_hat, theta_sd, _ = _adaptive_pass(U0, obs, x, lw_x, A, b, centres, scales,
                                                       precision, logdet_Sigma, layout, M, grad=False)
        where = " per student"
    if progress is _progress_line:
        print(file=sys.stderr)
    return FitResult(
        A_hat=A * Q, b_hat=b, theta_hat=theta_hat, theta_sd=theta_sd, curve=tuple(curve),
        seconds=time.perf_counter() - t0, epochs=iteration, best_epoch=iteration,
        iw_samples=None, model=None, method="mml",
        quadrature=f"{plan['rule']} {plan['nodes']}^{K} = {plan['points']} points{where}",
        converged=converged, Sigma_hat=R,
    )


def _px_correlation(S):
    """``(R, scale)``: the correlation matrix R = D^-1/2 S D^-1/2 of a second-moment matrix
    S (K, K) and scale = sqrt(diag(S)), by which A's columns are multiplied so that the
    likelihood is unchanged (theta = D^1/2 theta')."""
    scale = np.sqrt(np.diag(S))
    if not (np.all(np.isfinite(S)) and np.all(scale > 0)):
        raise DomainError("EM diverged: the posterior second moments of theta are not finite and positive")
    R = S / np.outer(scale, scale)
    R = 0.5 * (R + R.T)
    R[np.diag_indices(len(R))] = 1.0
    return R, scale


def marginal_loglik(U, A, b, *, nodes=TENSOR_NODES, Sigma=None, max_work=MAX_WORK):
    """The marginal log-likelihood ell(A, b) on the tensor Gauss-Hermite rule (a float).

    ell = sum_j log sum_q w_q prod_{i in O_j} p_iq^u_ij (1 - p_iq)^(1 - u_ij), with
    p_iq = sigmoid(a_i . theta_q - b_i) on the ``nodes``^K tensor rule for N(0, Sigma);
    the quantity :func:`fit_mml`'s tensor rule maximises.  ``U`` (N, n) with NaN for a
    missing response, ``A`` (n, K), ``b`` (n,).

    >>> U = np.array([[1.0, 0.0]]); A = np.zeros((2, 1)); b = np.zeros(2)
    >>> bool(abs(marginal_loglik(U, A, b) - 2 * np.log(0.5)) < 1e-12)
    True
    """
    from .validate import as_matrix, as_vector, check_shape

    A = as_matrix(A, "A", "(n, K)")
    b = as_vector(b, "b", "(n,)")
    check_shape(b, "b", (A.shape[0],), "(n,)")
    Q = np.ones_like(A, dtype=int)
    U, _, _ = check_responses(U, Q, require_answered=False)
    N, n = U.shape
    K = A.shape[1]
    plan = mml_plan(N, Q, rule="tensor", nodes=nodes, max_work=max_work)
    L_sigma, _, _ = _prior(Sigma, K)
    x, lw = hermite_tensor_rule(plan["nodes"], K, log_weights=True)
    missing = np.isnan(U)
    obs = (~missing).astype(np.float64) if missing.any() else None
    ll, _, _, _, _ = _tensor_pass(np.where(missing, 0.0, U), obs, x @ L_sigma.T, lw, A, b, counts=False)
    return ll
