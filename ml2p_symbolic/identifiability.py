r"""Q-matrix identifiability of the ML2P parameters from the response distribution.

The free parameters are the slopes :math:`a_{ik}` with :math:`Q_{ik} = 1` (the others are
fixed at 0) and the intercepts :math:`b_i`; :math:`\theta \sim \mathcal N(0, I_K)`. Two
parameter values are *equivalent* when they give the same distribution of the response
patterns; the parameters are *identified* when a generic true value has no other
equivalent value.

Continuous symmetries. For every orthogonal :math:`R`, :math:`R\theta \sim \mathcal N(0, I)`
and :math:`A\theta = (AR^\top)(R\theta)`, so :math:`(AR^\top, b)` is equivalent to
:math:`(A, b)` whenever :math:`AR^\top` is again zero where :math:`Q` is zero. The tangent
directions at :math:`R = I` are :math:`A S` with :math:`S` skew-symmetric, so the rotations
that respect the Q-pattern form a manifold of dimension

.. math:: d_{\rm sym} = \dim\{AS : S = -S^\top,\ (AS)_{ik} = 0 \text{ where } Q_{ik} = 0\}
          = \operatorname{rank} M_{\rm all} - \operatorname{rank} M_{Q=0},

where :math:`M_{Q=0}` (:math:`M_{\rm all}`) is the matrix of the linear map
:math:`S \mapsto (AS)_{ik}` restricted to the zero entries of :math:`Q` (to all entries).
This is computed exactly by SymPy with one symbol per free slope (generic rank over
:math:`\mathbb Q(a)`): the *symbolic* count.

Numeric count. :math:`d_{\rm num}` is the nullity of the Jacobian of the map
(free parameters) :math:`\to` (response distribution) at a random generic point, from the
singular values (a clear gap is required and reported), confirmed at a second random point.
For :math:`n \le` ``FULL_PATTERN_MAX_ITEMS`` the statistic is the probability of every
one of the :math:`2^n` patterns, which *is* the response distribution. For larger :math:`n`
it is the marginal distribution of every pair of items and of a seeded sample of triples
(``4 * n_parameters`` of them, all triples when fewer), represented by the equivalent
moments :math:`m_T = E\prod_{t\in T}P_t(\theta)` for every item, pair and sampled triple
:math:`T` (the joint distribution of a set of items is an invertible linear function of the
moments of its subsets, so the row spaces agree). These are functions of the response
distribution, so their Jacobian has rank at most that of the full one, hence

.. math:: d_{\rm num}(\text{marginals}) \ \ge\ d_{\rm num}(\text{full}) \ \ge\ d_{\rm sym},

and equality :math:`d_{\rm num}(\text{marginals}) = d_{\rm sym}` certifies the dimension. When
they differ the marginal criterion is repeated with all triples (marginals up to order 3).

``free_dimensions`` is :math:`d_{\rm num}` (for the full distribution it is the actual local
dimension of the equivalence class; more than :math:`d_{\rm sym}` means there are
non-rotational degeneracies, typically too few items for some trait), and the record says
whether the two counts agree.

Discrete symmetries (counted for ``identified``): a signed permutation of the traits that
maps the Q-pattern to itself -- swapping traits whose Q columns are identical, and, unless
``positive=True`` (slopes constrained non-negative), flipping the sign of a measured trait.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .errors import QMatrixError
from .numeric.budget import check_memory
from .numeric.gauss_hermite import hermite_tensor_rule
from .numeric.special import sigmoid
from .numeric.validate import plain

__all__ = [
    "FULL_PATTERN_MAX_ITEMS",
    "MAX_TRAITS",
    "estimate_cost",
    "Identifiability",
    "analyze",
    "read_q_matrix",
    "validate_q_matrix",
    "rotation_dimension",
    "jacobian_nullity",
    "discrete_symmetries",
]

FULL_PATTERN_MAX_ITEMS = 10
#: Most traits :func:`analyze` accepts: with K = 4 even 16 Gauss-Hermite points per trait
#: (65,536 in all) leave quadrature errors that can hide a null direction (measured: full
#: Q-matrices of 9-10 items lost one of their 5-6 rotations).
MAX_TRAITS = 3
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
        Plain-language descriptions of the transformations that leave the response
        distribution unchanged.
    symbolic_free_dimensions : int
        :math:`d_{\\rm sym}`, the dimension of the pattern-preserving rotations (SymPy).
    numeric_free_dimensions : tuple of int
        The Jacobian nullity at each random point.
    agree : bool
        Whether the numeric and symbolic counts are equal.
    n_parameters : int
        Number of free parameters (free slopes plus intercepts).
    criterion : str
        The statistic whose Jacobian was used.
    singular_gap : float
        Smallest kept / largest dropped singular value (``inf`` when nothing is dropped).
    discrete : tuple of str
        The discrete symmetries (also listed in ``symmetries``).
    items_per_trait : tuple of int
    positive : bool
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

    def to_dict(self):
        """The three headline fields, as plain JSON-ready values."""
        return {
            "free_dimensions": int(self.free_dimensions),
            "identified": bool(self.identified),
            "symmetries": list(self.symmetries),
        }


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
    generic.

    Examples
    --------
    >>> rotation_dimension([[1, 1]] * 4)          # K = 2, no zeros: one rotation angle
    1
    >>> rotation_dimension([[1, 0], [1, 0], [0, 1], [0, 1]])
    0
    >>> rotation_dimension([[1, 1, 1]] * 6)
    3
    """
    import sympy as sp
    from sympy.polys.matrices import DomainMatrix

    Q = validate_q_matrix(Q)
    n, K = Q.shape
    if K < 2:
        return 0
    a = sp.Matrix(n, K, lambda i, k: sp.Symbol(f"a{i + 1}_{k + 1}", real=True) if Q[i, k] else 0)
    pairs = [(l, k) for l in range(K) for k in range(l + 1, K)]
    s = sp.symbols(f"s1:{len(pairs) + 1}", real=True)
    S = sp.zeros(K, K)
    for (l, k), sym in zip(pairs, s):
        S[l, k], S[k, l] = sym, -sym
    AS = a * S
    rows_all = [[sp.diff(AS[i, k], sym) for sym in s] for i in range(n) for k in range(K)]
    rows_zero = [[sp.diff(AS[i, k], sym) for sym in s] for i in range(n) for k in range(K) if not Q[i, k]]

    def rank(rows):
        if not rows:
            return 0
        return DomainMatrix.from_Matrix(sp.Matrix(rows)).rank()

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


def jacobian_nullity(Q, *, seed=0, subsets="auto", progress=None):
    r"""Numeric null-space dimension of the Jacobian (free parameters) -> (a response statistic).

    ``subsets="auto"``: all :math:`2^n` patterns when ``n <= FULL_PATTERN_MAX_ITEMS``,
    otherwise the moments of every item and pair plus a seeded sample of
    ``4 * n_parameters`` triples; ``"triples"``: all pairs and all triples (a sample of
    20,000 when there are more); ``"full"``: all patterns. The integral over
    :math:`\theta` uses a tensor Gauss-Hermite rule (64, 48, 24 points per trait for
    K = 1, 2, 3). The random generic point has :math:`a_{ik} \sim U(0.5, 1.5)` where
    :math:`Q_{ik} = 1` and :math:`b_i \sim U(-1, 1)`, drawn from ``numpy.random.default_rng(seed)``
    (then the triples, from the same generator).

    The Jacobian :math:`J` is never formed: its rows for the moments are sparse (a pair's
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
    """
    Q = validate_q_matrix(Q)
    n, K = Q.shape
    say = progress or (lambda message: None)
    rng = np.random.default_rng(seed)
    A, b = _generic_point(Q, rng)
    idx, ncols = _column_index(Q)
    mode = subsets
    if mode == "auto":
        mode = "full" if n <= FULL_PATTERN_MAX_ITEMS else "sampled"
    cost = estimate_cost(Q, subsets=mode)
    check_memory(cost["bytes"], f"the identifiability Jacobian of {n} items and {K} traits",
                 "use fewer items")
    taug, w = _gh(K)
    Pn = sigmoid(A @ taug[:, :K].T - b[:, None])  # (n, Q)
    if mode == "full":
        criterion = f"all 2^{n} pattern probabilities"
        say(f"Jacobian of the {2 ** n} pattern probabilities (seed {seed})")
        J = _subset_jacobian_rows(np.arange(n)[None, :], Pn, taug, w, idx)
        G = J.T @ J
    else:
        triples, which = _triples(n, ncols, mode, rng)
        criterion = f"moments E[P_S] of {which}"
        say(f"Jacobian Gram matrix of the moments of {n} items, {n * (n - 1) // 2} pairs and "
            f"{len(triples)} triples (seed {seed}, {cost['seconds']:.0f} s estimated)")
        G = _moment_gram(Pn, taug, w, idx, triples)
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


def estimate_cost(Q, *, subsets="auto"):
    """Estimated peak memory (bytes) and time (seconds, one core) of one :func:`jacobian_nullity`.

    Memory: the probabilities and their derivatives at the quadrature points (two
    (n, Q) arrays and a temporary), the (n, n, K+1) pair derivatives, two copies of the
    (n(K+1))^2 Gram matrix. Time: the pair products (2 n^2 Q (K+1) flops), the triples and
    the eigenvalues (~10 p^3 flops, p free parameters) at 10 GFlop/s (measured: 2.4 s for
    500 items, K = 3, on one core). Returns a dict
    ``{"bytes", "seconds", "parameters"}``.

    >>> c = estimate_cost([[1, 0], [0, 1]] * 250)
    >>> c["parameters"], round(c["bytes"] / 1e6), round(c["seconds"])
    (1000, 159, 1)
    """
    Q = validate_q_matrix(Q)
    n, K = Q.shape
    _, p = _column_index(Q)
    nodes = _NODES[K] ** K
    mode = subsets if subsets != "auto" else ("full" if n <= FULL_PATTERN_MAX_ITEMS else "sampled")
    if mode == "full":
        rows = 2 ** n
        return {"bytes": 8.0 * (3 * n * nodes + rows * p * 2 + 2 * p * p),
                "seconds": (rows * n * nodes * (K + 3) + 10 * p ** 3) / 1e10, "parameters": p}
    K1 = K + 1
    m = min(math.comb(n, 3), 4 * p if mode == "sampled" else _TRIPLES_MAX)
    nbytes = 8.0 * (3 * n * nodes + 2 * n * n * K1 + 2 * (n * K1) ** 2 + 2 * (1 << 22) + 2 * p * p)
    flops = 2.0 * n * n * nodes * K1 + m * nodes * 3 * (2 + 2 * K1) + 10.0 * p ** 3
    return {"bytes": nbytes, "seconds": flops / 1e10, "parameters": p}


# --------------------------------------------------------------------------- discrete symmetries
def discrete_symmetries(Q, *, positive=True):
    """Signed permutations of the traits (other than the identity) that map Q to itself.

    Traits no item measures are left out (moving them changes no parameter). With
    ``positive=True`` no measured trait may change sign (the slopes would become negative).
    Returns plain-language descriptions of the generators found: sign flips of single traits
    and swaps of traits with identical Q columns.

    Examples
    --------
    >>> discrete_symmetries([[1, 0], [0, 1]], positive=False)
    ('sign flip of trait 1 (theta_1 -> -theta_1, a_:1 -> -a_:1)', 'sign flip of trait 2 (theta_2 -> -theta_2, a_:2 -> -a_:2)')
    >>> discrete_symmetries([[1, 1], [1, 1], [1, 1]])
    ('swap of traits 1 and 2 (identical Q columns)',)
    """
    Q = validate_q_matrix(Q)
    K = Q.shape[1]
    measured = [k for k in range(K) if Q[:, k].any()]
    out = []
    if not positive:
        out += [f"sign flip of trait {k + 1} (theta_{k + 1} -> -theta_{k + 1}, a_:{k + 1} -> -a_:{k + 1})"
                for k in measured]
    for k, l in itertools.combinations(measured, 2):
        if np.array_equal(Q[:, k], Q[:, l]):
            out.append(f"swap of traits {k + 1} and {l + 1} (identical Q columns)")
    return tuple(out)


# --------------------------------------------------------------------------- the analysis
def analyze(Q, *, positive=True, seeds=(0, 1), progress=None):
    r"""Decide whether the ML2P parameters of the Q-matrix ``Q`` are identified.

    ``free_dimensions`` is the Jacobian nullity (:func:`jacobian_nullity`, the minimum over
    the random points ``seeds``: rank can only drop at special points), compared with the
    dimension of the pattern-preserving rotations (:func:`rotation_dimension`, SymPy);
    ``identified`` also requires that no discrete symmetry (:func:`discrete_symmetries`)
    exists, and that every trait is measured by some item: a trait no item measures does
    not enter the response distribution, so nothing identifies it (it is reported among the
    symmetries, and ``identified`` is False). ``positive``: slopes constrained non-negative
    (rules out sign flips). ``progress``: optional callable receiving a one-line
    description of each stage (the command line prints them on stderr for large Q).
    Raises :class:`QMatrixError` for a malformed Q (more than ``MAX_TRAITS`` traits) and
    :class:`~ml2p_symbolic.errors.ResourceError` for one too large for memory.

    Examples
    --------
    >>> r = analyze([[1]] * 3)
    >>> r.free_dimensions, r.identified, r.agree
    (0, True, True)
    >>> analyze([[1]] * 3, positive=False).symmetries
    ('sign flip of trait 1 (theta_1 -> -theta_1, a_:1 -> -a_:1)',)
    >>> r = analyze([[1, 1]] * 4)
    >>> r.free_dimensions, r.identified, r.symbolic_free_dimensions
    (1, False, 1)
    >>> analyze([[1, 0]] * 3).identified  # trait 2: no item measures it
    False
    """
    Q = validate_q_matrix(Q)
    n, K = Q.shape
    say = progress or (lambda message: None)
    check_memory(estimate_cost(Q)["bytes"], f"the identifiability Jacobian of {n} items and {K} traits",
                 "use fewer items")
    say(f"rotations that keep the Q-pattern: SymPy rank over Q(a), {n} items x {K} traits")
    d_sym = rotation_dimension(Q)
    nulls, gaps, criterion = [], [], ""
    for seed in seeds:
        null, gap, criterion, _ = jacobian_nullity(Q, seed=seed, progress=say)
        if null != d_sym and n > FULL_PATTERN_MAX_ITEMS:
            null, gap, criterion, _ = jacobian_nullity(Q, seed=seed, subsets="triples", progress=say)
        nulls.append(null)
        gaps.append(gap)
    d_num = min(nulls)
    discrete = discrete_symmetries(Q, positive=positive)
    symmetries = []
    if d_sym:
        symmetries.append(
            f"{d_sym}-dimensional family of rotations theta -> R theta, A -> A R^T that keep "
            "A R^T zero where Q is zero"
        )
    if d_num > d_sym:
        symmetries.append(
            f"{d_num - d_sym} further direction(s) along which the response distribution does "
            "not change (not rotations: too few items for the parameters)"
            + _few_items_hint(Q)
        )
    symmetries.extend(discrete)
    counts = tuple(int(c) for c in Q.sum(axis=0))
    unmeasured = [k for k in range(K) if counts[k] == 0]
    symmetries.extend(
        f"trait {k + 1} is measured by no item: theta_{k + 1} does not enter the response "
        "distribution, so nothing identifies it" for k in unmeasured)
    _, ncols = _column_index(Q)
    return Identifiability(
        free_dimensions=int(d_num),
        identified=bool(d_num == 0 and not discrete and not unmeasured),
        symmetries=tuple(symmetries),
        symbolic_free_dimensions=int(d_sym),
        numeric_free_dimensions=tuple(int(x) for x in nulls),
        agree=bool(d_num == d_sym),
        n_parameters=int(ncols),
        criterion=criterion,
        singular_gap=float(min(gaps)),
        discrete=discrete,
        items_per_trait=counts,
        positive=bool(positive),
    )


def _few_items_hint(Q):
    n, K = Q.shape
    hints = []
    for k in range(K):
        only = [i for i in range(n) if Q[i, k] and Q[i].sum() == 1]
        if Q[:, k].sum() == 1 and only:
            hints.append(f"trait {k + 1} is measured by item {only[0] + 1} alone")
    return ("; " + "; ".join(hints)) if hints else ""
