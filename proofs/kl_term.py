"""The KL term: its closed form (8), its minimum, and eq. (9).

Run ``python proofs/kl_term.py [--json]``: prints the verdicts of claims
eq8, claim.kl-min, eq9
with their evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import sys

from ml2p_symbolic.cli import run_proof

IDS = ['eq8', 'claim.kl-min', 'eq9']


def main(argv=None):
    return run_proof(IDS, argv)


if __name__ == "__main__":
    sys.exit(main())
