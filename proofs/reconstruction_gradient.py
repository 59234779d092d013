"""The model and the reconstruction gradient: eq. (1)-(5).

Run ``python proofs/reconstruction_gradient.py [--json]``: prints the verdicts of claims
eq1.P, eq1.Phat, eq2, eq3, eq4.1, eq4.2, eq4.3, eq5.a, eq5.b, eq5.theta
with their evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import sys

from ml2p_symbolic.cli import run_proof

IDS = ['eq1.P', 'eq1.Phat', 'eq2', 'eq3', 'eq4.1', 'eq4.2', 'eq4.3', 'eq5.a', 'eq5.b', 'eq5.theta']


def main(argv=None):
    return run_proof(IDS, argv)


if __name__ == "__main__":
    sys.exit(main())
