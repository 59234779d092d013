"""The KL term: its closed form (8), its minimum, and eq. (9).

Run ``python proofs/kl_term.py [--json]``: prints the verdicts of claims
eq8, claim.kl-min, eq9
with their evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import json
import sys

from ml2p_symbolic import check
from ml2p_symbolic.report import report_exit_status, report_table, report_to_dict

IDS = ['eq8', 'claim.kl-min', 'eq9']


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
