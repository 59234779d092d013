"""The expectation over the VAE noise eps ~ N(0, I) at the true parameters: eq. (6), (7) and the global-minimum argument.

Run ``python proofs/eps_expectation.py [--json]``: prints the verdicts of claims
eq6, eq7.a, eq7.b, eq7.theta, claim.global-min
with their evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import sys

from ml2p_symbolic.cli import run_proof

IDS = ['eq6', 'eq7.a', 'eq7.b', 'eq7.theta', 'claim.global-min']


def main(argv=None):
    return run_proof(IDS, argv)


if __name__ == "__main__":
    sys.exit(main())
