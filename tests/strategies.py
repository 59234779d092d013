"""Hypothesis strategies shared by the test modules, named after what they draw."""

from hypothesis import strategies as st


def reals(lo=-30.0, hi=30.0):
    """Finite floats in [lo, hi]."""
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def positive_reals(lo=1e-3, hi=10.0):
    """Finite floats in [lo, hi] with lo > 0."""
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)
