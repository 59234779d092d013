"""Time per inequality step: the corpus of ``tests/inequalities`` decided step by step.

Usage: ``python benchmarks/bench_inequalities.py [--budget SECONDS]``. Each step of every
document is decided by the document checker (:func:`ml2p_symbolic.engine.document.steps.check_relation`,
in this process, one after the other, no cache); prints the wall time, the verdict and how it
was reached, then the median and the share of the true steps (``expected.json``) verified and
the number of false steps verified. Target (issue 17): median < 2 s, 0 false verified,
>= 80 % of the true steps verified.
"""

import argparse
import json
import pathlib
import statistics
import time

from ml2p_symbolic.engine.document.steps import check_relation
from ml2p_symbolic.engine.latex_input.reader import read_document

CORPUS = pathlib.Path(__file__).parent.parent / "tests" / "inequalities"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0, help="soft budget per step in seconds (default 60)")
    args = parser.parse_args()
    expected = {k: v for k, v in json.loads((CORPUS / "expected.json").read_text()).items() if not k.startswith("_")}
    times, true_total, true_verified, false_verified = [], 0, 0, []
    print(f"{'step':<34} {'wall':>7}  verdict: method")
    for name, truths in expected.items():
        doc = read_document(CORPUS / name)
        for step in doc.steps:
            if step.kind != "relation":
                continue
            t0 = time.perf_counter()
            v = check_relation(step.lhs, step.rhs, step.relation, doc.declarations, budget=args.budget)
            wall = time.perf_counter() - t0
            times.append(wall)
            truth = truths.get(step.id)
            true_total += truth == "true"
            true_verified += truth == "true" and v.verdict == "verified"
            if truth == "false" and v.verdict == "verified":
                false_verified.append(f"{name}:{step.id}")
            print(f"{name[:-4] + ':' + step.id:<34} {wall:>6.2f}s  {v.verdict}: {v.method[:90]}")
    print(f"\n{len(times)} steps; median {statistics.median(times):.2f} s, max {max(times):.2f} s, "
          f"total {sum(times):.1f} s")
    print(f"true steps verified: {true_verified}/{true_total} ({100 * true_verified / true_total:.0f} %); "
          f"false steps verified: {len(false_verified)} {false_verified or ''}")


if __name__ == "__main__":
    main()
