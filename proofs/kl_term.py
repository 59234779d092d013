"""The KL term: its closed form (8), its minimum, and eq. (9).

Run ``python proofs/kl_term.py [--json] [--traits K]``: checks the claims of the seed's part
:mod:`ml2p_symbolic.derivations.seed.kl` and prints their verdicts with every line of
evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import argparse
import json
import sys

from ml2p_symbolic.derivations.seed import SEED, kl
from ml2p_symbolic.engine.report import report_details, report_exit_status, report_to_dict


#: the part of the seed this script checks
PART = kl


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    parser.add_argument("--traits", type=int, default=2, metavar="K", help="latent traits (default 2)")
    args = parser.parse_args(argv)
    report = SEED.run(SEED.ids_checked_in(PART), K=args.traits)
    print(json.dumps(report_to_dict(report), indent=2) if args.json else report_details(report))
    return report_exit_status(report)


if __name__ == "__main__":
    sys.exit(main())
