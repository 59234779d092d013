"""Tests of ml2p_symbolic.numeric.special: the package's one sigmoid, softplus, log-sigmoid,
erfc, Phi and log Phi, against mpmath at 30 digits."""

import math

import mpmath
import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from ml2p_symbolic.numeric.special import (
    erfc,
    log_ndtr,
    log_sigmoid,
    ndtr,
    sigmoid,
    softplus,
    softplus_sigmoid,
)
from strategies import reals

EPS = 2.0**-52


def _rel(got, want):
    want = mpmath.mpf(want)
    return float(abs((mpmath.mpf(float(got)) - want) / want)) if want else abs(float(got))


def _mp(fn):
    def ref(x):
        with mpmath.workdps(30):
            return fn(mpmath.mpf(float(x)))
    return ref


_sig = _mp(lambda x: 1 / (1 + mpmath.exp(-x)))
_softplus = _mp(lambda x: mpmath.log1p(mpmath.exp(x)))
_log_sig = _mp(lambda x: -mpmath.log1p(mpmath.exp(-x)))


@given(st.lists(reals(-700.0, 700.0), min_size=1, max_size=20))
@example([-700.0, -36.9, -1e-9, 0.0, 1e-9, 0.5, 36.9, 700.0])
def test_logistic_family_to_a_few_ulps(zs):
    z = np.array(zs)
    sp_, p_ = softplus_sigmoid(z)
    for name, got, ref in [("sigmoid", sigmoid(z), _sig), ("softplus", softplus(z), _softplus),
                           ("log_sigmoid", log_sigmoid(z), _log_sig), ("pair.softplus", sp_, _softplus),
                           ("pair.sigmoid", p_, _sig)]:
        assert got.shape == z.shape
        for x, g in zip(zs, got):
            want = ref(x)
            if abs(want) < 1e-300:  # below the normal floats: the absolute error is what counts
                assert abs(float(g)) < 1e-290, (name, x, g)
            else:
                assert _rel(g, want) < 4 * EPS, (name, x, g, want)


def test_logistic_family_never_overflows_or_warns():
    z = np.array([-np.inf, -1e308, -800.0, 800.0, 1e308, np.inf])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert sigmoid(z).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
        assert softplus(z[1:-1]).tolist() == [0.0, 0.0, 800.0, 1e308]
        assert log_sigmoid(z[1:-1]).tolist() == [-1e308, -800.0, -0.0, -0.0]
    assert np.isnan(sigmoid(np.nan)) and np.isnan(softplus(np.nan))


def test_in_place_and_scalar_forms():
    z = np.array([-1.0, 0.0, 2.0])
    want = [float(_softplus(v)) for v in z]
    assert softplus(z.copy()).tolist() == softplus(z, out=z.copy()).tolist()
    buf = z.copy()
    assert softplus(buf, out=buf) is buf and np.allclose(buf, want, rtol=1e-15, atol=0)
    buf = z.copy()
    assert sigmoid(buf, out=buf) is buf and buf[1] == 0.5
    assert np.ndim(softplus(1.0)) == 0 and np.ndim(log_sigmoid(1.0)) == 0 and np.ndim(sigmoid(1.0)) == 0


@given(st.lists(reals(-6.0, 27.0), min_size=1, max_size=20))
@example([-6.0, -0.5, 0.0, 0.5, 0.93, 6.3, 20.0, 26.5])
def test_erfc_relative_error_grows_at_most_like_x_squared(xs):
    """scipy's erfc: up to ~8 ulp for x in [0.5, 2], ~x^2 ulp in the far tail (the rounding
    of x^2 inside exp(-x^2)); benchmarks/bench_special.py prints the measured figures."""
    got = erfc(np.array(xs))
    for x, g in zip(xs, got):
        want = _mp(mpmath.erfc)(x)
        if want > 1e-300:
            assert _rel(g, want) < 12 * EPS * max(1.0, x * x), (x, g, want)


@given(st.lists(reals(-38.0, 9.0), min_size=1, max_size=20))
@example([-38.0, -37.5, -8.3, -1.1755, 0.0, 0.70710678, 5.0, 8.9])
def test_ndtr_relative_error_in_both_tails(ts):
    got = ndtr(np.array(ts))
    for t, g in zip(ts, got):
        want = _mp(mpmath.ncdf)(t)
        if want > 1e-300:
            assert _rel(g, want) < 4 * EPS * max(1.0, t * t), (t, g, want)


@given(st.lists(reals(-60.0, 30.0), min_size=1, max_size=20))
@example([-60.0, -40.0, -38.5, 0.0, 6.0, 9.0, 30.0])
def test_log_ndtr_where_phi_underflows_and_where_it_is_one(ts):
    got = log_ndtr(np.array(ts))
    for t, g in zip(ts, got):
        want = _mp(lambda u: mpmath.log(mpmath.ncdf(u)))(t)
        # full relative accuracy where log Phi is not tiny; ~1e-30 absolute where it is
        assert abs(float(g) - float(want)) <= 1e-14 * abs(float(want)) + 1e-30, (t, g, want)
    assert math.isfinite(float(log_ndtr(-40.0))) and ndtr(-40.0) == 0.0


def test_erfc_and_ndtr_special_values_and_shapes():
    assert erfc(np.array([-np.inf, 0.0, -0.0, np.inf])).tolist() == [2.0, 1.0, 1.0, 0.0]
    assert np.isnan(erfc(np.nan)) and np.isnan(ndtr(np.nan))
    assert np.shape(erfc(1.0)) == () and ndtr(np.zeros((2, 3))).shape == (2, 3)
    assert ndtr(-40.0) == 0.0 and ndtr(40.0) == 1.0
