"""Time and accuracy of the MML estimate (``numeric.fit_mml``) on the recovery study's designs.

Usage (from the repository root)::

    python benchmarks/bench_mml.py                  # Sim-ECPE-like and Sim-6-like, about 3-5 min
    python benchmarks/bench_mml.py --reference      # also Sim-6 with 4 adaptive nodes (+6 min)

One fit at a time, one BLAS thread. Prints, per design and quadrature rule: seconds, EM
iterations, RMSE of a, b and theta against the truth, and the largest difference of a and b
from a reference rule's estimates (Sim-ECPE: the 15^3 tensor rule; Sim-6: 4 adaptive nodes
per trait with ``--reference``). Also the cost refusal of a tensor grid at K = 6.
"""

from __future__ import annotations

import argparse
import os
import sys

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

from ml2p_symbolic.errors import DomainError  # noqa: E402
from ml2p_symbolic.numeric.data import load_or_simulate  # noqa: E402
from ml2p_symbolic.numeric.mml import fit_mml, mml_plan  # noqa: E402
from ml2p_symbolic.numeric.train import recovery  # noqa: E402


def row(name, d, r, ref=None):
    rec = recovery(d, r)
    diff = ("" if ref is None else
            f"{np.abs(r.A_hat - ref.A_hat).max():.4f} / {np.abs(r.b_hat - ref.b_hat).max():.4f}")
    print(f"| {name} | {r.quadrature} | {r.seconds:.1f} | {r.epochs} | {rec['a']['rmse']:.4f} | "
          f"{rec['b']['rmse']:.4f} | {rec['theta']['rmse']:.3f} | {diff} |", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--reference", action="store_true", help="Sim-6 with 4 adaptive nodes as the reference")
    args = p.parse_args(argv)
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    print("| design | rule | seconds | iterations | a RMSE | b RMSE | theta RMSE | max diff a / b from reference |")
    print("|---|---|---|---|---|---|---|---|")
    U, Q, d = load_or_simulate(students=10_000, items=28, traits=3, seed=args.seed)
    ref = fit_mml(U, Q)
    row("Sim-ECPE-like", d, ref)
    for nodes in (3, 4):
        row("Sim-ECPE-like", d, fit_mml(U, Q, rule="adaptive", nodes=nodes), ref)
    U, Q, d = load_or_simulate(students=20_000, items=50, traits=6, seed=args.seed, q_design=0.2, correlated=True)
    ref = fit_mml(U, Q, Sigma=d.Sigma, nodes=4, max_work=1e12) if args.reference else None
    if ref is not None:
        row("Sim-6-like", d, ref)
    row("Sim-6-like", d, fit_mml(U, Q, Sigma=d.Sigma), ref)
    try:
        mml_plan(20_000, Q, rule="tensor", Sigma=d.Sigma)
    except DomainError as exc:
        print(f"\nSim-6-like, tensor rule: refused: {exc}")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
