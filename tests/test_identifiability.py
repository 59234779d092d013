"""Tests of ml2p_symbolic.identifiability: Q-matrix identifiability of the ML2P parameters."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml2p_symbolic.errors import QMatrixError
from ml2p_symbolic.identifiability import (
    analyze,
    discrete_symmetries,
    jacobian_nullity,
    read_q_matrix,
    rotation_dimension,
    validate_q_matrix,
)
from strategies import correlation_matrices, covariance_matrices, q_matrices, simple_structure_q_matrices


# --------------------------------------------------------------------------- known cases
@pytest.mark.parametrize("n", [3, 5, 12])
def test_one_trait_identified_when_positive(n):
    r = analyze([[1]] * n)
    assert (r.free_dimensions, r.identified, r.agree) == (0, True, True)
    assert r.symmetries == ()


def test_one_trait_sign_flip_when_not_positive():
    r = analyze([[1]] * 4, positive=False)
    assert r.free_dimensions == 0 and not r.identified
    assert len(r.symmetries) == 1 and "sign flip" in r.symmetries[0]


def test_two_items_one_trait_not_identified():
    # 3 pattern probabilities cannot determine 4 parameters: not a rotation
    r = analyze([[1]] * 2)
    assert r.free_dimensions == 1 and r.symbolic_free_dimensions == 0 and not r.agree
    assert not r.identified


@pytest.mark.parametrize("n", [4, 6, 12])
def test_two_traits_no_zeros_one_rotation(n):
    r = analyze([[1, 1]] * n)
    assert r.free_dimensions == 1 == r.symbolic_free_dimensions
    assert not r.identified
    assert any("rotation" in s for s in r.symmetries)


def test_three_traits_no_zeros_three_rotations():
    r = analyze([[1, 1, 1]] * 6)
    assert r.free_dimensions == 3 == r.symbolic_free_dimensions and r.agree


def test_three_traits_one_zero_two_rotations():
    r = analyze([[1, 1, 0]] + [[1, 1, 1]] * 6)
    assert r.free_dimensions == 2 == r.symbolic_free_dimensions


def test_lower_triangular_anchor_identifies_three_traits():
    Q = [[1, 0, 0], [1, 1, 0]] + [[1, 1, 1]] * 5
    r = analyze(Q)
    assert r.free_dimensions == 0 and r.agree and r.identified


def test_two_traits_one_zero_identified():
    r = analyze([[1, 0]] + [[1, 1]] * 4)
    assert r.free_dimensions == 0 and r.identified


def test_trait_measured_by_one_item_alone():
    r = analyze([[1, 0]] + [[0, 1]] * 3)
    assert r.free_dimensions == 1 and r.symbolic_free_dimensions == 0 and not r.identified
    assert any("item 1 alone" in s for s in r.symmetries)


def test_large_q_matrix_uses_moments():
    Q = np.ones((14, 2), dtype=int)
    r = analyze(Q)
    assert "moments" in r.criterion
    assert r.free_dimensions == 1 and r.agree


# --------------------------------------------------------------------------- properties
@settings(max_examples=15)
@given(simple_structure_q_matrices(max_traits=3))
def test_simple_structure_with_three_items_per_trait_is_identified(Q):
    r = analyze(Q)
    assert r.free_dimensions == 0 and r.agree and r.identified
    assert min(r.items_per_trait) >= 3


@settings(max_examples=25)
@given(q_matrices(max_items=6, max_traits=2))
def test_numeric_dimension_at_least_rotations(Q):
    # the rotations are exact symmetries: the Jacobian null space contains them
    r = analyze(Q, seeds=(0,))
    assert r.free_dimensions >= r.symbolic_free_dimensions
    assert r.singular_gap > 1e3


@settings(max_examples=10)
@given(q_matrices(max_items=6, max_traits=2).filter(lambda Q: Q.shape[0] >= 2 * Q.shape[1] + 2
                                                     and Q.sum(axis=0).min() >= 3))
def test_numeric_and_symbolic_agree_with_enough_items(Q):
    r = analyze(Q)
    assert r.agree, (Q, r)
    assert len(set(r.numeric_free_dimensions)) == 1  # the two random points agree


@given(q_matrices(max_items=8, max_traits=3), st.randoms(use_true_random=False))
def test_rotation_dimension_invariant_under_item_order(Q, rnd):
    order = list(range(Q.shape[0]))
    rnd.shuffle(order)
    assert rotation_dimension(Q[order]) == rotation_dimension(Q)


@given(q_matrices(max_items=8, max_traits=3))
def test_rotation_dimension_bounds(Q):
    K = Q.shape[1]
    d = rotation_dimension(Q)
    assert 0 <= d <= K * (K - 1) // 2
    if Q.all():
        assert d == K * (K - 1) // 2


@given(q_matrices(max_items=6, max_traits=3))
def test_sign_flips_only_without_positivity(Q):
    flips = [s for s in discrete_symmetries(Q, positive=False) if "sign flip" in s]
    assert len(flips) == int((Q.sum(axis=0) > 0).sum())
    assert not any("sign flip" in s for s in discrete_symmetries(Q, positive=True))


def test_swaps_of_identical_columns():
    (swap,) = discrete_symmetries([[1, 1, 0], [1, 1, 1], [1, 1, 1]])
    assert swap.startswith("swap of traits 1 and 2 (") and "identical Q columns" in swap
    assert r"\theta_{1} \leftrightarrow \theta_{2}" in swap


def test_numeric_nullity_confirmed_at_two_points():
    for seed in (0, 1, 2):
        assert jacobian_nullity([[1, 1]] * 5, seed=seed)[0] == 1


def test_to_dict_has_the_three_fields():
    d = analyze([[1, 1]] * 4).to_dict()
    assert set(d) == {"free_dimensions", "identified", "symmetries"}
    assert d["free_dimensions"] == 1 and d["identified"] is False


# --------------------------------------------------------------------------- input
@pytest.mark.parametrize(
    "Q", [[], [[]], [[1, 2]], [[0.5]], [[1, 0], [1]], [[1, 1, 1, 1]], [1, 0, 1]]
)
def test_malformed_q_matrices(Q):
    with pytest.raises(QMatrixError):
        validate_q_matrix(Q)


def test_read_q_matrix(tmp_path):
    f = tmp_path / "q.csv"
    f.write_text("# a comment\ntrait1,trait2\n1,0\n\n0,1\n1,1\n")
    np.testing.assert_array_equal(read_q_matrix(f), [[1, 0], [0, 1], [1, 1]])


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("1,0\n1\n", "ragged"), ("1,2\n", "0 or 1"), ("1,x\n", "0 or 1"), ("# only\n", "empty")],
)
def test_read_q_matrix_malformed(tmp_path, text, message):
    f = tmp_path / "q.csv"
    f.write_text(text)
    with pytest.raises(QMatrixError, match=message):
        read_q_matrix(f)


# --------------------------------------------------------------------------- issue 9
def _explicit_moment_jacobian(Q, A, b, triples):
    """Row by row, the Jacobian of the moments E prod_{t in T} P_t over the free parameters,
    for every single, every pair and the given triples (the definition, no shortcuts)."""
    from ml2p_symbolic.identifiability import _column_index, _gh
    from ml2p_symbolic.numeric.special import sigmoid

    n, K = Q.shape
    taug, w = _gh(K)
    P = sigmoid(A @ taug[:, :K].T - b[:, None])
    idx, ncols = _column_index(Q)
    subsets = [(i,) for i in range(n)] + [(i, j) for i in range(n) for j in range(i + 1, n)]
    subsets += [tuple(t) for t in triples]
    J = np.zeros((len(subsets), ncols))
    for r, T in enumerate(subsets):
        for t in T:
            f = w * P[t] * (1 - P[t])
            for s in T:
                if s != t:
                    f = f * P[s]
            d = f @ taug
            for slot in range(K + 1):
                if idx[t, slot] >= 0:
                    J[r, idx[t, slot]] += d[slot]
    return J


def test_gram_accumulated_block_by_block_is_the_gram_of_the_explicit_jacobian():
    from ml2p_symbolic.identifiability import _column_index, _generic_point, _gh, _moment_gram
    from ml2p_symbolic.numeric.special import sigmoid

    Q = np.array([[1, 0], [1, 1], [0, 1], [1, 0], [1, 1], [0, 1], [1, 0]])
    A, b = _generic_point(Q, np.random.default_rng(3))
    triples = np.array([[0, 1, 2], [1, 4, 6], [2, 3, 5], [0, 5, 6]])
    J = _explicit_moment_jacobian(Q, A, b, triples)
    taug, w = _gh(2)
    idx, _ = _column_index(Q)
    G = _moment_gram(sigmoid(A @ taug[:, :2].T - b[:, None]), taug, w, idx, triples)
    np.testing.assert_allclose(G, J.T @ J, rtol=1e-12, atol=1e-15)


def test_a_trait_no_item_measures_is_not_identified():
    r = analyze([[1, 0]] * 4)
    assert r.identified is False and r.items_per_trait == (4, 0)
    assert any("trait 2 is measured by no item" in s for s in r.symmetries)


def test_more_traits_than_the_analysis_handles_is_refused_saying_the_limit():
    with pytest.raises(QMatrixError, match="handles 1 to 3 traits .* has 4 trait columns"):
        analyze(np.eye(4, dtype=int).repeat(3, axis=0))


def test_large_q_is_estimated_and_refused_with_the_figure_before_any_work(monkeypatch):
    from ml2p_symbolic.errors import ResourceError
    from ml2p_symbolic.identifiability import estimate_cost

    monkeypatch.setenv("ML2P_MEMORY_LIMIT", "50MB")
    Q = np.kron(np.eye(3, dtype=int), np.ones((100, 1), dtype=int))
    assert estimate_cost(Q)["bytes"] > 50e6
    with pytest.raises(ResourceError, match=r"300 items and 3 traits needs about \d+ MB of memory; "
                                            r"the limit is 50 MB"):
        analyze(Q)


def test_progress_reports_each_stage():
    said = []
    analyze(np.kron(np.eye(2, dtype=int), np.ones((6, 1), dtype=int)), progress=said.append)
    assert any("SymPy" in s for s in said) and sum("Gram matrix of the moments" in s for s in said) == 2


def test_q_value_message_shows_plain_numbers():
    with pytest.raises(QMatrixError) as info:
        validate_q_matrix(np.array([[1.0, 2.0]]))
    assert str(info.value).endswith("found 2.0")


# --------------------------------------------------------------------------- priors with a covariance (issue 11)
SIGMA2 = np.array([[1.0, 0.5], [0.5, 1.4]])  # a known covariance, rho = 0.5 / sqrt(1.4)
SIGMA3 = np.array([[1.0, 0.4, 0.2], [0.4, 1.2, -0.3], [0.2, -0.3, 0.9]])


def _known(Q):
    return {1: np.array([[2.0]]), 2: SIGMA2, 3: SIGMA3}[np.asarray(Q).shape[1]]


def test_full_q_two_traits_under_each_prior():
    """K = 2, no zero in Q, so nothing restricts X beyond the prior's constraint; A has full
    column rank, so each X moves the parameters. standard: X = S skew, 1 coordinate -> 1 (the
    rotation angle). known: X Sigma + Sigma X^T = 0 <=> X Sigma = S skew <=> X = S Sigma^-1,
    again 1 coordinate -> 1 (the rotations of the whitened traits, C R C^-1). correlation:
    (X Sigma + Sigma X^T)_kk = 0 are K = 2 linear conditions on the K^2 = 4 entries of X -> 2
    (the rotation and a shear that moves rho)."""
    Q = [[1, 1]] * 5
    assert [analyze(Q, **kw).free_dimensions for kw in
            ({}, {"prior": "known", "Sigma": SIGMA2}, {"prior": "correlation"})] == [1, 1, 2]
    r = analyze(Q, prior="correlation")
    assert r.agree and r.symbolic_free_dimensions == 2 and r.n_parameters == 16
    assert "diag" in r.symmetries[0]


def test_full_q_three_traits_under_each_prior():
    """K = 3, no zeros: standard and known, the 3 coordinates of S; correlation, 9 - 3 = 6."""
    Q = [[1, 1, 1]] * 6
    got = [analyze(Q, **kw) for kw in ({}, {"prior": "known", "Sigma": SIGMA3}, {"prior": "correlation"})]
    assert [r.free_dimensions for r in got] == [3, 3, 6]
    assert all(r.agree for r in got)


def test_simple_structure_is_identified_with_the_correlation_free():
    """Simple structure 3 + 3 under "correlation": X has free X_12, X_21 (X_kk = -X_kl rho).
    An item on trait 1 only has the row (a, 0) in A, and (A X)_(i,2) = a X_12 must vanish, so
    X_12 = 0; an item on trait 2 gives X_21 = 0; then X_11 = X_22 = 0. Nothing is left: the
    slopes, intercepts and rho are identified (signs fixed by positivity). Under "known" with
    rho != 0: X = s/(1 - rho^2) [[-rho, 1], [-1, rho]] (for unit variances), and (a, 0) X has
    second entry a s/(1 - rho^2), so s = 0: identified too."""
    Q = [[1, 0]] * 3 + [[0, 1]] * 3
    r = analyze(Q, prior="correlation")
    assert (r.free_dimensions, r.symbolic_free_dimensions, r.identified, r.n_parameters) == (0, 0, True, 13)
    r = analyze(Q, prior="correlation", Sigma=[[1.0, 0.6], [0.6, 1.0]])
    assert r.identified and r.agree
    assert analyze(Q, prior="known", Sigma=[[1.0, 0.6], [0.6, 1.0]]).identified


def test_one_anchor_item_is_not_enough_when_the_correlation_is_estimated():
    """Item 1 measures trait 1 only, the others both. standard: S = s [[0, 1], [-1, 0]] and
    (a, 0) S = (0, a s): s = 0, identified. known (rho != 0): X = S Sigma^-1, the second entry
    of (a, 0) X is a s (Sigma^-1)_22 != 0 unless s = 0: identified. correlation: only
    (A X)_(1,2) = a X_12 = 0 is imposed, so X_12 = 0, X_11 = -X_12 rho = 0, while X_21 is free
    (X_22 = -X_21 rho): 1 dimension, theta_2 -> theta_2 + t theta_1 with the variance and
    the correlation adjusted."""
    Q = [[1, 0]] + [[1, 1]] * 4
    assert analyze(Q).identified
    assert analyze(Q, prior="known", Sigma=SIGMA2).identified
    r = analyze(Q, prior="correlation")
    assert (r.free_dimensions, r.symbolic_free_dimensions, r.agree, r.identified) == (1, 1, True, False)


def test_a_lower_triangular_anchor_leaves_three_dimensions_when_the_correlations_are_estimated():
    """K = 3, item 1 on trait 1, item 2 on traits 1-2, the rest on all three. correlation:
    item 1 forces X_12 = X_13 = 0; item 2 (a, b, 0) forces a X_13 + b X_23 = 0, so X_23 = 0: the
    upper triangle of X vanishes and X_21, X_31, X_32 are free (X_kk follow): 3 dimensions,
    where standard and known (3 conditions on the 3 coordinates of S) have none."""
    Q = [[1, 0, 0], [1, 1, 0]] + [[1, 1, 1]] * 5
    assert analyze(Q, prior="known", Sigma=SIGMA3).identified
    r = analyze(Q, prior="correlation")
    assert (r.free_dimensions, r.symbolic_free_dimensions, r.agree) == (3, 3, True)


def test_correlated_traits_identify_two_items_per_trait():
    """2 + 2 simple structure. Under N(0, I) each trait with two items is a K = 1, n = 2 block
    (3 free probabilities of its own, 4 parameters): one non-transformational free direction
    per trait, 2 in all, which the symbolic count (0) cannot see. With correlated traits the
    items of different traits are dependent, and the cross pairs carry information on the
    slopes (as in factor analysis: the covariances a_1 a_3 rho, a_1 a_4 rho, a_2 a_3 rho,
    a_2 a_4 rho and a_1 a_2, a_3 a_4 are 6 equations for the 5 unknowns a_1..a_4, rho):
    identified, numerically and symbolically 0, under "known" and under "correlation"."""
    Q = [[1, 0]] * 2 + [[0, 1]] * 2
    r = analyze(Q)
    assert (r.free_dimensions, r.symbolic_free_dimensions, r.agree) == (2, 0, False)
    for kw in ({"prior": "known", "Sigma": SIGMA2}, {"prior": "correlation"}):
        r = analyze(Q, **kw)
        assert (r.free_dimensions, r.agree, r.identified) == (0, True, True), kw
    # with rho = 0 the traits are independent again: the standard answer
    assert analyze(Q, prior="known", Sigma=np.eye(2)).free_dimensions == 2


def test_known_sigma_equal_to_the_identity_is_the_standard_prior():
    for Q in ([[1, 1]] * 4, [[1, 0]] + [[1, 1]] * 4, [[1, 1, 0]] + [[1, 1, 1]] * 6):
        a, b = analyze(Q), analyze(Q, prior="known", Sigma=np.eye(np.shape(Q)[1]))
        assert (a.free_dimensions, a.symbolic_free_dimensions, len(a.discrete)) == \
            (b.free_dimensions, b.symbolic_free_dimensions, len(b.discrete))


def test_discrete_symmetries_under_a_known_sigma():
    """A sign flip theta_k -> -theta_k changes Sigma_kl to -Sigma_kl: with a known Sigma it is
    a symmetry only for a trait uncorrelated with the others; correlated traits flip only
    together (flipping both keeps Sigma). A swap of traits k, l keeps Sigma only when it
    exchanges their variances and covariances consistently."""
    Q = [[1, 0]] * 3 + [[0, 1]] * 3
    flips = discrete_symmetries(Q, positive=False, prior="known", Sigma=SIGMA2)
    assert len(flips) == 1 and flips[0].startswith("sign flip of traits 1 and 2 together")
    assert len(discrete_symmetries(Q, positive=False, prior="known", Sigma=np.diag([1.0, 2.0]))) == 2
    assert discrete_symmetries(Q, positive=True, prior="known", Sigma=SIGMA2) == ()
    full = [[1, 1]] * 4
    assert len(discrete_symmetries(full, prior="known", Sigma=[[1.0, 0.3], [0.3, 1.0]])) == 1  # the swap
    assert discrete_symmetries(full, prior="known", Sigma=SIGMA2) == ()  # unequal variances
    # correlation prior: every signed permutation keeps a unit diagonal; the flips move rho
    corr = discrete_symmetries(Q, positive=False, prior="correlation")
    assert len(corr) == 2 and all(r"\rho" in d for d in corr)


def test_a_signed_permutation_beyond_flips_and_swaps_is_found():
    """Traits 1 and 2 with identical Q columns and equal variances, Sigma_13 = c = -Sigma_23.
    The swap alone maps Sigma_13 to Sigma_23 = -c: not a symmetry; the components of the
    correlation graph are {1, 2, 3}, so the only flip is of all three. But swapping 1 and 2
    and flipping 3 maps Sigma_13 to -Sigma_23 = c and Sigma_23 to -Sigma_13 = -c: a symmetry
    not generated by the others, which must be listed."""
    Q = [[1, 1, 0], [1, 1, 0], [1, 1, 1], [0, 0, 1], [1, 1, 1]]
    S = np.array([[1.0, 0.2, 0.3], [0.2, 1.0, -0.3], [0.3, -0.3, 1.0]])
    found = discrete_symmetries(Q, positive=False, prior="known", Sigma=S)
    assert len(found) == 2
    assert found[0].startswith("sign flip of traits 1, 2 and 3 together")
    assert found[1].startswith("signed permutation of the traits")


@settings(max_examples=10)
@given(q_matrices(max_items=6, max_traits=2).filter(lambda Q: Q.shape[0] >= 2 * Q.shape[1] + 2
                                                     and Q.sum(axis=0).min() >= 3), st.data())
def test_analyze_agrees_with_itself_under_every_prior(Q, data):
    K = Q.shape[1]
    S = data.draw(covariance_matrices(K))
    R = data.draw(correlation_matrices(K))
    for kw in ({}, {"prior": "known", "Sigma": S}, {"prior": "correlation"},
               {"prior": "correlation", "Sigma": R}):
        r = analyze(Q, **kw)
        assert r.agree, (Q, kw, r)
        assert len(set(r.numeric_free_dimensions)) == 1


@settings(max_examples=15)
@given(q_matrices(max_items=6, max_traits=2), st.data())
def test_numeric_dimension_at_least_the_transformations_under_every_prior(Q, data):
    K = Q.shape[1]
    for kw in ({"prior": "known", "Sigma": data.draw(covariance_matrices(K))}, {"prior": "correlation"}):
        r = analyze(Q, seeds=(0,), **kw)
        assert r.free_dimensions >= r.symbolic_free_dimensions
        assert r.singular_gap > 1e3


def test_three_priors_on_the_suites_three_trait_q_matrices():
    for Q in ([[1, 1, 1]] * 6, [[1, 1, 0]] + [[1, 1, 1]] * 6, [[1, 0, 0], [1, 1, 0]] + [[1, 1, 1]] * 5,
              np.kron(np.eye(3, dtype=int), np.ones((3, 1), dtype=int))):
        for kw in ({}, {"prior": "known", "Sigma": SIGMA3}, {"prior": "correlation"}):
            assert analyze(Q, **kw).agree, (Q, kw)


def test_large_q_with_a_correlation_prior_uses_moments():
    r = analyze(np.ones((14, 2), dtype=int), prior="correlation")
    assert "moments" in r.criterion and r.free_dimensions == 2 and r.agree


def test_the_cholesky_chain_rule_against_finite_differences():
    """The Jacobian column of rho is d/drho of the pattern probabilities at (A, b, Sigma(rho)):
    the chain rule through the Cholesky derivative against a central difference of
    ml2p_symbolic.population.pattern_probabilities."""
    from ml2p_symbolic.identifiability import _chain, _column_index, _gh, _subset_jacobian_rows
    from ml2p_symbolic.numeric.special import sigmoid
    from ml2p_symbolic.population import pattern_probabilities

    Q = np.array([[1, 0], [1, 1], [0, 1], [1, 1]])
    A = Q * np.array([[0.9, 0.0], [0.7, 1.1], [0.0, 1.3], [0.5, 0.8]])
    b = np.array([0.2, -0.4, 0.1, 0.6])
    rho = 0.35
    S = np.array([[1.0, rho], [rho, 1.0]])
    C = np.linalg.cholesky(S)
    taug, w = _gh(2)
    every, _ = _column_index(np.ones_like(Q))
    J = _subset_jacobian_rows(np.arange(4)[None, :], sigmoid((A @ C) @ taug[:, :2].T - b[:, None]),
                              taug, w, every) @ _chain(Q, A, C, True)
    h = 1e-6

    def p(r):
        return pattern_probabilities(A, b, Sigma=[[1.0, r], [r, 1.0]], nodes=48)

    np.testing.assert_allclose(J[:, -1], (p(rho + h) - p(rho - h)) / (2 * h), atol=1e-8)
    a_col = _column_index(Q)[0][1, 1]  # a_22
    E = np.zeros_like(A)
    E[1, 1] = h
    fd = (pattern_probabilities(A + E, b, Sigma=S, nodes=48) - pattern_probabilities(A - E, b, Sigma=S, nodes=48)) / (2 * h)
    np.testing.assert_allclose(J[:, a_col], fd, atol=1e-8)


@pytest.mark.parametrize("kw, error, match", [
    ({"prior": "gaussian"}, "DomainError", "prior must be one of"),
    ({"prior": "known"}, "ArgumentError", "needs Sigma"),
    ({"Sigma": np.eye(2)}, "ArgumentError", "only with prior"),
    ({"prior": "correlation", "Sigma": [[2.0, 0.0], [0.0, 1.0]]}, "DomainError", "unit diagonal"),
    ({"prior": "known", "Sigma": [[1.0, 2.0], [2.0, 1.0]]}, "DomainError", "positive definite"),
    ({"prior": "known", "Sigma": np.eye(3)}, "ShapeError", r"\(2, 2\)"),
])
def test_bad_prior_arguments(kw, error, match):
    import ml2p_symbolic.errors as errors

    with pytest.raises(getattr(errors, error), match=match):
        analyze([[1, 0], [0, 1]] * 3, **kw)
