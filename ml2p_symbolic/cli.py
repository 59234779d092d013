"""The ``ml2p-proof`` command line: argument parsing and printing only.

Every decision lives in the library; each subcommand has an ``_add_<name>`` function that
declares its arguments and a ``_run_<name>`` function that calls the library and prints.
Exit status: 0 success (for ``check``: every checked claim verified), 1 a claim not
verified, 2 a usage error (bad arguments, unknown ids, unreadable or malformed files).
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import ML2PError

__all__ = ["main"]


class _UsageError(Exception):
    """Raised by a subcommand for a problem with its arguments (exit status 2)."""


# --------------------------------------------------------------------------- check / list
def _add_check(sub):
    p = sub.add_parser(
        "check",
        help="check the seed's claims and print their verdicts",
        description="Check every step of the seed proof (or only the given ids) and print a "
        "table: id, statement, verdict, method, condition or counterexample. Exit status 0 "
        "when every checked claim is verified, 1 when any is not, 2 on a usage error.",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="claim ids to check (default: all; see 'list')")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")


def _run_check(args):
    from .checker import check
    from .report import report_exit_status, report_table, report_to_dict

    progress = None if (args.quiet or args.json) else _progress_line
    report = check(args.ids or None, progress=progress)
    if progress:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report_to_dict(report), indent=2))
    else:
        print(report_table(report))
    return report_exit_status(report)


def _progress_line(i, total, claim_id):
    print(f"\r[{i}/{total}] checking {claim_id:<20}", end="", file=sys.stderr, flush=True)


def _add_list(sub):
    sub.add_parser("list", help="list the claim ids of the seed", description="List the claim ids, in the seed's order, with a short statement.")


def _run_list(args):
    from .seed import CLAIMS

    width = max(len(c.id) for c in CLAIMS)
    for c in CLAIMS:
        print(f"{c.id:<{width}}  {c.title}")
    return 0


# --------------------------------------------------------------------------- entry point
_SUBCOMMANDS = ["check", "list"]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="ml2p-proof",
        description="Machine-check the ML2P-VAE seed proof: verdicts, LaTeX, numeric checks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        globals()[f"_add_{name}"](sub)
    return parser


def main(argv=None):
    """Run the CLI; returns the exit status (also used by ``python -m ml2p_symbolic``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return globals()[f"_run_{args.command.replace('-', '_')}"](args)
    except (ML2PError, _UsageError) as exc:
        print(f"ml2p-proof {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ml2p-proof {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
