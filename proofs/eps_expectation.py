"""The expectation over the VAE noise eps ~ N(0, I) at the true parameters: eq. (6), (7) and the global-minimum argument.

Run ``python proofs/eps_expectation.py [--json]``: prints the verdicts of claims
eq6, eq7.a, eq7.b, eq7.theta, claim.global-min
with their evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import json
import sys

from ml2p_symbolic import check
from ml2p_symbolic.report import report_exit_status, report_table, report_to_dict

IDS = ['eq6', 'eq7.a', 'eq7.b', 'eq7.theta', 'claim.global-min']


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    report = check(IDS)
    if "--json" in argv:
        print(json.dumps(report_to_dict(report), indent=2))
    else:
        print(report_table(report))
        for result in report.results:
            print(f"\n{result.claim.id}: {result.verdict.verdict}\n  {result.verdict.detail}")
            for line in result.verdict.evidence:
                print(f"  - {line}")
    return report_exit_status(report)


if __name__ == "__main__":
    sys.exit(main())
