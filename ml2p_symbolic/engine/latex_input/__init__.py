r"""Reading researchers' LaTeX and Markdown derivations: the grammar, the directives, the reader.

The entry point is :func:`read_document`, which returns a :class:`Document` whose
:class:`Step` records (one per relation link of every display) carry SymPy expressions built
with the document's declarations. :func:`parse_formula` parses one formula. Everything the
reader does not understand is refused with :class:`~ml2p_symbolic.errors.LatexInputError`
(``FILE:LINE:COL: error: MESSAGE``). The notation and the directives are documented in
``docs/format.md``.
"""

from .declarations import Declarations
from .directives import DIRECTIVES
from .nodes import Diff, EvalAt, Expect, StandardNormal
from .reader import DOCUMENT_SUFFIXES, Display, Document, Step, read_document
from .formula import parse_formula

__all__ = ["read_document", "parse_formula", "Document", "Display", "Step", "Declarations",
           "DIRECTIVES", "DOCUMENT_SUFFIXES", "Expect", "EvalAt", "Diff", "StandardNormal"]
