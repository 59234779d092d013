"""check_identity's time limit is a hard limit: wall time against the timeout.

Usage: ``python benchmarks/bench_identity.py``. Prints, for a few hard inputs (a 79-term
trigonometric sum that SymPy's simplify grinds on, a nested exponential), the timeout given,
the wall time taken and the verdict. Target (issue 9): the wall time stays within the timeout
plus a fraction of a second, whatever the input.
"""

import time

import sympy as sp

from ml2p_symbolic.engine.identity import check_identity


def cases():
    x, y = sp.symbols("x y", real=True)
    trig = sum(sp.sin(k * x + y) ** 2 * sp.cos((k + 1) * x) for k in range(1, 80))
    yield "79-term trig sum vs its expand_trig", trig, sp.expand_trig(trig) + sp.Rational(1, 10**30)
    power = (x + y + 1) ** 40
    yield "(x + y + 1)^40 vs its expansion", power, sp.expand(power)


def main():
    print(f"{'case':<40} {'timeout':>8} {'wall':>8}  verdict")
    for name, lhs, rhs in cases():
        for timeout in (1, 5):
            t0 = time.perf_counter()
            v = check_identity(lhs, rhs, timeout=timeout)
            print(f"{name:<40} {timeout:>7}s {time.perf_counter() - t0:>7.2f}s  {v.verdict} ({v.method})")


if __name__ == "__main__":
    main()
