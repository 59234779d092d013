"""The seed's open questions: uniqueness of the minimiser and the full VAE loss (TODO).

Run ``python proofs/open_questions.py [--json]``: prints the verdicts of claims
question.unique, todo.full-loss
with their evidence; exits 0 when all are verified, 1 otherwise (like ``ml2p-proof check``).
"""

import sys

from ml2p_symbolic.cli import run_proof

IDS = ['question.unique', 'todo.full-loss']


def main(argv=None):
    return run_proof(IDS, argv)


if __name__ == "__main__":
    sys.exit(main())
