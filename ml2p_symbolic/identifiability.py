r"""Q-matrix identifiability of the ML2P parameters from the response distribution.

The free parameters are the slopes :math:`a_{ik}` with :math:`Q_{ik} = 1` (the others are
fixed at 0) and the intercepts :math:`b_i`; the traits follow :math:`\theta \sim \mathcal N(0,
\Sigma)` with one of three priors (``prior=``):

``"standard"``
    :math:`\Sigma = I_K` (the seed's case);
``"known"``
    :math:`\Sigma` fixed and given (any covariance matrix);
``"correlation"``
    :math:`\Sigma` a correlation matrix estimated with the other parameters: unit variances
    fixed, the :math:`K(K-1)/2` correlations :math:`\rho_{kl}` are parameters too.

Two parameter values are *equivalent* when they give the same distribution of the response
patterns; the parameters are *identified* when a generic true value has no other equivalent
value.

Continuous symmetries. For every invertible :math:`M`, :math:`M\theta \sim \mathcal N(0,
M\Sigma M^\top)` and :math:`A\theta = (AM^{-1})(M\theta)`, so :math:`(AM^{-1}, b, M\Sigma
M^\top)` is equivalent to :math:`(A, b, \Sigma)`. It is a point of the same model when
:math:`AM^{-1}` is again zero where :math:`Q` is zero and the prior's constraint holds:
:math:`M` orthogonal (standard), :math:`M\Sigma M^\top = \Sigma` (known),
:math:`\mathrm{diag}(M\Sigma M^\top) = 1` (correlation). The tangent directions at
:math:`M = I` are the :math:`X` of the Lie algebra

- standard: :math:`X = S`, :math:`S = -S^\top`;
- known: :math:`X\Sigma + \Sigma X^\top = 0`, i.e. :math:`X = S\Sigma^{-1}`, :math:`S = -S^\top`;
- correlation: :math:`(X\Sigma + \Sigma X^\top)_{kk} = 0`, i.e.
  :math:`X_{kk} = -\sum_{l \ne k} X_{kl}\rho_{lk}` with the :math:`K(K-1)` off-diagonal entries free,

which move the parameters by :math:`(\delta A, \delta\rho) = (-AX, (X\Sigma + \Sigma
X^\top)_{k<l})`. The transformations that respect the Q-pattern form a manifold of dimension

.. math:: d_{\rm sym} = \dim\{(\delta A, \delta\rho) : \delta A_{ik} = 0 \text{ where } Q_{ik} = 0\}
          = \operatorname{rank} N_{\rm all} - \operatorname{rank} N_{Q=0},

where :math:`N_{Q=0}` is the matrix of the linear map :math:`X \mapsto (AX)_{ik}` on the zero
entries of :math:`Q` and :math:`N_{\rm all}` that of :math:`X \mapsto (\delta A, \delta\rho)`.
This is computed exactly by SymPy with one symbol per free slope (and, for a correlation
prior without a given :math:`\Sigma`, one symbol per correlation; a given :math:`\Sigma` enters
as the exact rationals of its floats), as a generic rank over :math:`\mathbb Q(a, \rho)`: the
*symbolic* count (:func:`symmetry_dimension`).

Numeric count. :math:`d_{\rm num}` is the nullity of the Jacobian of the map
(free parameters) :math:`\to` (response distribution) at a random generic point, from the
singular values (a clear gap is required and reported), confirmed at a second random point.
The parameters are the free slopes and intercepts, and for ``"correlation"`` the
correlations. The Jacobian is taken through the Cholesky factor :math:`\Sigma = CC^\top`:
the response distribution of :math:`(A, b, \Sigma)` is that of the whitened slopes
:math:`B = AC` under :math:`\mathcal N(0, I)`, so the Jacobian in :math:`(A, b, \rho)` is the
Jacobian in :math:`(B, b)` times :math:`\partial(B, b)/\partial(A, b, \rho)`
(:math:`\partial B/\partial a_{ik} = e_i (C_{k\cdot})`, :math:`\partial B/\partial\rho = A\,
\partial C/\partial\rho`, the derivative of the Cholesky factor
:math:`\dot C = C\,\Phi(C^{-1}\dot\Sigma C^{-\top})`, :math:`\Phi` the lower triangle with the
diagonal halved). For :math:`n \le` ``FULL_PATTERN_MAX_ITEMS`` the statistic is the
probability of every one of the :math:`2^n` patterns, which *is* the response distribution.
For larger :math:`n` it is the marginal distribution of every pair of items and of a seeded
sample of triples (``4 * n_parameters`` of them, all triples when fewer), represented by the
equivalent moments :math:`m_T = E\prod_{t\in T}P_t(\theta)` for every item, pair and sampled
triple :math:`T` (the joint distribution of a set of items is an invertible linear function
of the moments of its subsets, so the row spaces agree). These are functions of the response
distribution, so their Jacobian has rank at most that of the full one, hence

.. math:: d_{\rm num}(\text{marginals}) \ \ge\ d_{\rm num}(\text{full}) \ \ge\ d_{\rm sym},

and equality :math:`d_{\rm num}(\text{marginals}) = d_{\rm sym}` certifies the dimension. When
they differ the marginal criterion is repeated with all triples (marginals up to order 3).

``free_dimensions`` is :math:`d_{\rm num}` (for the full distribution it is the actual local
dimension of the equivalence class; more than :math:`d_{\rm sym}` means there are
non-transformational degeneracies, typically too few items for some trait), and the record
says whether the two counts agree.

Discrete symmetries (counted for ``identified``): a signed permutation :math:`M` of the
traits that maps the Q-pattern to itself and meets the prior's constraint -- swapping traits
whose Q columns are identical, and, unless ``positive=True`` (slopes constrained
non-negative), flipping the sign of measured traits. Every signed permutation has
:math:`\mathrm{diag}(M\Sigma M^\top) = 1` for a correlation matrix (the correlations are
permuted, or change sign), and is orthogonal; with a known :math:`\Sigma` only those with
:math:`M\Sigma M^\top = \Sigma` count (a sign flip of a trait correlated with another is not
one). The symmetry descriptions are rich text (prose with inline LaTeX math in ``$...$``,
:mod:`ml2p_symbolic.engine.richtext`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .errors import ArgumentError, DomainError, QMatrixError
from .numeric.budget import check_memory
from .numeric.gauss_hermite import hermite_tensor_rule
from .numeric.special import sigmoid
from .numeric.validate import check_covariance, plain

__all__ = [
    "FULL_PATTERN_MAX_ITEMS",
    "MAX_TRAITS",
    "PRIORS",
    "estimate_cost",
    "Identifiability",
    "analyze",
    "read_q_matrix",
    "validate_q_matrix",
    "rotation_dimension",
    "symmetry_dimension",
    "jacobian_nullity",
    "discrete_symmetries",
    "generic_correlation",
]

FULL_PATTERN_MAX_ITEMS = 10
#: Most traits :func:`analyze` accepts: with K = 4 even 16 Gauss-Hermite points per trait
#: (65,536 in all) leave quadrature errors that can hide a null direction (measured: full
#: Q-matrices of 9-10 items lost one of their 5-6 rotations).
MAX_TRAITS = 3
#: The priors of the traits :func:`analyze` knows: N(0, I); N(0, Sigma) with Sigma known;
#: N(0, R) with R a correlation matrix estimated with the other parameters.
PRIORS = ("standard", "known", "correlation")
_NODES = {1: 64, 2: 48, 3: 24}  # Gauss-Hermite points per trait for the numeric Jacobian
_TRIPLES_MAX = 20_000  # triples of the "triples" criterion beyond which a sample is used
_NULL_THRESHOLD = 1e-5  # relative singular value below which a direction is null
_MIN_GAP = 1e2  # smallest kept / largest dropped singular value must exceed this


@dataclass(frozen=True)
class Identifiability:
    """Whether the ML2P parameters of a Q-matrix are identified.

    Attributes
    ----------
    free_dimensions : int
        Dimension of the set of parameters equivalent to a generic true one
        (the numeric Jacobian nullity).
    identified : bool
        ``free_dimensions == 0`` and no discrete symmetry.
    symmetries : tuple of str
        Descriptions (rich text: prose with inline ``$...$`` math) of the transformations
        that leave the response distribution unchanged.
    symbolic_free_dimensions : int
        :math:`d_{\\rm sym}`, the dimension of the pattern-preserving transformations that meet
        the prior's constraint (SymPy).
    numeric_free_dimensions : tuple of int
        The Jacobian nullity at each random point.
    agree : bool
        Whether the numeric and symbolic counts are equal.
    n_parameters : int
        Number of free parameters (free slopes plus intercepts, plus the correlations for
        ``prior="correlation"``).
    criterion : str
        The statistic whose Jacobian was used.
    singular_gap : float
        Smallest kept / largest dropped singular value (``inf`` when nothing is dropped).
    discrete : tuple of str
        The discrete symmetries (also listed in ``symmetries``).
    items_per_trait : tuple of int
    positive : bool
    prior : str
        One of :data:`PRIORS`.
    Sigma : ndarray or None
        The traits' covariance of the analysis: the given one, or ``None`` (the identity for
        ``"standard"``; for ``"correlation"`` a generic correlation matrix per random point,
        and symbols in the symbolic count).
    """

    free_dimensions: int
    identified: bool
    symmetries: tuple[str, ...]
    symbolic_free_dimensions: int = 0
    numeric_free_dimensions: tuple[int, ...] = ()
    agree: bool = True
    n_parameters: int = 0
    criterion: str = ""
    singular_gap: float = float("inf")
    discrete: tuple[str, ...] = field(default_factory=tuple)
    items_per_trait: tuple[int, ...] = ()
    positive: bool = True
    prior: str = "standard"
    Sigma: np.ndarray | None = None

    def to_dict(self):
        """The three headline fields, as plain JSON-ready values."""
        return {
            "free_dimensions": int(self.free_dimensions),
            "identified": bool(self.identified),
            "symmetries": list(self.symmetries),
        }


def _check_prior(prior, Sigma, K):
    """The prior's name and its Sigma (None, or a validated (K, K) float array)."""
    if prior not in PRIORS:
        raise DomainError(f"prior must be one of {', '.join(map(repr, PRIORS))}; got {plain(prior)}")
    if prior == "standard":
        if Sigma is not None:
            raise ArgumentError("Sigma is used only with prior='known' or prior='correlation'; "
                                "the standard prior is N(0, I)")
        return prior, None
    if Sigma is None:
        if prior == "known":
            raise ArgumentError("prior='known' needs Sigma, the traits' covariance matrix")
        return prior, None
    return prior, check_covariance(Sigma, K, correlation=prior == "correlation")[0]


def generic_correlation(K, rng):
    r"""A random :math:`K \times K` correlation matrix, generic (no zero or repeated correlation
    with probability 1) and well conditioned: :math:`\Sigma = CC^\top` with the rows of the
    lower-triangular :math:`C` drawn as :math:`C_{kl} \sim U(-0.6, 0.6)` (:math:`l < k`),
    :math:`C_{kk} \sim U(0.8, 1.2)`, then scaled to unit norm. ``rng``: a numpy Generator.

    >>> S = generic_correlation(3, np.random.default_rng(0))
    >>> bool(np.allclose(np.diag(S), 1.0)), bool(np.linalg.eigvalsh(S).min() > 0.1)
    (True, True)
    """
    C = np.tril(rng.uniform(-0.6, 0.6, (K, K)), -1) + np.diag(rng.uniform(0.8, 1.2, K))
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    S = C @ C.T
    S[np.diag_indices(K)] = 1.0
    return S


# --------------------------------------------------------------------------- input
def validate_q_matrix(Q):
    """Return ``Q`` as an ``(n, K)`` int array of 0/1, or raise :class:`QMatrixError`.

    Examples
    --------
    >>> validate_q_matrix([[1, 0], [0, 1]]).shape
    (2, 2)
    """
    try:
        arr = np.array(Q, dtype=float)
    except (TypeError, ValueError) as exc:
        raise QMatrixError(f"Q-matrix must be a rectangular array of 0/1 values ({exc})") from None
    if arr.ndim != 2 or arr.size == 0:
        raise QMatrixError(
            f"Q-matrix must be a non-empty 2-D array (items x traits), got shape {arr.shape}"
        )
    if not np.all((arr == 0) | (arr == 1)):
        bad = arr[~((arr == 0) | (arr == 1))][0]
        raise QMatrixError(f"Q-matrix entries must be 0 or 1, found {plain(bad)}")
    if not 1 <= arr.shape[1] <= MAX_TRAITS:
        raise QMatrixError(
            f"the identifiability analysis handles 1 to {MAX_TRAITS} traits (its tensor quadrature "
            f"over the traits is not accurate enough beyond); the Q-matrix has {arr.shape[1]} trait "
            "columns"
        )
    return arr.astype(int)


def read_q_matrix(path):
    """Read a Q-matrix CSV file for the identifiability analysis: an ``(n, K)`` int array.

    The same reader, rules and messages as ``ml2p-proof fit --q``
    (:func:`ml2p_symbolic.numeric.data.read_q`: optional header of trait names and first
    column of item names, ``#`` comments, ``0``/``1``/``1.0`` cells, UTF-8 with or without
    a byte-order mark), then :func:`validate_q_matrix` (at most ``MAX_TRAITS`` traits).
    Raises :class:`QMatrixError` with ``FILE:LINE:COL``.
    """
    from .numeric.data import read_q

    return validate_q_matrix(read_q(path))


# --------------------------------------------------------------------------- symbolic count
def rotation_dimension(Q):
    r"""Dimension of the pattern-preserving rotations at a generic :math:`A` (SymPy, exact).

    .. math:: d_{\rm sym} = \operatorname{rank} M_{\rm all} - \operatorname{rank} M_{Q=0},

    where row :math:`(i, k)` of :math:`M` is the coefficient vector of :math:`(AS)_{ik}` in the
    :math:`K(K-1)/2` entries of a skew-symmetric :math:`S`, with one symbol :math:`a_{ik}` per
    free slope; ranks are over the field :math:`\mathbb Q(a)` (SymPy ``DomainMatrix``), i.e.
    generic. This is :func:`symmetry_dimension` for the standard prior.

    Examples
    --------
    >>> rotation_dimension([[1, 1]] * 4)          # K = 2, no zeros: one rotation angle
    1
    >>> rotation_dimension([[1, 0], [1, 0], [0, 1], [0, 1]])
    0
    >>> rotation_dimension([[1, 1, 1]] * 6)
    3
    """
    return symmetry_dimension(Q)


def _exact(x):
    """A float as the exact rational it is (no rounding to a 'nice' number)."""
    import sympy as sp

    return sp.Rational(float(x))


def _representatives(Q, c):
    """The items of Q with at most ``c`` of each distinct row (``c`` = the number of Lie algebra
    coordinates). Exact for the generic rank: the rows of the items with one Q-row are the
    values r(a_i) of one linear map at independent generic a_i, whose span is reached by any
    ``c`` of them (it has dimension at most ``c``)."""
    keep, seen = [], {}
    for i, row in enumerate(map(tuple, Q)):
        if seen.get(row, 0) < c:
            seen[row] = seen.get(row, 0) + 1
            keep.append(i)
    return Q[keep]


def symmetry_dimension(Q, *, prior="standard", Sigma=None):
    r"""Dimension of the pattern-preserving transformations that meet the prior's constraint (SymPy).

    .. math:: d_{\rm sym} = \operatorname{rank} N_{\rm all} - \operatorname{rank} N_{Q=0},

    :math:`N` the matrix of the linear map from the coordinates of the Lie algebra to the
    parameter change (module docstring): for ``"standard"`` :math:`X = S` skew-symmetric
    (:math:`K(K-1)/2` coordinates) and the change :math:`AX`; for ``"known"``
    :math:`X = S\Sigma^{-1}` and the change :math:`AX`; for ``"correlation"`` the
    :math:`K(K-1)` off-diagonal :math:`X_{kl}`, :math:`X_{kk} = -\sum_{l\ne k}X_{kl}\Sigma_{lk}`,
    and the change :math:`(AX, (X\Sigma + \Sigma X^\top)_{k<l})`. :math:`N_{Q=0}` keeps the rows
    :math:`(AX)_{ik}` with :math:`Q_{ik} = 0`. One symbol :math:`a_{ik}` per free slope; a given
    ``Sigma`` as the exact rationals of its floats; for ``"correlation"`` without ``Sigma``
    one symbol :math:`\rho_{kl}` per correlation (generic). Ranks over the fraction field
    (SymPy ``DomainMatrix``). Only ``c`` items of each distinct Q-row enter (``c`` the number
    of coordinates): more add rows in the span of those (generic ranks), so a 500-item Q costs
    what its at most :math:`c(2^K - 1)` representatives cost.

    Examples
    --------
    >>> symmetry_dimension([[1, 1]] * 4, prior="known", Sigma=[[1, 0.5], [0.5, 1]])
    1
    >>> symmetry_dimension([[1, 1]] * 4, prior="correlation")   # rotation and shear
    2
    >>> symmetry_dimension([[1, 0]] + [[1, 1]] * 4, prior="correlation")
    1
    >>> symmetry_dimension([[1, 0]] * 3 + [[0, 1]] * 3, prior="correlation")
    0
    """
    import sympy as sp
    from sympy.polys.matrices import DomainMatrix

    Q = validate_q_matrix(Q)
    n, K = Q.shape
    prior, Sigma = _check_prior(prior, Sigma, K)
    if K < 2:
        return 0
    Q = _representatives(Q, K * (K - 1) // (2 if prior != "correlation" else 1))
    n = Q.shape[0]
    a = sp.Matrix(n, K, lambda i, k: sp.Symbol(f"a{i + 1}_{k + 1}", real=True) if Q[i, k] else 0)
    if prior == "correlation":
        if Sigma is None:
            S = sp.Matrix(K, K, lambda k, l: 1 if k == l else sp.Symbol(f"rho{min(k, l) + 1}_{max(k, l) + 1}", real=True))
        else:
            S = sp.Matrix(K, K, lambda k, l: _exact(Sigma[k, l]))
        offdiag = [(k, l) for k in range(K) for l in range(K) if k != l]
        c = sp.symbols(f"x1:{len(offdiag) + 1}", real=True)
        X = sp.zeros(K, K)
        for (k, l), sym in zip(offdiag, c):
            X[k, l] = sym
        for k in range(K):
            X[k, k] = -sum(X[k, l] * S[l, k] for l in range(K) if l != k)
        dS = X * S + S * X.T
        extra = [dS[k, l] for k in range(K) for l in range(k + 1, K)]
    else:
        pairs = [(l, k) for l in range(K) for k in range(l + 1, K)]
        c = sp.symbols(f"s1:{len(pairs) + 1}", real=True)
        Sk = sp.zeros(K, K)
        for (l, k), sym in zip(pairs, c):
            Sk[l, k], Sk[k, l] = sym, -sym
        X = Sk if prior == "standard" else Sk * sp.Matrix(K, K, lambda k, l: _exact(Sigma[k, l])).inv()
        extra = []
    AX = a * X
    rows_all = [[sp.diff(AX[i, k], sym) for sym in c] for i in range(n) for k in range(K)]
    rows_all += [[sp.diff(e, sym) for sym in c] for e in extra]
    rows_zero = [[sp.diff(AX[i, k], sym) for sym in c] for i in range(n) for k in range(K) if not Q[i, k]]

    def rank(rows):
        if not rows:
            return 0
        return DomainMatrix.from_Matrix(sp.Matrix(rows)).to_field().rank()

    return int(rank(rows_all) - rank(rows_zero))


# --------------------------------------------------------------------------- numeric count
def _generic_point(Q, rng):
    A = Q * rng.uniform(0.5, 1.5, Q.shape)
    b = rng.uniform(-1.0, 1.0, Q.shape[0])
    return A, b


def _gh(K):
    theta, w = hermite_tensor_rule(_NODES[K], K)
    return np.hstack([theta, -np.ones((theta.shape[0], 1))]), w


def _column_index(Q):
    """Map (item, slot) -> Jacobian column; slot k < K is a_ik, slot K is b_i."""
    n, K = Q.shape
    idx = -np.ones((n, K + 1), dtype=int)
    c = 0
    for i in range(n):
        for k in range(K + 1):
            if k == K or Q[i, k]:
                idx[i, k] = c
                c += 1
    return idx, c


def _subset_jacobian_rows(items, Pn, taug, w, idx):
    """Jacobian rows of the joint distribution of the items in each subset.

    ``items``: (m, r) int array of subsets of size r. For each subset and each of the 2^r
    patterns u: d p(u) / d(a_ik, b_i) = sum_q w_q L_q (u_i - P_iq) taug_qk (i in the subset).
    """
    m, r = items.shape
    ncols = int(idx.max()) + 1
    bits = np.array(list(itertools.product((0, 1), repeat=r)), dtype=float)  # (2^r, r)
    out = np.zeros((m, len(bits), ncols))
    P = Pn[items]  # (m, r, Q)
    for j, u in enumerate(bits):
        F = np.where(u[None, :, None] == 1, P, 1 - P)  # (m, r, Q)
        L = F.prod(axis=1) * w  # (m, Q)
        for t in range(r):
            D = (L * (u[t] - P[:, t, :])) @ taug  # (m, K+1)
            cols = idx[items[:, t]]  # (m, K+1)
            ok = cols >= 0
            rr = np.nonzero(ok)
            np.add.at(out, (rr[0], j, cols[ok]), D[ok])
    return out.reshape(m * len(bits), ncols)


def _eigen_singular_values(G):
    """Singular values of J with unit-norm columns, from its Gram matrix G = J^T J.

    Square roots of the eigenvalues of G scaled to a unit diagonal (the nullity does not
    change); the relative floor is about 1e-8, far below the null threshold 1e-5.
    """
    d = np.sqrt(np.diag(G))
    d = np.where(d > 0, d, 1.0)
    Gn = G / d[:, None] / d[None, :]
    ev = np.linalg.eigvalsh(0.5 * (Gn + Gn.T))[::-1]
    return np.sqrt(np.maximum(ev, 0.0))


def _nullity(sv):
    if sv.size == 0 or sv[0] == 0:
        return sv.size, float("nan")
    rel = sv / sv[0]
    null = int(np.sum(rel < _NULL_THRESHOLD))
    kept = rel[: rel.size - null]
    dropped = rel[rel.size - null:]
    gap = float(kept[-1] / dropped[0]) if null and dropped[0] > 0 else float("inf")
    return null, gap


def _sample_triples(n, m, rng):
    """``m`` distinct sorted triples of items, drawn without listing all C(n, 3)."""
    found = np.empty((0, 3), dtype=int)
    while len(found) < m:
        t = np.sort(rng.integers(0, n, size=(2 * (m - len(found)) + 16, 3)), axis=1)
        t = t[(t[:, 0] < t[:, 1]) & (t[:, 1] < t[:, 2])]
        found = np.unique(np.vstack([found, t]), axis=0)
    return found[np.sort(rng.choice(len(found), size=m, replace=False))]


def _triples(n, ncols, mode, rng):
    """The triples of the moment criterion and the phrase that describes them."""
    total = math.comb(n, 3)
    want = 4 * ncols if mode == "sampled" else _TRIPLES_MAX
    if total <= want:
        every = "every item, pair and triple (marginals up to order 3)"
        return np.array(list(itertools.combinations(range(n), 3)), dtype=int).reshape(-1, 3), every
    triples = _sample_triples(n, want, rng)
    return triples, f"every item, every pair and {want} sampled triples"


def _cholesky_derivatives(C):
    r""":math:`\partial C/\partial\rho_{kl}` for each :math:`k < l`, the Cholesky factor
    :math:`\Sigma = CC^\top` and :math:`\dot\Sigma = E_{kl} + E_{lk}`:
    :math:`\dot C = C\,\Phi(C^{-1}\dot\Sigma C^{-\top})`, :math:`\Phi` the lower triangle with
    the diagonal halved. Returns a list of (K, K) arrays, pairs in row order."""
    K = C.shape[0]
    Ci = np.linalg.inv(C)
    out = []
    for k in range(K):
        for l in range(k + 1, K):
            dS = np.zeros((K, K))
            dS[k, l] = dS[l, k] = 1.0
            X = Ci @ dS @ Ci.T
            Phi = np.tril(X, -1) + 0.5 * np.diag(np.diag(X))
            out.append(C @ Phi)
    return out


def _chain(Q, A, C, with_rho):
    r"""The matrix :math:`T = \partial(B, b)/\partial(\text{free } a, b[, \rho])`, ``(n(K+1), p)``.

    Rows: item ``i``'s whitened slopes :math:`B_{i\cdot} = a_{i\cdot}C` and its intercept,
    in the order of the all-free column index; columns: the free parameters in the order of
    :func:`_column_index` (then the correlations, pairs in row order)."""
    n, K = Q.shape
    idx, ncols = _column_index(Q)
    n_rho = K * (K - 1) // 2 if with_rho else 0
    T = np.zeros((n, K + 1, ncols + n_rho))
    for i in range(n):
        for k in range(K):
            if idx[i, k] >= 0:
                T[i, :K, idx[i, k]] = C[k]
        T[i, K, idx[i, K]] = 1.0
    if n_rho:
        for r, dC in enumerate(_cholesky_derivatives(C)):
            T[:, :K, ncols + r] = A @ dC
    return T.reshape(n * (K + 1), ncols + n_rho)


def _point(Q, rng, prior, Sigma):
    """The random generic point (A, b) and the Sigma of the analysis (None for the identity)."""
    A, b = _generic_point(Q, rng)
    if prior == "correlation" and Sigma is None:
        Sigma = generic_correlation(Q.shape[1], rng)
    return A, b, Sigma


def jacobian_nullity(Q, *, seed=0, subsets="auto", progress=None, prior="standard", Sigma=None):
    r"""Numeric null-space dimension of the Jacobian (free parameters) -> (a response statistic).

    ``subsets="auto"``: all :math:`2^n` patterns when ``n <= FULL_PATTERN_MAX_ITEMS``,
    otherwise the moments of every item and pair plus a seeded sample of
    ``4 * n_parameters`` triples; ``"triples"``: all pairs and all triples (a sample of
    20,000 when there are more); ``"full"``: all patterns. The integral over
    :math:`\theta` uses a tensor Gauss-Hermite rule (64, 48, 24 points per trait for
    K = 1, 2, 3) through the Cholesky factor of :math:`\Sigma`. The random generic point has
    :math:`a_{ik} \sim U(0.5, 1.5)` where :math:`Q_{ik} = 1` and :math:`b_i \sim U(-1, 1)`,
    drawn from ``numpy.random.default_rng(seed)`` (then, for ``prior="correlation"`` without
    ``Sigma``, the correlation matrix, :func:`generic_correlation`; then the triples, from the
    same generator).

    ``prior``, ``Sigma``: as in :func:`analyze`. The parameters are the free slopes and the
    intercepts, and for ``"correlation"`` the :math:`K(K-1)/2` correlations. The Jacobian is
    that of the whitened slopes :math:`B = AC` (all entries) and the intercepts, times the
    chain-rule matrix :math:`\partial(B, b)/\partial(a, b, \rho)` (module docstring).

    The Jacobian :math:`J` is never formed for the moments: their rows are sparse (a pair's
    row touches two items), so the Gram matrix :math:`J^\top J` is accumulated block by
    block, in :math:`O(n^2 Q)` for the pairs (``Q`` quadrature points), and its
    eigenvalues give the singular values. ``progress``: optional callable receiving a
    one-line description of each stage.

    Returns ``(nullity, gap, criterion, singular_values)`` where a singular value below
    ``1e-5`` times the largest counts as zero (columns scaled to unit norm first) and ``gap`` is the ratio of the smallest kept to
    the largest dropped singular value. Raises :class:`~ml2p_symbolic.errors.ResourceError`
    when the estimated memory exceeds the limit (see :func:`estimate_cost`).

    Examples
    --------
    >>> jacobian_nullity([[1, 1]] * 5)[0]
    1
    >>> jacobian_nullity([[1, 1]] * 5, prior="correlation")[0]   # rotation and shear
    2
    """
    Q = validate_q_matrix(Q)
    n, K = Q.shape
    prior, Sigma = _check_prior(prior, Sigma, K)
    say = progress or (lambda message: None)
    rng = np.random.default_rng(seed)
    A, b, Sigma = _point(Q, rng, prior, Sigma)
    C = np.eye(K) if Sigma is None else np.linalg.cholesky(Sigma)
    T = _chain(Q, A, C, prior == "correlation")
    ncols = T.shape[1]
    every, _ = _column_index(np.ones_like(Q))
    mode = subsets
    if mode == "auto":
        mode = "full" if n <= FULL_PATTERN_MAX_ITEMS else "sampled"
    cost = estimate_cost(Q, subsets=mode, prior=prior)
    check_memory(cost["bytes"], f"the identifiability Jacobian of {n} items and {K} traits",
                 "use fewer items")
    taug, w = _gh(K)
    Pn = sigmoid((A @ C) @ taug[:, :K].T - b[:, None])  # (n, Q)
    if mode == "full":
        criterion = f"all 2^{n} pattern probabilities"
        say(f"Jacobian of the {2 ** n} pattern probabilities (seed {seed})")
        J = _subset_jacobian_rows(np.arange(n)[None, :], Pn, taug, w, every) @ T
        G = J.T @ J
    else:
        triples, which = _triples(n, ncols, mode, rng)
        criterion = f"moments E[P_S] of {which}"
        say(f"Jacobian Gram matrix of the moments of {n} items, {n * (n - 1) // 2} pairs and "
            f"{len(triples)} triples (seed {seed}, {cost['seconds']:.0f} s estimated)")
        G = _moment_gram(Pn, taug, w, every, triples)
        if prior == "standard":  # T selects the free columns: no product needed
            free = np.flatnonzero((_column_index(Q)[0] >= 0).ravel())
            G = G[np.ix_(free, free)]
        else:
            G = T.T @ G @ T
    say(f"eigenvalues of the {ncols} x {ncols} Gram matrix")
    sv = _eigen_singular_values(G)
    null, gap = _nullity(sv)
    return null, gap, criterion, sv


def _moment_gram(Pn, taug, w, idx, triples):
    r"""Gram matrix :math:`J^\top J` of the moments :math:`m_T = E\prod_{t\in T}P_t(\theta)` for
    every item, every pair and the given triples, over the free columns of ``idx``.

    The joint distribution of the items of a set S is an invertible linear function of
    (m_T, T subset of S), so for a family of subsets closed under taking subsets (all
    singles and pairs, plus some triples) these rows span the same space as the rows of the
    subsets' pattern probabilities. The row of T holds, in item t's columns,
    d m_T / d(a_t, b_t) = E[prod_{s != t} P_s * P_t(1 - P_t) * (theta, -1)].
    """
    n, K1 = idx.shape
    Pd = w * Pn * (1 - Pn)  # (n, Q): weight times dP/dz
    S = Pd @ taug  # singles, (n, K+1)
    # D[i, j] = d E[P_i P_j] / d x_i, the pair {i, j}'s entries in item i's columns
    D = np.empty((n, n, K1))
    for a in range(K1):
        D[:, :, a] = (Pd * taug[:, a]) @ Pn.T
    Dt = D.transpose(1, 0, 2)  # Dt[i, j] = D[j, i]
    G = D[:, :, :, None] * Dt[:, :, None, :]  # block (i, j), i != j: D[i, j] D[j, i]^T
    ii = np.arange(n)
    G[ii, ii] = (np.einsum("ija,ijb->iab", D, D) - D[ii, ii][:, :, None] * D[ii, ii][:, None, :]
                 + S[:, :, None] * S[:, None, :])
    del D, Dt
    step = max(1, (1 << 22) // Pn.shape[1])
    for start in range(0, len(triples), step):
        t = triples[start:start + step]
        T = []
        for a in range(3):
            F = Pd[t[:, a]] * Pn[t[:, (a + 1) % 3]]
            F *= Pn[t[:, (a + 2) % 3]]
            T.append(F @ taug)  # (m, K+1)
        for a in range(3):
            for c in range(3):
                np.add.at(G, (t[:, a], t[:, c]), T[a][:, :, None] * T[c][:, None, :])
    G = G.transpose(0, 2, 1, 3).reshape(n * K1, n * K1)
    free = (idx >= 0).ravel()
    return G[np.ix_(free, free)]


def estimate_cost(Q, *, subsets="auto", prior="standard"):
    """Estimated peak memory (bytes) and time (seconds, one core) of one :func:`jacobian_nullity`.

    Memory: the probabilities and their derivatives at the quadrature points (two
    (n, Q) arrays and a temporary), the (n, n, K+1) pair derivatives, two copies of the
    (n(K+1))^2 Gram matrix. Time: the pair products (2 n^2 Q (K+1) flops), the triples and
    the eigenvalues (~10 p^3 flops, p free parameters) at 10 GFlop/s (measured: 2.4 s for
    500 items, K = 3, on one core); with a prior other than ``"standard"`` the chain rule
    :math:`T^\\top G T` adds :math:`2(n(K+1))^2 p` flops and the (n(K+1), p) matrix :math:`T`.
    ``prior``: one of :data:`PRIORS` (the correlations are parameters for ``"correlation"``).
    Returns a dict ``{"bytes", "seconds", "parameters"}``.

    >>> c = estimate_cost([[1, 0], [0, 1]] * 250)
    >>> c["parameters"], round(c["bytes"] / 1e6), round(c["seconds"])
    (1000, 159, 1)
    """
    Q = validate_q_matrix(Q)
    n, K = Q.shape
    _, p = _column_index(Q)
    if prior == "correlation":
        p += K * (K - 1) // 2
    nodes = _NODES[K] ** K
    K1 = K + 1
    mode = subsets if subsets != "auto" else ("full" if n <= FULL_PATTERN_MAX_ITEMS else "sampled")
    if mode == "full":
        rows = 2 ** n
        return {"bytes": 8.0 * (3 * n * nodes + rows * (n * K1 + p) * 2 + 2 * p * p + n * K1 * p),
                "seconds": (rows * n * nodes * (K + 3) + 2 * rows * n * K1 * p + 10 * p ** 3) / 1e10,
                "parameters": p}
    m = min(math.comb(n, 3), 4 * p if mode == "sampled" else _TRIPLES_MAX)
    nbytes = 8.0 * (3 * n * nodes + 2 * n * n * K1 + 2 * (n * K1) ** 2 + 2 * (1 << 22) + 2 * p * p)
    flops = 2.0 * n * n * nodes * K1 + m * nodes * 3 * (2 + 2 * K1) + 10.0 * p ** 3
    if prior != "standard":
        nbytes += 8.0 * 2 * n * K1 * p
        flops += 2.0 * (n * K1) ** 2 * p + 2.0 * n * K1 * p * p
    return {"bytes": nbytes, "seconds": flops / 1e10, "parameters": p}


# --------------------------------------------------------------------------- discrete symmetries
def _tex(name):
    """A symbol's LaTeX, from SymPy (``theta_1`` -> ``\theta_{1}``)."""
    import sympy as sp

    return sp.latex(sp.Symbol(name))


def _flip_text(traits, prior):
    th = ", ".join(rf"${_tex(f'theta_{k + 1}')} \to -{_tex(f'theta_{k + 1}')}$" for k in traits)
    sl = ", ".join(rf"${_tex(f'a_i{k + 1}')} \to -{_tex(f'a_i{k + 1}')}$" for k in traits)
    if len(traits) == 1:
        k = traits[0]
        text = f"sign flip of trait {k + 1} ({th}, {sl}"
        if prior == "correlation":
            text += rf", ${_tex(f'rho_{k + 1}l')} \to -{_tex(f'rho_{k + 1}l')}$ for $l \ne {k + 1}$"
        elif prior == "known":
            text += "; the trait is uncorrelated with the others"
        return text + ")"
    names = ", ".join(str(k + 1) for k in traits[:-1]) + f" and {traits[-1] + 1}"
    return (f"sign flip of traits {names} together ({th}, {sl}; flipping fewer of them would change "
            "the sign of a correlation that $\\Sigma$ fixes)")


def _swap_text(k, l, prior):
    text = (f"swap of traits {k + 1} and {l + 1} "
            rf"(${_tex(f'theta_{k + 1}')} \leftrightarrow {_tex(f'theta_{l + 1}')}$; identical Q columns")
    if prior == "correlation":
        text += "; the correlations are permuted"
    elif prior == "known":
        text += r"; the swap keeps $\Sigma$"
    return text + ")"


def _signed_text(M):
    K = M.shape[0]
    maps = []
    for k in range(K):
        l = int(np.flatnonzero(M[k])[0])
        if (k, M[k, l]) != (l, 1):
            sign = "" if M[k, l] > 0 else "-"
            maps.append(rf"${_tex(f'theta_{k + 1}')} \to {sign}{_tex(f'theta_{l + 1}')}$")
    return f"signed permutation of the traits ({', '.join(maps)}) that keeps $Q$ and $\\Sigma$"


def _signed_permutations(K):
    for perm in itertools.permutations(range(K)):
        for signs in itertools.product((1, -1), repeat=K):
            M = np.zeros((K, K), dtype=int)
            M[np.arange(K), perm] = signs  # (M theta)_k = sign_k theta_perm(k)
            yield M


def _closure(gens, K):
    group = {np.eye(K, dtype=int).tobytes()}
    frontier = [np.eye(K, dtype=int)]
    while frontier:
        new = []
        for X in frontier:
            for G in gens:
                Y = G @ X
                if Y.tobytes() not in group:
                    group.add(Y.tobytes())
                    new.append(Y)
        frontier = new
    return group


def discrete_symmetries(Q, *, positive=True, prior="standard", Sigma=None):
    r"""Signed permutations of the traits (other than the identity) that map Q to itself and
    meet the prior's constraint, as rich-text descriptions of a generating set.

    :math:`\theta \to M\theta`, :math:`A \to AM^{-1}` with :math:`M` a signed permutation:
    :math:`AM^{-1}` has the Q-pattern when :math:`M` only exchanges traits with identical Q
    columns. Every signed permutation is orthogonal (standard prior) and keeps a unit
    diagonal (correlation prior: the correlations are permuted or change sign); with a
    known :math:`\Sigma` only those with :math:`M\Sigma M^\top = \Sigma` (exactly, on the given
    floats) are symmetries, so a trait correlated with others can change sign only together
    with them (the connected components of the graph of nonzero correlations).

    Traits no item measures are left out (moving them changes no parameter). With
    ``positive=True`` no measured trait may change sign (the slopes would become negative).
    Returns the descriptions of the generators found: the sign flips (of single traits, or
    for a known :math:`\Sigma` of each component), the swaps of traits with identical Q
    columns, and any further signed permutation the group needs (possible only for a known
    :math:`\Sigma`).

    Examples
    --------
    >>> discrete_symmetries([[1, 0], [0, 1]], positive=False)
    ('sign flip of trait 1 ($\\theta_{1} \\to -\\theta_{1}$, $a_{i1} \\to -a_{i1}$)', 'sign flip of trait 2 ($\\theta_{2} \\to -\\theta_{2}$, $a_{i2} \\to -a_{i2}$)')
    >>> discrete_symmetries([[1, 1], [1, 1], [1, 1]])
    ('swap of traits 1 and 2 ($\\theta_{1} \\leftrightarrow \\theta_{2}$; identical Q columns)',)
    >>> len(discrete_symmetries([[1, 0], [0, 1]], positive=False, prior="known", Sigma=[[1, 0.3], [0.3, 1]]))
    1
    """
    Q = validate_q_matrix(Q)
    K = Q.shape[1]
    prior, Sigma = _check_prior(prior, Sigma, K)
    measured = [k for k in range(K) if Q[:, k].any()]
    m = len(measured)
    Qm = Q[:, measured]
    Sm = None if Sigma is None else Sigma[np.ix_(measured, measured)]

    def valid(M):
        if not np.array_equal(Qm @ np.abs(M).T, Qm):  # column k of Q moves to column perm(k)
            return False
        if positive and (M < 0).any():
            return False
        return prior != "known" or np.array_equal(M @ Sm @ M.T, Sm)

    out, gens = [], []

    def add(M, text):
        gens.append(M)
        out.append(text)

    if not positive:
        if prior == "known":
            # components of the graph of nonzero correlations among the measured traits
            comp, seen = [], set()
            for start in range(m):
                if start in seen:
                    continue
                stack, members = [start], []
                seen.add(start)
                while stack:
                    k = stack.pop()
                    members.append(k)
                    for l in range(m):
                        if l not in seen and Sm[k, l] != 0:
                            seen.add(l)
                            stack.append(l)
                comp.append(sorted(members))
        else:
            comp = [[k] for k in range(m)]
        for members in comp:
            M = np.eye(m, dtype=int)
            M[members, members] = -1
            add(M, _flip_text([measured[k] for k in members], prior))
    for k, l in itertools.combinations(range(m), 2):
        M = np.eye(m, dtype=int)
        M[[k, l]] = M[[l, k]]
        if valid(M):
            add(M, _swap_text(measured[k], measured[l], prior))
    group = _closure(gens, m)
    for M in sorted(_signed_permutations(m), key=lambda M: int((np.diag(M) != 1).sum())):
        if M.tobytes() not in group and valid(M):
            full = np.eye(K, dtype=int)
            full[np.ix_(measured, measured)] = M
            add(M, _signed_text(full))
            group = _closure(gens, m)
    return tuple(out)


# --------------------------------------------------------------------------- the analysis
_FAMILY = {
    "standard": r"rotations $\theta \to R\theta$, $A \to AR^\top$ that keep $AR^\top$ zero where $Q$ is zero",
    "known": (r"transformations $\theta \to M\theta$, $A \to AM^{-1}$ with $M\Sigma M^\top = \Sigma$ "
              r"(they keep $\mathcal{N}(0, \Sigma)$) that keep $AM^{-1}$ zero where $Q$ is zero"),
    "correlation": (r"transformations $\theta \to M\theta$, $A \to AM^{-1}$, $\Sigma \to M\Sigma M^\top$ with "
                    r"$\mathrm{diag}(M\Sigma M^\top) = 1$ (the correlations move with them) that keep "
                    r"$AM^{-1}$ zero where $Q$ is zero"),
}


def analyze(Q, *, positive=True, prior="standard", Sigma=None, seeds=(0, 1), progress=None):
    r"""Decide whether the ML2P parameters of the Q-matrix ``Q`` are identified.

    ``prior``: ``"standard"`` (:math:`\theta \sim \mathcal N(0, I)`), ``"known"``
    (:math:`\mathcal N(0, \Sigma)` with ``Sigma`` fixed and given: a symmetric positive
    definite ``(K, K)`` matrix) or ``"correlation"`` (``Sigma`` a correlation matrix whose
    correlations are estimated with the other parameters; ``Sigma`` is the point of the
    analysis, and when ``None`` each random point draws a generic one,
    :func:`generic_correlation`, while the symbolic count keeps the correlations as symbols).

    ``free_dimensions`` is the Jacobian nullity (:func:`jacobian_nullity`, the minimum over
    the random points ``seeds``: rank can only drop at special points), compared with the
    dimension of the pattern-preserving transformations allowed by the prior
    (:func:`symmetry_dimension`, SymPy); ``identified`` also requires that no discrete
    symmetry (:func:`discrete_symmetries`) exists, and that every trait is measured by some
    item: a trait no item measures does not enter the response distribution, so nothing
    identifies it (it is reported among the symmetries, and ``identified`` is False).
    ``positive``: slopes constrained non-negative (rules out sign flips). ``progress``:
    optional callable receiving a one-line description of each stage (the command line
    prints them on stderr for large Q). The ``symmetries`` are rich text (prose with
    ``$...$`` math). Raises :class:`QMatrixError` for a malformed Q (more than
    ``MAX_TRAITS`` traits), :class:`~ml2p_symbolic.errors.DomainError` for an unknown prior
    or a ``Sigma`` that is not symmetric positive definite (with a unit diagonal for
    ``"correlation"``), :class:`~ml2p_symbolic.errors.ShapeError` for a ``Sigma`` that is not
    ``(K, K)``, :class:`~ml2p_symbolic.errors.ArgumentError` for ``Sigma`` with the standard
    prior or ``"known"`` without it, and :class:`~ml2p_symbolic.errors.ResourceError` for a
    Q too large for memory.

    Examples
    --------
    >>> r = analyze([[1]] * 3)
    >>> r.free_dimensions, r.identified, r.agree
    (0, True, True)
    >>> analyze([[1]] * 3, positive=False).symmetries
    ('sign flip of trait 1 ($\\theta_{1} \\to -\\theta_{1}$, $a_{i1} \\to -a_{i1}$)',)
    >>> r = analyze([[1, 1]] * 4)
    >>> r.free_dimensions, r.identified, r.symbolic_free_dimensions
    (1, False, 1)
    >>> analyze([[1, 0]] * 3).identified  # trait 2: no item measures it
    False
    >>> r = analyze([[1, 0]] + [[1, 1]] * 4, prior="correlation")  # one anchor is not enough
    >>> r.free_dimensions, r.symbolic_free_dimensions, r.agree
    (1, 1, True)
    """
    Q = validate_q_matrix(Q)
    n, K = Q.shape
    prior, Sigma = _check_prior(prior, Sigma, K)
    say = progress or (lambda message: None)
    check_memory(estimate_cost(Q, prior=prior)["bytes"],
                 f"the identifiability Jacobian of {n} items and {K} traits", "use fewer items")
    say(f"transformations that keep the Q-pattern ({prior} prior): SymPy rank over Q(a), "
        f"{n} items x {K} traits")
    d_sym = symmetry_dimension(Q, prior=prior, Sigma=Sigma)
    nulls, gaps, criterion = [], [], ""
    kw = dict(progress=say, prior=prior, Sigma=Sigma)
    for seed in seeds:
        null, gap, criterion, _ = jacobian_nullity(Q, seed=seed, **kw)
        if null != d_sym and n > FULL_PATTERN_MAX_ITEMS:
            null, gap, criterion, _ = jacobian_nullity(Q, seed=seed, subsets="triples", **kw)
        nulls.append(null)
        gaps.append(gap)
    d_num = min(nulls)
    discrete = discrete_symmetries(Q, positive=positive, prior=prior, Sigma=Sigma)
    symmetries = []
    if d_sym:
        symmetries.append(f"{d_sym}-dimensional family of {_FAMILY[prior]}")
    if d_num > d_sym:
        symmetries.append(
            f"{d_num - d_sym} further direction(s) along which the response distribution does "
            "not change (not transformations of the traits: too few items for the parameters)"
            + _few_items_hint(Q)
        )
    symmetries.extend(discrete)
    counts = tuple(int(c) for c in Q.sum(axis=0))
    unmeasured = [k for k in range(K) if counts[k] == 0]
    symmetries.extend(
        f"trait {k + 1} is measured by no item: ${_tex(f'theta_{k + 1}')}$ does not enter the response "
        "distribution, so nothing identifies it" for k in unmeasured)
    _, ncols = _column_index(Q)
    return Identifiability(
        free_dimensions=int(d_num),
        identified=bool(d_num == 0 and not discrete and not unmeasured),
        symmetries=tuple(symmetries),
        symbolic_free_dimensions=int(d_sym),
        numeric_free_dimensions=tuple(int(x) for x in nulls),
        agree=bool(d_num == d_sym),
        n_parameters=int(ncols + (K * (K - 1) // 2 if prior == "correlation" else 0)),
        criterion=criterion,
        singular_gap=float(min(gaps)),
        discrete=discrete,
        items_per_trait=counts,
        positive=bool(positive),
        prior=prior,
        Sigma=None if Sigma is None else Sigma.copy(),
    )


def _few_items_hint(Q):
    n, K = Q.shape
    hints = []
    for k in range(K):
        only = [i for i in range(n) if Q[i, k] and Q[i].sum() == 1]
        if Q[:, k].sum() == 1 and only:
            hints.append(f"trait {k + 1} is measured by item {only[0] + 1} alone")
    return ("; " + "; ".join(hints)) if hints else ""
