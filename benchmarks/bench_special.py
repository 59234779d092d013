"""scipy.special against the hand-written numpy special functions and Gauss-Hermite rules.

    python benchmarks/bench_special.py [--points 1000000] [--repeats 5] [--dps 30]

For each function, the hand-written numpy version the package used before issue 9 (kept
below as ``legacy_*`` so that the comparison can be rerun) beside the scipy.special
function that replaces it, and beside the version the package uses now
(``ml2p_symbolic.numeric.special``):

* speed: median time of ``--repeats`` calls on ``--points`` points (the machine is shared,
  so medians), in nanoseconds per point;
* accuracy: the worst relative error against mpmath at ``--dps`` digits on a few thousand
  points spread over the function's range (tails included, where the value is a normal
  float > 1e-300).

The Gauss-Hermite rules (probabilists', weights normalised to sum to 1) are compared node
by node with an mpmath reference: the roots of He_G refined by Newton's method at ``--dps``
digits from the float64 nodes, and the weights w_q = (G - 1)! / (G He_(G-1)(x_q)^2) (the
weights for the density of N(0, 1), which sum to 1).  Printed: the worst error of the
nodes (absolute), of the weights (absolute, and relative where w_q > 1e-300: the tail
weights are tiny), and of the rule's E[cos(eps)] = exp(-1/2) (absolute) and
E[exp(2 eps)] = e^2 (relative).
"""

import argparse
import math
import statistics
import time

import mpmath
import numpy as np
import scipy.special as sc

from ml2p_symbolic.numeric import special
from ml2p_symbolic.numeric import gauss_hermite


# --------------------------------------------------------------------------- the legacy code
_LEGACY_ERF_SERIES = tuple(
    2.0 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(13)
)
_LEGACY_H = 0.5
_LEGACY_KH2 = tuple((k * _LEGACY_H) ** 2 for k in range(14, 0, -1))
_LEGACY_EXP = tuple(math.exp(-v) for v in _LEGACY_KH2)


def legacy_erfc(x):
    """quadrature.erfc before issue 9: Maclaurin series for |x| < 1/2, trapezoidal rule with
    pole correction (step 1/2, 14 terms) for |x| >= 1/2, erfc(-x) = 2 - erfc(x)."""
    x = np.asarray(x, dtype=np.float64)
    shape = x.shape
    x = x.ravel()
    out = np.empty_like(x)
    a = np.abs(x)
    small = a < 0.5
    i = np.flatnonzero(small)
    if i.size:
        xi = x[i]
        x2 = xi * xi
        p = np.full_like(xi, _LEGACY_ERF_SERIES[-1])
        for c in _LEGACY_ERF_SERIES[-2::-1]:
            p *= x2
            p += c
        p *= xi
        out[i] = np.subtract(1.0, p, out=p)
    j = np.flatnonzero(~small)
    if j.size:
        xj = np.minimum(a[j], 28.0)
        x2 = xj * xj
        acc = np.zeros_like(xj)
        tmp = np.empty_like(xj)
        for kh2, e in zip(_LEGACY_KH2, _LEGACY_EXP):
            np.add(x2, kh2, out=tmp)
            np.divide(e, tmp, out=tmp)
            acc += tmp
        np.divide(0.5, x2, out=tmp)
        acc += tmp
        acc *= xj
        acc *= 2.0 * _LEGACY_H / math.pi
        xh = np.floor(xj * 16.0)
        xh *= 1.0 / 16.0
        np.multiply(xh, xh, out=tmp)
        np.negative(tmp, out=tmp)
        acc *= np.exp(tmp, out=tmp)
        np.subtract(xj, xh, out=tmp)
        xh += xj
        tmp *= xh
        np.negative(tmp, out=tmp)
        acc *= np.exp(tmp, out=tmp)
        near = np.flatnonzero(xj < math.pi / _LEGACY_H)
        acc[near] -= 2.0 / np.expm1((2.0 * math.pi / _LEGACY_H) * xj[near])
        neg = np.flatnonzero(x[j] < 0.0)
        acc[neg] = 2.0 - acc[neg]
        out[j] = acc
    return out.reshape(shape)


def legacy_ndtr(t):
    """quadrature.ndtr before issue 9: erfc(-t / sqrt 2) / 2 with legacy_erfc."""
    return 0.5 * legacy_erfc(-np.asarray(t, dtype=np.float64) / math.sqrt(2.0))


def legacy_log_ndtr(t):
    """What the package could do before: log of legacy_ndtr (no log Phi of its own)."""
    with np.errstate(divide="ignore"):
        return np.log(legacy_ndtr(t))


def legacy_sigmoid(z):
    """population._sigmoid / encoder._sigmoid before issue 9 (np.where of two branches)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def legacy_softplus(z):
    """population._softplus before issue 9: max(z, 0) + log1p(exp(-|z|))."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def legacy_log_sigmoid(z):
    """log sigmoid(z) = -softplus(-z) with legacy_softplus."""
    return -legacy_softplus(-z)


def legacy_hermite_rule(G):
    """quadrature.hermite_rule before issue 9: numpy hermegauss for G <= 150, else
    Golub-Welsch (eigen-decomposition of the Jacobi matrix)."""
    if G <= 150:
        x, w = np.polynomial.hermite_e.hermegauss(G)
    else:
        off = np.sqrt(np.arange(1.0, G))
        x, V = np.linalg.eigh(np.diag(off, 1) + np.diag(off, -1))
        w = V[0] ** 2
    return x, w / w.sum()


def scipy_hermite_rule(G):
    x, w = sc.roots_hermitenorm(G)
    return x, w / w.sum()


# --------------------------------------------------------------------------- measuring
def median_ns_per_point(fn, x, repeats):
    fn(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / x.size * 1e9


def worst_relative_error(fn, ref, xs):
    got = np.asarray(fn(np.asarray(xs, dtype=np.float64)), dtype=np.float64)
    worst = 0.0
    for g, r in zip(got, ref):
        if r == 0 or abs(r) < 1e-300 or not mpmath.isfinite(r):
            continue
        worst = max(worst, float(abs((mpmath.mpf(float(g)) - r) / r)) if np.isfinite(g) else math.inf)
    return worst


def mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


CASES = [
    # name, reference, sample range for accuracy, [(label, function), ...]
    ("erfc", mpmath.erfc, (-6.0, 27.0), [
        ("legacy (series + trapezoid)", legacy_erfc), ("scipy.special.erfc", sc.erfc),
        ("package now", special.erfc)]),
    ("ndtr (Phi)", mpmath.ncdf, (-37.0, 9.0), [
        ("legacy (via legacy erfc)", legacy_ndtr), ("scipy.special.ndtr", sc.ndtr),
        ("package now", special.ndtr)]),
    ("log_ndtr (log Phi)", lambda t: mpmath.log(mpmath.ncdf(t)), (-60.0, 9.0), [
        ("legacy log(ndtr)", legacy_log_ndtr), ("scipy.special.log_ndtr", sc.log_ndtr),
        ("package now", special.log_ndtr)]),
    ("sigmoid", mp_sigmoid, (-700.0, 40.0), [
        ("legacy np.where", legacy_sigmoid), ("scipy.special.expit", sc.expit),
        ("package now", special.sigmoid)]),
    ("softplus", lambda x: mpmath.log1p(mpmath.exp(x)), (-700.0, 700.0), [
        ("legacy max + log1p(exp(-|z|))", legacy_softplus), ("np.logaddexp(0, z)", lambda z: np.logaddexp(0.0, z)),
        ("-scipy.special.log_expit(-z)", lambda z: -sc.log_expit(-z)), ("package now", special.softplus)]),
    ("log_sigmoid", lambda x: -mpmath.log1p(mpmath.exp(-x)), (-700.0, 700.0), [
        ("legacy -softplus(-z)", legacy_log_sigmoid), ("scipy.special.log_expit", sc.log_expit),
        ("package now", special.log_sigmoid)]),
]


def special_functions(points, repeats, dps):
    mpmath.mp.dps = dps
    rng = np.random.default_rng(0)
    print(f"special functions: ns/point on {points:,} points (median of {repeats}); worst relative "
          f"error vs mpmath ({dps} digits)")
    print(f"{'function':<20}{'implementation':<34}{'ns/point':>10}{'rel. error':>12}")
    for name, ref, (lo, hi), impls in CASES:
        xs = np.concatenate([np.linspace(lo, hi, 1500), rng.uniform(lo, hi, 1500),
                             np.linspace(-1.0, 1.0, 201), [0.5, -0.5, 1e-8, -1e-8]])
        refs = [ref(mpmath.mpf(float(x))) for x in xs]
        bench = rng.uniform(lo, hi, points)
        for label, fn in impls:
            print(f"{name:<20}{label:<34}{median_ns_per_point(fn, bench, repeats):10.1f}"
                  f"{worst_relative_error(fn, refs, xs):12.1e}")
            name = ""


def mp_hermite_reference(x0):
    """Nodes and normalised weights of the G-point rule, refined in mpmath from ``x0``."""
    G = len(x0)

    def he(x):  # (He_G(x), He_(G-1)(x)) by the three-term recurrence
        p0, p1 = mpmath.mpf(1), x
        for k in range(1, G):
            p0, p1 = p1, x * p1 - k * p0
        return p1, p0

    xs, ws = [], []
    fact = mpmath.factorial(G - 1)
    for v in x0:
        x = mpmath.mpf(float(v))
        for _ in range(6):
            pg, pg1 = he(x)
            x -= pg / (G * pg1)  # He_G' = G He_(G-1)
        _, pg1 = he(x)
        xs.append(x)
        ws.append(fact / (G * pg1 ** 2))
    return xs, ws


def hermite_rules(dps, sizes=(8, 20, 64, 100, 150, 151, 200, 400)):
    mpmath.mp.dps = dps
    print()
    print("Gauss-Hermite rules (probabilists', weights sum to 1) vs mpmath-refined nodes and weights")
    print(f"{'G':>5}  {'implementation':<26}{'ms':>9}{'node err':>10}{'weight abs':>11}"
          f"{'weight rel':>11}{'E cos':>9}{'E exp(2e)':>10}")
    exact = math.exp(-0.5)
    for G in sizes:
        xr, wr = mp_hermite_reference(scipy_hermite_rule(G)[0])
        for label, rule in (("legacy numpy", legacy_hermite_rule), ("scipy roots_hermitenorm", scipy_hermite_rule),
                            ("package now", gauss_hermite._rule.__wrapped__)):
            t0 = time.perf_counter()
            for _ in range(3):
                x, w = rule(G)
            ms = (time.perf_counter() - t0) / 3 * 1e3
            if not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))):
                print(f"{G:>5}  {label:<26}{ms:9.2f}{'NaN':>10}{'NaN':>11}{'NaN':>11}{'NaN':>9}{'NaN':>10}")
                continue
            node_err = max(float(abs(mpmath.mpf(float(a)) - b)) for a, b in zip(x, xr))
            w_abs = max(float(abs(mpmath.mpf(float(a)) - b)) for a, b in zip(w, wr))
            w_rel = max(float(abs((mpmath.mpf(float(a)) - b) / b)) for a, b in zip(w, wr) if b > 1e-300)
            cos_err = abs(float(w @ np.cos(x)) - exact)
            exp_err = abs(float(w @ np.exp(2.0 * x)) / math.exp(2.0) - 1.0)
            print(f"{G:>5}  {label:<26}{ms:9.2f}{node_err:10.1e}{w_abs:11.1e}{w_rel:11.1e}{cos_err:9.1e}"
                  f"{exp_err:10.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dps", type=int, default=30)
    args = ap.parse_args()
    special_functions(args.points, args.repeats, args.dps)
    hermite_rules(args.dps)


if __name__ == "__main__":
    main()
