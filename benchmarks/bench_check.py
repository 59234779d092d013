"""Time the whole ``ml2p-proof check`` (target: under 20 s on a 2-core machine).

Runs the command as a user would (a fresh process, imports included) ``--repeat`` times and
prints each wall time, the median, and the time of each claim measured in-process.

    python benchmarks/bench_check.py [--repeat 3] [--traits 1,3,4,6,8]
"""

import argparse
import statistics
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--traits", default="", metavar="K[,K...]",
                        help="also time the whole check for these numbers of traits (e.g. 1,3,4,6,8); "
                        "the figures behind the seed's MAX_TRAITS")
    args = parser.parse_args()

    walls = []
    for r in range(args.repeat):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "ml2p_symbolic", "check", "--quiet"],
                              capture_output=True, text=True)
        walls.append(time.perf_counter() - t)
        print(f"run {r + 1}: {walls[-1]:.2f} s (exit {proc.returncode})", flush=True)
    print(f"ml2p-proof check, whole command: median {statistics.median(walls):.2f} s over {len(walls)} runs "
          f"(target < 20 s)")

    from ml2p_symbolic.derivations.seed import check_claim
    from ml2p_symbolic.derivations.seed.statements import CLAIM_IDS

    print("\nper claim (in-process, after imports):")
    total = 0.0
    for cid in CLAIM_IDS:
        t = time.perf_counter()
        v = check_claim(cid)
        dt = time.perf_counter() - t
        total += dt
        print(f"  {cid:<18} {dt:6.2f} s  {v.verdict}")
    print(f"  {'total':<18} {total:6.2f} s")

    from ml2p_symbolic.derivations.seed import check

    for K in [int(k) for k in args.traits.split(",") if k.strip()]:
        t = time.perf_counter()
        report = check(K=K, numeric=False)
        counts = {}
        for r in report.results:
            counts[r.verdict.verdict] = counts.get(r.verdict.verdict, 0) + 1
        print(f"K = {K}: whole check (in-process, no numeric confirmation) {time.perf_counter() - t:7.1f} s; {counts}",
              flush=True)


if __name__ == "__main__":
    main()
