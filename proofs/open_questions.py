"""The seed's open questions: uniqueness of the minimiser and the full VAE loss (TODO).

Run ``python proofs/open_questions.py [--json] [--traits K]``: checks the claims of the seed's part
:mod:`ml2p_symbolic.derivations.seed.questions` and prints their verdicts with every line of
evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import sys

from ml2p_symbolic.derivations.seed import questions, run_part

#: the part of the seed this script checks
PART = questions


def main(argv=None):
    return run_part(PART, argv)


if __name__ == "__main__":
    sys.exit(main())
