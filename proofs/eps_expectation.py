"""The expectation over the VAE noise eps ~ N(0, I) at the true parameters: eq. (6), (7) and the global-minimum argument.

Run ``python proofs/eps_expectation.py [--json] [--traits K]``: checks the claims of the seed's part
:mod:`ml2p_symbolic.derivations.seed.noise` and prints their verdicts with every line of
evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import sys

from ml2p_symbolic.derivations.seed import noise, run_part

#: the part of the seed this script checks
PART = noise


def main(argv=None):
    return run_part(PART, argv)


if __name__ == "__main__":
    sys.exit(main())
