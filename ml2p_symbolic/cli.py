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
import time

from .errors import ML2PError

__all__ = ["main", "run_proof"]


class _UsageError(Exception):
    """Raised by a subcommand for a problem with its arguments (exit status 2)."""


# --------------------------------------------------------------------------- check / list
def _add_check(sub):
    p = sub.add_parser(
        "check",
        help="check the seed's claims, or every step of a LaTeX/Markdown document",
        description="Check every step of the seed proof (or only the given ids) and print a "
        "table: id, statement, verdict, method, condition or counterexample. An argument that "
        "names an existing .tex, .md or .txt file is a document instead: every relation of every "
        "display is checked and printed as FILE:LINE: id: VERDICT (docs/format.md describes the "
        "notation and the %! directives). Exit status 0 when every checked claim is verified, 1 "
        "when any is not, 2 on a usage error or a formula the reader does not understand "
        "(reported as FILE:LINE:COL: error: ...).",
    )
    p.add_argument("ids", nargs="*", metavar="ID|FILE",
                   help="claim ids to check (default: all; see 'list'), or documents (.tex, .md, .txt)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    _add_traits_option(p)
    g = p.add_argument_group("documents")
    g.add_argument("--preamble", metavar="FILE", help="a file of %%! directives applied before the document's own")
    g.add_argument("--timeout", type=float, default=60.0, metavar="S",
                   help="seconds allowed for each step (default 60); past it the step is 'open (timed out)'")
    g.add_argument("--watch", action="store_true", help="re-check whenever the document or the preamble is saved")
    g.add_argument("--jobs", type=int, default=None, metavar="N", help="steps checked at once (default 2)")
    g.add_argument("--cache-dir", metavar="DIR", help="where verdicts are cached (default: the user cache directory)")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write cached verdicts")


def _document_args(args):
    """The documents among ``args.ids`` (all or none of them must be documents)."""
    import os

    from .engine.latex_input import DOCUMENT_SUFFIXES

    docs = [a for a in args.ids if os.path.splitext(a)[1].lower() in DOCUMENT_SUFFIXES and os.path.isfile(a)]
    if docs and len(docs) != len(args.ids):
        others = [a for a in args.ids if a not in docs]
        raise _UsageError(f"cannot mix documents and claim ids (or missing files): {', '.join(others)}")
    if not docs:
        looks = [a for a in args.ids if os.path.splitext(a)[1].lower() in DOCUMENT_SUFFIXES]
        if looks:
            raise _UsageError(f"no such document: {', '.join(looks)}")
        used = [o for o, v in (("--preamble", args.preamble), ("--watch", args.watch)) if v]
        if used:
            raise _UsageError(f"{', '.join(used)} only apply to a document (FILE.tex, .md or .txt)")
    if args.timeout is not None and not args.timeout > 0:
        raise _UsageError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    if args.preamble is not None and not os.path.isfile(args.preamble):
        raise _UsageError(f"no such preamble file: {args.preamble}")
    return docs


def _check_documents(docs, args):
    """Read and check each document; print linter lines or JSON; return the exit status."""
    from .engine.document_check import check_document
    from .engine.document_report import document_exit_status, document_lines, document_to_dict
    from .engine.latex_input import read_document
    from .errors import LatexInputError

    status = 0
    outputs = []
    for path in docs:
        try:
            doc = read_document(path, preamble=args.preamble)
        except LatexInputError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        progress = None if (args.quiet or args.json) else _document_progress
        report = check_document(path, timeout=args.timeout, cache_dir=args.cache_dir, use_cache=not args.no_cache,
                                jobs=args.jobs, progress=progress, document=doc)
        if progress:
            print(file=sys.stderr)
        if args.json:
            outputs.append(document_to_dict(report, document=path, preamble=args.preamble,
                                            definitions=doc.definitions()))
        else:
            print("\n".join(document_lines(report)))
        status = max(status, document_exit_status(report))
    if args.json:
        print(json.dumps(outputs[0] if len(outputs) == 1 else {"documents": outputs}, indent=2))
    return status


def _document_progress(done, total, step_id, verdict):
    print(f"\r[{done}/{total}] {step_id:<24} {verdict.verdict:<12}", end="", file=sys.stderr, flush=True)


def _watch_documents(docs, args):
    """Check, then re-check after every save of a document or the preamble (Ctrl-C stops)."""
    from .engine.document_check import wait_for_change

    paths = list(docs) + ([args.preamble] if args.preamble else [])
    status = _check_documents(docs, args)
    try:
        for _ in wait_for_change(paths):
            print(f"--- {time.strftime('%H:%M:%S')}: changed, re-checking", file=sys.stderr)
            status = _check_documents(docs, args)
    except KeyboardInterrupt:
        pass
    return status


def _add_traits_option(p):
    """``--traits K`` of ``check`` and ``render``: the symbolic model's number of traits."""
    p.add_argument("--traits", "-K", type=int, default=2, metavar="K",
                   help="latent traits of the symbolic model (default 2; any K >= 1)")


def _run_check(args):
    from .checker import check
    from .report import report_exit_status, report_table, report_to_dict

    docs = _document_args(args)
    if docs:
        return _watch_documents(docs, args) if args.watch else _check_documents(docs, args)
    progress = None if (args.quiet or args.json) else _progress_line
    report = check(args.ids or None, K=args.traits, progress=progress)
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


# --------------------------------------------------------------------------- render
def _add_render(sub):
    p = sub.add_parser(
        "render",
        help="write the checked derivation as a LaTeX document (optionally a PDF)",
        description="Check the seed's claims (or only the given ids) and write a complete LaTeX "
        "article: the model (eq. 1-3), a summary table of verdicts, then each claim with its "
        "statement as transcribed, verdict, method, counterexample or proven condition and "
        "evidence. Writes to stdout unless --out is given. With --pdf, compiles it with pdflatex "
        "(PDF beside --out, or derivation.pdf in the current directory). Given a FILE.tex "
        "instead, checks that document and writes the author's own document with a verdict mark "
        "on every checked relation sign, a margin note per display and an appendix of "
        "counterexamples and conditions (PDF: FILE-checked.pdf in the current directory, or "
        "beside --out). Exit status 0 on success, 2 on a usage error, unknown ids, a formula "
        "the reader does not understand, or a missing or failing pdflatex.",
    )
    p.add_argument("ids", nargs="*", metavar="ID|FILE.tex",
                   help="claim ids to render (default: all; see 'list'), or one LaTeX document")
    p.add_argument("--out", metavar="FILE.tex", help="write the LaTeX source to FILE.tex instead of stdout")
    p.add_argument("--pdf", action="store_true", help="also compile the document with pdflatex")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    _add_traits_option(p)
    g = p.add_argument_group("documents")
    g.add_argument("--preamble", metavar="FILE", help="a file of %%! directives applied before the document's own")
    g.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds allowed for each step (default 60)")
    g.add_argument("--cache-dir", metavar="DIR", help="where verdicts are cached (default: the user cache directory)")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write cached verdicts")


def _write_atomically(path, text):
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".render-", suffix=".tex", dir=os.path.dirname(os.path.abspath(path)))
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _render_document(path, args):
    import os

    from .engine.document_check import check_document
    from .engine.document_render import annotate_document, compile_document
    from .engine.latex_input import read_document
    from .errors import LatexInputError
    from .latex import INSTALL_HINT, LatexCompileError, find_pdflatex

    if not path.lower().endswith(".tex"):
        raise _UsageError(f"render needs a LaTeX document (.tex), got {path}")
    if args.pdf and find_pdflatex() is None:
        print(f"ml2p-proof render: error: {INSTALL_HINT}", file=sys.stderr)
        return 2
    if not args.timeout > 0:
        raise _UsageError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    try:
        doc = read_document(path, preamble=args.preamble)
    except LatexInputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    progress = None if args.quiet else _document_progress
    report = check_document(path, timeout=args.timeout, cache_dir=args.cache_dir, use_cache=not args.no_cache,
                            progress=progress, document=doc)
    if progress:
        print(file=sys.stderr)
    tex = annotate_document(doc, report)
    if args.out:
        _write_atomically(args.out, tex)
        print(f"wrote {args.out}", file=sys.stderr)
    elif not args.pdf:
        sys.stdout.write(tex)
    if args.pdf:
        stem = os.path.splitext(os.path.basename(path))[0] + "-checked.pdf"
        pdf = os.path.splitext(args.out)[0] + ".pdf" if args.out else stem
        try:
            compile_document(tex, pdf, source_dir=os.path.dirname(os.path.abspath(path)))
        except LatexCompileError as exc:
            print(f"ml2p-proof render: error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {pdf}", file=sys.stderr)
    return 0


def _run_render(args):
    import os

    from .checker import check
    from .latex import INSTALL_HINT, LatexCompileError, compile_pdf, find_pdflatex, render_document

    if args.ids and args.ids[0].lower().endswith((".tex", ".md", ".txt")):
        if len(args.ids) != 1:
            raise _UsageError("render takes one document")
        if not os.path.isfile(args.ids[0]):
            raise _UsageError(f"no such document: {args.ids[0]}")
        return _render_document(args.ids[0], args)
    if args.preamble:
        raise _UsageError("--preamble only applies to a document (FILE.tex)")
    if args.pdf and find_pdflatex() is None:
        print(f"ml2p-proof render: error: {INSTALL_HINT}", file=sys.stderr)
        return 2
    progress = None if args.quiet else _progress_line
    report = check(args.ids or None, K=args.traits, progress=progress)
    if progress:
        print(file=sys.stderr)
    tex = render_document(report)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(tex)
        print(f"wrote {args.out}", file=sys.stderr)
    elif not args.pdf:
        sys.stdout.write(tex)
    if args.pdf:
        pdf = os.path.splitext(args.out)[0] + ".pdf" if args.out else "derivation.pdf"
        try:
            compile_pdf(tex, pdf)
        except LatexCompileError as exc:
            print(f"ml2p-proof render: error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {pdf}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- identify
def _add_identify(sub):
    p = sub.add_parser(
        "identify",
        help="decide whether the ML2P parameters of a Q-matrix are identified",
        description="Read a Q-matrix (CSV: one row of 0/1 per item, one column per trait; an "
        "optional header row and '#' comments) and decide whether the free slopes and the "
        "intercepts are identified from the response distribution with theta ~ N(0, I): the "
        "dimension of the set of equivalent parameters (Jacobian rank, checked against the "
        "SymPy count of pattern-preserving rotations) and the symmetries. Exit status 0, or 2 "
        "for an unreadable or malformed file.",
    )
    p.add_argument("q_file", metavar="Q.csv", help="the Q-matrix file")
    p.add_argument("--no-positive", action="store_true",
                   help="do not constrain the slopes to be non-negative (sign flips become symmetries)")
    p.add_argument("--json", action="store_true",
                   help="print free_dimensions, identified and symmetries as JSON")


def _run_identify(args):
    from .identifiability import analyze, read_q_matrix

    result = analyze(read_q_matrix(args.q_file), positive=not args.no_positive)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(f"identified:       {'yes' if result.identified else 'no'}")
    print(f"free dimensions:  {result.free_dimensions} (Jacobian nullity at "
          f"{len(result.numeric_free_dimensions)} random points: "
          f"{', '.join(map(str, result.numeric_free_dimensions))}; rotations (SymPy): "
          f"{result.symbolic_free_dimensions}; {'agree' if result.agree else 'DISAGREE'})")
    print(f"parameters:       {result.n_parameters}; items per trait: "
          f"{', '.join(map(str, result.items_per_trait))}")
    print(f"criterion:        {result.criterion} (singular-value gap {result.singular_gap:.3g})")
    print("symmetries:" + ("" if result.symmetries else "       none"))
    for s in result.symmetries:
        print(f"  - {s}")
    return 0


# --------------------------------------------------------------------------- fit
def _add_fit(sub):
    p = sub.add_parser(
        "fit",
        help="fit an ML2P-VAE (numpy) to simulated or given data and report parameter recovery",
        description="Simulate a Sim-ECPE-like data set (each item loads on one or two traits, "
        "every trait measured by at least three items, a ~ U(0.25, 1.75) where Q is 1, "
        "b ~ U(-3, 3), theta ~ N(0, I)) or read --responses and --q CSV files; train the "
        "ML2P-VAE (MLP encoder, Q-masked non-negative decoder) with minibatch Adam and early "
        "stopping; print recovery (RMSE, bias, correlation of a, b, theta) when the truth is "
        "known. --q-prob and --correlated give the Sim-6 design instead (Q_ik ~ Bernoulli(p), "
        "theta ~ N(0, Sigma) with Sigma given to the fit). Exit status 0 on success, 2 on a usage error or a malformed file.",
    )
    g = p.add_argument_group("data (simulated unless --responses and --q are given)")
    g.add_argument("--students", type=int, default=10_000, metavar="N", help="students to simulate (default 10000)")
    g.add_argument("--items", type=int, default=28, metavar="n", help="items to simulate (default 28)")
    g.add_argument("--traits", type=int, default=3, metavar="K", help="latent traits to simulate (default 3)")
    g.add_argument("--seed", type=int, default=0, metavar="S", help="seed for simulation and training (default 0)")
    g.add_argument("--q-prob", type=float, metavar="p",
                   help="simulate Q_ik ~ Bernoulli(p), p in (0, 1], as in Sim-6 (default: the Sim-ECPE-like Q)")
    g.add_argument("--correlated", action="store_true",
                   help="simulate theta ~ N(0, Sigma), Sigma a random correlation matrix (off-diagonal "
                   "~ U(0, 0.5)), and give Sigma to the fit as the latent prior")
    g.add_argument("--responses", metavar="FILE", help="CSV of 0/1 responses (empty = missing), one row per student")
    g.add_argument("--q", metavar="FILE", help="Q-matrix CSV, one row per item, one 0/1 column per trait")
    t = p.add_argument_group("training")
    t.add_argument("--iw-samples", type=int, default=1, metavar="k",
                   help="importance samples: 1 = the seed's one-sample ELBO (default), k > 1 = IWAE bound")
    t.add_argument("--epochs", type=int, default=200, help="at most this many epochs (default 200)")
    t.add_argument("--batch-size", type=int, default=128, help="students per Adam step (default 128)")
    t.add_argument("--lr", type=float, default=0.01, help="initial Adam learning rate (default 0.01)")
    t.add_argument("--hidden", default="64", metavar="W[,W...]", help="encoder hidden-layer widths (default 64)")
    t.add_argument("--holdout", type=float, default=0.1, help="fraction held out for early stopping (default 0.1)")
    t.add_argument("--no-refit", dest="refit", action="store_false",
                   help="return the early-stopped model instead of refitting on all students")
    p.add_argument("--out", metavar="DIR", help="write a_hat.csv, b_hat.csv, theta_hat.csv, curve.csv to DIR")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def _run_fit(args):
    from .numeric.data import load_or_simulate, write_estimates
    from .numeric.train import fit, fit_summary

    try:
        hidden = tuple(int(w) for w in args.hidden.split(",") if w.strip())
    except ValueError:
        raise _UsageError(f"--hidden must be comma-separated integers; got {args.hidden!r}") from None
    if args.q_prob is not None and not 0.0 < args.q_prob <= 1.0:
        raise _UsageError(f"--q-prob must be a probability in (0, 1]; got {args.q_prob}")
    if (args.responses is not None or args.q is not None) and (args.q_prob is not None or args.correlated):
        raise _UsageError("--q-prob and --correlated describe simulated data; "
                          "they cannot be used with --responses and --q")
    q_design = "ecpe" if args.q_prob is None else args.q_prob
    U, Q, truth = load_or_simulate(responses=args.responses, q=args.q, students=args.students,
                                   items=args.items, traits=args.traits, seed=args.seed,
                                   q_design=q_design, correlated=args.correlated)
    Sigma = truth.Sigma if args.correlated else None
    result = fit(U, Q, iw_samples=args.iw_samples, epochs=args.epochs, batch_size=args.batch_size,
                 lr=args.lr, hidden=hidden, holdout=args.holdout, Sigma=Sigma, refit=args.refit,
                 seed=args.seed, quiet=args.quiet or args.json)
    summary = fit_summary(result, truth)
    if Sigma is not None:
        summary["Sigma"] = Sigma.tolist()
    if args.out:
        summary["out"] = write_estimates(args.out, result)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"ML2P-VAE fit: {summary['students']} students, {summary['items']} items, "
          f"{summary['traits']} traits; iw_samples={summary['iw_samples']}; "
          f"{summary['epochs']} epochs (best {summary['best_epoch']}); {summary['seconds']:.1f} s")
    if args.q_prob is not None or Sigma is not None:
        print("simulated: " + "; ".join(
            ([f"Q_ik ~ Bernoulli({args.q_prob:g})"] if args.q_prob is not None else [])
            + (["theta ~ N(0, Sigma), Sigma given to the fit"] if Sigma is not None else [])))
    if summary["recovery"] is None:
        print("truth unknown (data from files): no recovery figures")
        print(f"{'item':>4}  " + "  ".join(f"{'a' + str(k + 1):>7}" for k in range(Q.shape[1])) + f"  {'b':>7}")
        for i, (a, b) in enumerate(zip(result.A_hat, result.b_hat), start=1):
            print(f"{i:>4}  " + "  ".join(f"{v:7.3f}" for v in a) + f"  {b:7.3f}")
    else:
        print(f"{'':<6}{'rmse':>9}{'bias':>9}{'corr':>9}")
        for name, r in summary["recovery"].items():
            print(f"{name:<6}{r['rmse']:9.4f}{r['bias']:9.4f}{r['corr']:9.4f}")
    if args.out:
        print("wrote " + ", ".join(summary["out"]))
    return 0


def run_proof(ids, argv=None):
    """Entry point of the scripts in ``proofs/``: check ``ids``, print the table and every
    verdict's detail and evidence (or ``--json``), return the exit status of ``check``."""
    from .checker import check
    from .report import report_exit_status, report_table, report_to_dict

    argv = sys.argv[1:] if argv is None else argv
    report = check(ids)
    if "--json" in argv:
        print(json.dumps(report_to_dict(report), indent=2))
    else:
        print(report_table(report))
        for result in report.results:
            print(f"\n{result.claim.id}: {result.verdict.verdict}\n  {result.verdict.detail}")
            for line in result.verdict.evidence:
                print(f"  - {line}")
    return report_exit_status(report)


# --------------------------------------------------------------------------- entry point
_SUBCOMMANDS = ["check", "list", "render", "identify", "fit"]


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
