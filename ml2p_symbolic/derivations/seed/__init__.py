r"""The seed: the draft proof that the true ML2P parameters are a minimum of the VAE loss.

:data:`SEED` is the derivation: the statements (:mod:`.statements`, transcribed as written)
and the checks attached to them by id, one module per part of the seed:

=====================  ==========================================================
:mod:`.reconstruction` eq. (1)-(5): the model, the loss, the reconstruction gradient
:mod:`.noise`          eq. (6)-(7) and the global-minimum argument: the noise expectation
:mod:`.kl`             eq. (8)-(9): the KL term
:mod:`.questions`      the open questions: uniqueness, the full loss
=====================  ==========================================================

:mod:`.confirm` holds the numeric confirmations' bridge to the float64 evaluator and
:mod:`.document` the model section of the rendered document.

>>> report = SEED.run(["eq4.1"], numeric=False)
>>> report.results[0].verdict.verdict, report.context
('verified', {'K': 2})
"""

from . import kl, noise, questions, reconstruction  # noqa: F401  (they attach the checks)
from .document import front_matter
from .statements import CLAIM_IDS, SEED, by_id, seed_claims

__all__ = ["SEED", "CLAIM_IDS", "seed_claims", "by_id", "front_matter", "check", "check_claim", "run_part"]


def check(ids=None, *, K=2, progress=None, numeric=True):
    """Check the seed's claims and return a :class:`~ml2p_symbolic.engine.records.Report`.

    Parameters
    ==========
    ids : str or iterable of str, optional
        Claim ids (default: all, in the seed's order; see ``ml2p-proof list``). A string is
        one id; duplicates are checked once.
    K : int
        Number of latent traits of the claims checked at a concrete size (``1 <= K <=
        MAX_TRAITS``; default 2): their verdicts' ``sizes`` say ``{"K": [K]}``, and none of them
        is ``verified``. Eq. (1), (2), (4.1), (4.2), (5.a), (5.b) and (8) are stated and proved
        for every number of traits (``sizes == "all"``) whatever ``K``. The report's
        ``context`` records it (rendering uses it).
    progress : callable, optional
        Called as ``progress(i, total, claim_id)`` before each check.
    numeric : bool
        Append the numpy evaluator's confirmation to each verdict's evidence.

    Raises
    ======
    UnknownClaimError
        (a ``ValueError``) for ids the seed does not have; the message lists the valid ids.
    ArgumentError
        (a ``ValueError``) for an empty list of ids or a bad ``K``.
    """
    return SEED.run(ids, progress=progress, numeric=numeric, K=K)


def check_claim(claim_id, *, K=2, numeric=True):
    """The :class:`~ml2p_symbolic.engine.records.Verdict` of one claim (``K`` latent traits)."""
    return SEED.check_claim(claim_id, numeric=numeric, K=K)


def run_part(part, argv=None):
    """Check the claims of one part of the seed (a module such as :mod:`.noise`) and print
    their verdicts with every line of evidence, or ``--json``; ``--traits K`` sets the number
    of traits. Returns the exit status of ``ml2p-proof check`` (0 all verified, 1 not). This is
    the body of each script in ``proofs/``."""
    import argparse
    import json

    from ...engine.report import report_details, report_exit_status, report_to_dict

    parser = argparse.ArgumentParser(description=f"Check the seed's part {part.__name__.rpartition('.')[2]}: "
                                     + ", ".join(SEED.ids_checked_in(part)))
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    parser.add_argument("--traits", type=int, default=2, metavar="K", help="latent traits (default 2)")
    args = parser.parse_args(argv)
    report = SEED.run(SEED.ids_checked_in(part), K=args.traits)
    print(json.dumps(report_to_dict(report), indent=2) if args.json else report_details(report))
    return report_exit_status(report)
