"""The expectation over the VAE noise eps ~ N(0, I) at the true parameters: eq. (6), (7) and the global-minimum argument.

Run ``python proofs/eps_expectation.py [--json] [--traits K]``: checks the claims of the seed's part
:mod:`ml2p_symbolic.derivations.seed.noise` and prints their verdicts with every line of
evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import argparse
import json
import sys

from ml2p_symbolic.derivations.seed import SEED, noise
from ml2p_symbolic.engine.report import report_details, report_exit_status, report_to_dict


#: the part of the seed this script checks
PART = noise


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
