"""The model and the reconstruction gradient: eq. (1)-(5).

Run ``python proofs/reconstruction_gradient.py [--json] [--traits K]``: checks the claims of the seed's part
:mod:`ml2p_symbolic.derivations.seed.reconstruction` and prints their verdicts with every line of
evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import sys

from ml2p_symbolic.derivations.seed import reconstruction, run_part

#: the part of the seed this script checks
PART = reconstruction


def main(argv=None):
    return run_part(PART, argv)


if __name__ == "__main__":
    sys.exit(main())
