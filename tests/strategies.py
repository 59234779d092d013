"""Hypothesis strategies shared by the test modules, named after what they draw."""

from hypothesis import strategies as st


def reals(lo=-30.0, hi=30.0):
    """Finite floats in [lo, hi]."""
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def positive_reals(lo=1e-3, hi=10.0):
    """Finite floats in [lo, hi] with lo > 0."""
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------- numeric ML2P-VAE (encoder, model)
@st.composite
def q_matrices(draw, max_items=6, max_traits=3):
    """A 0/1 Q-matrix (n, K) as a numpy int array, every row and every column non-empty."""
    import numpy as np

    K = draw(st.integers(1, max_traits))
    n = draw(st.integers(K, max(K, max_items)))
    Q = np.array(draw(st.lists(st.lists(st.integers(0, 1), min_size=K, max_size=K),
                               min_size=n, max_size=n)))
    Q[np.arange(K), np.arange(K)] = 1  # every trait measured
    Q[Q.sum(axis=1) == 0, 0] = 1  # every item measures something
    return Q


def encoder_architectures(max_layers=2, max_width=6, activations=("tanh", "sigmoid", "softplus", "linear")):
    """(hidden widths, activation names): a small MLP encoder's layout."""
    return st.integers(0, max_layers).flatmap(
        lambda L: st.tuples(
            st.lists(st.integers(1, max_width), min_size=L, max_size=L).map(tuple),
            st.lists(st.sampled_from(activations), min_size=L, max_size=L).map(tuple),
        )
    )
