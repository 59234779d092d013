"""Sums of squares: clarabel against SCS for the Gram matrix, then exact rounding.

Usage: ``python benchmarks/bench_sos.py``. For polynomials met in derivations (squares of
differences, Cauchy-Schwarz at small n, quartics, strictly positive ones), prints for each solver
the wall time of the conic solve and whether the rounded rational Gram matrix passed the kernel
(:func:`ml2p_symbolic.engine.kernel.accepts`). What decides: an interior-point solution
(clarabel) has tight residuals (about 1e-9) and is near the analytic centre, so rounding to
small denominators plus the exact projection keeps it PSD; a first-order method (SCS) stops
at about 1e-6 to 1e-9 after many iterations, slower on these small dense problems.
"""

import time

import sympy as sp

from ml2p_symbolic.engine import kernel
from ml2p_symbolic.engine.certificates import Goal
from ml2p_symbolic.engine.prove.sos import find_sos, solve_clarabel, solve_scs


def cases():
    x, y, z, w = sp.symbols("x y z w", real=True)
    yield "2(x^2+y^2) - (x+y)^2", 2 * (x ** 2 + y ** 2) - (x + y) ** 2
    yield "3(x^2+y^2+z^2) - (x+y+z)^2", 3 * (x ** 2 + y ** 2 + z ** 2) - (x + y + z) ** 2
    yield "4 sum x^2 - (sum x)^2, n = 4", 4 * (x ** 2 + y ** 2 + z ** 2 + w ** 2) - (x + y + z + w) ** 2
    yield "CS n = 2", (x ** 2 + y ** 2) * (z ** 2 + w ** 2) - (x * z + y * w) ** 2
    yield "x^4 + y^4 - x^3 y - x y^3", x ** 4 + y ** 4 - x ** 3 * y - x * y ** 3
    yield "x^4 - 2x^2 y + y^2 + 1", x ** 4 - 2 * x ** 2 * y + y ** 2 + 1
    yield "x^4 + y^4 - x^2 y^2 - x y + 1", x ** 4 + y ** 4 - x ** 2 * y ** 2 - x * y + 1
    yield "(x^2 + y^2 + 1)^2 - 3 x^2 y^2 (Motzkin-like + 1)", (x ** 2 + y ** 2 + 1) ** 2 - 3 * x ** 2 * y ** 2
    yield "x^6 + y^6 + z^6 - 3 x^2 y^2 z^2 + 1", x ** 6 + y ** 6 + z ** 6 - 3 * x ** 2 * y ** 2 * z ** 2 + 1


def main():
    print(f"{'polynomial':<50} {'clarabel':>18} {'scs':>18}")
    totals = {"clarabel": [0.0, 0], "scs": [0.0, 0]}
    warm = next(iter(cases()))[1]
    find_sos(warm, solver=solve_clarabel), find_sos(warm, solver=solve_scs)  # imports, not timed
    for name, d in cases():
        cells = []
        for label, solver in (("clarabel", solve_clarabel), ("scs", solve_scs)):
            t0 = time.perf_counter()
            cert = find_sos(d, solver=solver)
            wall = time.perf_counter() - t0
            ok = cert is not None and kernel.accepts(Goal(d, 0, ">="), cert)
            totals[label][0] += wall
            totals[label][1] += ok
            cells.append(f"{wall * 1000:>8.1f} ms {'proved' if ok else 'failed':>6}")
        print(f"{name:<50} {cells[0]:>18} {cells[1]:>18}")
    n = len(list(cases()))
    for label, (wall, ok) in totals.items():
        print(f"{label}: {ok}/{n} proved, total {wall * 1000:.0f} ms")


if __name__ == "__main__":
    main()
