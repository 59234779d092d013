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

import csv
import itertools
from dataclasses import dataclass, field

import numpy as np

from .errors import QMatrixError
from .numeric.gauss_hermite import hermite_tensor_rule
from .numeric.special import sigmoid

__all__ = [
    "FULL_PATTERN_MAX_ITEMS",
    "Identifiability",
    "analyze",
    "read_q_matrix",
    "validate_q_matrix",
    "rotation_dimension",
    "jacobian_nullity",
    "discrete_symmetries",
]

FULL_PATTERN_MAX_ITEMS = 10
_NODES = {1: 64, 2: 48, 3: 24}  # Gauss-Hermite points per trait for the numeric Jacobian
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
        raise QMatrixError(f"Q-matrix entries must be 0 or 1, found {bad!r}")
    if not 1 <= arr.shape[1] <= 3:
        raise QMatrixError(f"Q-matrix must have 1, 2 or 3 trait columns, got {arr.shape[1]}")
    return arr.astype(int)


def read_q_matrix(path):
    """Read a Q-matrix from a CSV file: one row per item, one 0/1 column per trait.

    Blank lines and lines starting with ``#`` are skipped; a first row in which no field is
    a number is taken as a header. Raises :class:`QMatrixError` for an empty file, ragged
    rows or entries other than 0 and 1 (with the line number).
    """
    rows = []
    with open(path, newline="") as fh:
        for lineno, fields in enumerate(csv.reader(fh), start=1):
            fields = [f.strip() for f in fields]
            if not fields or all(f == "" for f in fields) or fields[0].startswith("#"):
                continue
            if not rows and not any(_is_number(f) for f in fields):
                rows.append(None)  # header
                continue
            vals = []
            for f in fields:
                if f not in ("0", "1"):
                    raise QMatrixError(f"{path}, line {lineno}: expected 0 or 1, got {f!r}")
                vals.append(int(f))
            if rows and rows[-1] is not None and len(vals) != len(rows[-1]):
                raise QMatrixError(
                    f"{path}, line {lineno}: ragged row with {len(vals)} entries, "
                    f"expected {len(rows[-1])}"
                )
            rows.append(vals)
    rows = [r for r in rows if r is not None]
    if not rows:
        raise QMatrixError(f"{path}: empty Q-matrix (expected rows of 0/1, one per item)")
    return validate_q_matrix(rows)


def _is_number(s):
    try:
        float(s)
    except ValueError:
        return False
    return True


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


def _singular_values(J):
    """Singular values of J with unit-norm columns (the nullity does not change).

    Taken as square roots of the eigenvalues of the small Gram matrix, formed without BLAS
    (threaded LAPACK on a tall matrix can be very slow on a loaded machine); the relative
    floor is about 1e-8, far below the null threshold 1e-5.
    """
    norms = np.sqrt(np.einsum("ri,ri->i", J, J, optimize=False))
    Jn = J / np.where(norms > 0, norms, 1.0)
    G = np.einsum("ri,rj->ij", Jn, Jn, optimize=False)
    ev = np.linalg.eigvalsh(0.5 * (G + G.T))[::-1]
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


def jacobian_nullity(Q, *, seed=0, subsets="auto"):
    r"""Numeric null-space dimension of the Jacobian (free parameters) -> (a response statistic).

    ``subsets="auto"``: all :math:`2^n` patterns when ``n <= FULL_PATTERN_MAX_ITEMS``,
    otherwise every pair of items plus a seeded sample of ``4 * n_parameters`` triples;
    ``"triples"``: all pairs and all triples; ``"full"``: all patterns. The integral over
    :math:`\theta` uses a tensor Gauss-Hermite rule (64, 48, 24 points per trait for
    K = 1, 2, 3). The random generic point has :math:`a_{ik} \sim U(0.5, 1.5)` where
    :math:`Q_{ik} = 1` and :math:`b_i \sim U(-1, 1)`, drawn from ``numpy.random.default_rng(seed)``.

    Returns ``(nullity, gap, criterion, singular_values)`` where a singular value below
    ``1e-5`` times the largest counts as zero (columns scaled to unit norm first) and ``gap`` is the ratio of the smallest kept to
    the largest dropped singular value.

    Examples
    --------
    >>> jacobian_nullity([[1, 1]] * 5)[0]
    1
    """
    Q = validate_q_matrix(Q)
    n, K = Q.shape
    rng = np.random.default_rng(seed)
    A, b = _generic_point(Q, rng)
    _, ncols = _column_index(Q)
    mode = subsets
    if mode == "auto":
        mode = "full" if n <= FULL_PATTERN_MAX_ITEMS else "sampled"
    if mode == "full":
        groups = [np.arange(n)[None, :]]
        criterion = f"all 2^{n} pattern probabilities"
    else:
        groups = [np.arange(n)[:, None]]
        if n >= 2:
            groups.append(np.array(list(itertools.combinations(range(n), 2)), dtype=int))
        triples = np.array(list(itertools.combinations(range(n), 3)), dtype=int).reshape(-1, 3)
        if mode == "sampled" and len(triples) > 4 * ncols:
            pick = rng.choice(len(triples), size=4 * ncols, replace=False)
            triples = triples[np.sort(pick)]
            criterion = f"moments E[P_S] of every item, every pair and {len(triples)} sampled triples"
        else:
            criterion = "moments E[P_S] of every item, pair and triple (marginals up to order 3)"
        if len(triples):
            groups.append(triples)
    kind = "patterns" if mode == "full" else "moments"
    J = np.vstack([_jacobian_rows(Q, A, b, g, kind) for g in groups])
    sv = _singular_values(J)
    null, gap = _nullity(sv)
    return null, gap, criterion, sv


def _moment_jacobian_rows(items, Pn, taug, w, idx):
    """Jacobian rows of the moments m_T = E prod_{t in T} P_t(theta), one row per subset T.

    The joint distribution of the items of S is an invertible linear function of
    (m_T, T subset of S), so for a family of subsets closed under taking subsets (all
    singles and pairs, plus some triples) these rows span the same space as the rows of the
    subsets' pattern probabilities. d m_T / d(a_t, b_t) = E[prod_{s != t} P_s * P_t(1 - P_t)
    * (theta, -1)].
    """
    m, r = items.shape
    ncols = int(idx.max()) + 1
    out = np.zeros((m, ncols))
    Pd = w * Pn * (1 - Pn)  # (n, Q): weight times dP/dz
    for t in range(r):
        F = Pd[items[:, t]]
        for s_ in range(r):
            if s_ != t:
                F *= Pn[items[:, s_]]
        D = F @ taug  # (m, K+1)
        cols = idx[items[:, t]]
        ok = cols >= 0
        rr = np.nonzero(ok)
        np.add.at(out, (rr[0], cols[ok]), D[ok])
    return out


def _jacobian_rows(Q, A, b, subsets, kind):
    """Jacobian of the joint distributions (kind="patterns") or moments (kind="moments")."""
    n, K = Q.shape
    taug, w = _gh(K)
    z = A @ taug[:, :K].T - b[:, None]
    Pn = sigmoid(z)
    idx, _ = _column_index(Q)
    rows = _subset_jacobian_rows if kind == "patterns" else _moment_jacobian_rows
    per = 2 ** subsets.shape[1] if kind == "patterns" else subsets.shape[1]
    chunk = max(1, (1 << 21) // (w.size * per))
    return np.vstack([
        rows(subsets[start:start + chunk], Pn, taug, w, idx)
        for start in range(0, subsets.shape[0], chunk)
    ])


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
def analyze(Q, *, positive=True, seeds=(0, 1)):
    r"""Decide whether the ML2P parameters of the Q-matrix ``Q`` are identified.

    ``free_dimensions`` is the Jacobian nullity (:func:`jacobian_nullity`, the minimum over
    the random points ``seeds``: rank can only drop at special points), compared with the
    dimension of the pattern-preserving rotations (:func:`rotation_dimension`, SymPy);
    ``identified`` also requires that no discrete symmetry (:func:`discrete_symmetries`)
    exists. ``positive``: slopes constrained non-negative (rules out sign flips).

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
    """
    Q = validate_q_matrix(Q)
    n, K = Q.shape
    d_sym = rotation_dimension(Q)
    nulls, gaps, criterion = [], [], ""
    for seed in seeds:
        null, gap, criterion, _ = jacobian_nullity(Q, seed=seed)
        if null != d_sym and n > FULL_PATTERN_MAX_ITEMS:
            null, gap, criterion, _ = jacobian_nullity(Q, seed=seed, subsets="triples")
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
    _, ncols = _column_index(Q)
    return Identifiability(
        free_dimensions=int(d_num),
        identified=bool(d_num == 0 and not discrete),
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
