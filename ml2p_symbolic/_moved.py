"""Old import paths of names that moved when the engine was separated from the content.

Version 0.1 had a flat package (``ml2p_symbolic.checker``, ``.claims``, ``.identity``, ...).
Those names now live in :mod:`ml2p_symbolic.engine` and :mod:`ml2p_symbolic.derivations.seed`;
:func:`install` registers light modules under the old paths that resolve each name from its
new home on first use, so ``from ml2p_symbolic.identity import check_identity`` keeps working.
New code should import from the new homes (``docs/api.md``).
"""

from __future__ import annotations

import importlib
import sys
import types

_PACKAGE = __name__.rpartition(".")[0]

#: old module -> {name: "new.module"} (module paths relative to the package)
MOVED = {
    "checker": {"DPS": "engine.evidence", "check": "derivations.seed", "check_claim": "derivations.seed"},
    "claims": {n: "engine.records" for n in ("VERDICTS", "Claim", "Verdict", "Result", "Report")},
    "confirm": {"numeric_point": "derivations.seed.confirm", "confirm": "_moved"},
    "identity": {"check_identity": "engine.identity", "IDENTITY_METHODS": "engine.identity"},
    "expectation": {n: "engine.expectation" for n in
                    ("gaussian_moment", "Expectation", "gaussian_expectation", "expectation_numeric")},
    "report": {n: "engine.report" for n in
               ("report_to_dict", "report_table", "report_exit_status", "counterexample_to_dict")},
    "seed": {n: "derivations.seed.statements" for n in ("CLAIM_IDS", "CLAIMS", "seed_claims", "by_id", "display")},
    "latex": {
        **{n: "engine.render.latex" for n in ("escape_text", "formula_pieces", "render_formula", "render_claim",
                                              "render_verdict", "render_result", "render_summary_table",
                                              "render_report", "DOCUMENT_TITLE")},
        "render_model": "derivations.seed.document", "render_document": "derivations.seed.document",
        "repr_latex": "engine.render.notebook", "repr_markdown": "engine.render.notebook",
        "find_pdflatex": "engine.render.pdf", "compile_pdf": "engine.render.pdf", "INSTALL_HINT": "engine.render.pdf",
        "LatexCompileError": "errors",
    },
}


def confirm(claim, verdict, m, m2):
    """The seed's numeric confirmation line for ``claim`` (the 0.1 signature)."""
    from .derivations.seed import SEED

    fn = SEED._confirms.get(claim.id)
    return None if fn is None else fn(claim, verdict, types.SimpleNamespace(K=m.K, m=m, m2=m2))


def _module(old, names):
    mod = types.ModuleType(f"{_PACKAGE}.{old}", f"Moved: see {__name__}.")
    mod.__all__ = sorted(names)

    def __getattr__(name):
        if name not in names:
            raise AttributeError(f"module {mod.__name__!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{_PACKAGE}.{names[name]}"), name)

    mod.__getattr__ = __getattr__
    return mod


def install():
    """Register the old module paths in ``sys.modules`` and on the package."""
    package = sys.modules[_PACKAGE]
    for old, names in MOVED.items():
        full = f"{_PACKAGE}.{old}"
        if full not in sys.modules:
            sys.modules[full] = _module(old, names)
            setattr(package, old, sys.modules[full])
