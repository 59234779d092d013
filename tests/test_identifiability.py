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
from strategies import q_matrices, simple_structure_q_matrices


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
    assert discrete_symmetries([[1, 1, 0], [1, 1, 1], [1, 1, 1]]) == (
        "swap of traits 1 and 2 (identical Q columns)",
    )


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
