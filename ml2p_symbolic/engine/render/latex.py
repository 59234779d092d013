r"""Rendering a report to a LaTeX document, one function per kind of object.

Every displayed formula in the output is ``sympy.latex`` of an object the checker used: a
claim's ``statement``, a verdict's ``condition``, ``corrected`` and ``counterexample``. The
prose fields (titles, the draft's words, method, detail, evidence, and values that are not
numbers) are rich text (:mod:`ml2p_symbolic.engine.richtext`): :func:`rich_text` escapes
their prose and keeps their inline math. Nothing mathematical is typed in here; this module
only adds prose, headings, escaping and layout. What precedes the verdicts (e.g. the seed's
model section) is the derivation's own ``front_matter``, handed in by the caller.

Long formulas are broken where SymPy's own printer puts a top-level operator (a relation,
:math:`\wedge`/:math:`\vee`, or :math:`+`/:math:`-` of a sum): :func:`formula_pieces` splits
the expression, checks that the pieces joined back give exactly ``sympy.latex(expr)``, and
otherwise keeps it whole. Each line is then set in a box that is shrunk to the line width
only when it is still too wide (the ``\fitmath`` macro of the preamble).

Public functions
================
:func:`escape_text`, :func:`rich_text`, :func:`formula_pieces`, :func:`render_formula`, :func:`render_claim`,
:func:`render_verdict`, :func:`render_result`, :func:`render_summary_table`,
:func:`render_report`, :func:`render_document`.

Examples
========

>>> import sympy as sp
>>> x, y = sp.symbols("x y")
>>> formula_pieces(sp.Eq(x, y + 1))
['x', '= y', '+ 1']
>>> escape_text("a_i1 & 50% of {x}")
'a\\_i1 \\& 50\\% of \\{x\\}'
>>> rich_text(r"50% of $\hat z_i$")
'50\\% of $\\hat z_i$'
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.core.sorting import default_sort_key
from sympy.printing.latex import LatexPrinter

from ...errors import RichTextError
from ..evidence import latex_number
from ..richtext import plain, segments

__all__ = [
    "escape_text",
    "rich_text",
    "formula_pieces",
    "render_formula",
    "render_claim",
    "render_verdict",
    "render_result",
    "render_summary_table",
    "render_report",
    "render_document",
    "DOCUMENT_TITLE",
]

DOCUMENT_TITLE = "A derivation, machine-checked"

#: the estimated width (in characters of running math) at which a formula is broken
LINE_WIDTH = 60

_VERDICT_COLOURS = {
    "verified": "ml2pverified",
    "tested": "ml2ptested",
    "refuted": "ml2prefuted",
    "conditional": "ml2pconditional",
    "open": "ml2popen",
}

# --------------------------------------------------------------------------- text
_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "\u201c": "``",
    "\u201d": "''",
    "\u2018": "`",
    "\u2019": "'",
    "\u2013": "--",
    "\u2014": "---",
    "\u2026": r"\ldots{}",
    "\u00a0": " ",  # a plain space: a bare ~ would read as a tie the caller did not ask for
    "\u2212": "-",
}

# a few non-ASCII symbols that prose may contain, as text-mode LaTeX
_UNICODE_MATH = {
    "\u03b1": r"\alpha", "\u03b8": r"\theta", "\u03c3": r"\sigma", "\u03b5": r"\varepsilon",
    "\u03bc": r"\mu", "\u0398": r"\Theta", "\u03a3": r"\Sigma", "\u2264": r"\leq",
    "\u2265": r"\geq", "\u2260": r"\neq", "\u2208": r"\in", "\u221e": r"\infty",
    "\u2192": r"\to", "\u00b7": r"\cdot", "\u00d7": r"\times", "\u2211": r"\sum",
}


def escape_text(text):
    r"""``text`` with LaTeX's special characters escaped, for use in running text.

    Escapes ``\ & % $ # _ { } ~ ^ < > |``, turns typographic quotes and dashes into their
    LaTeX forms, a few Greek letters and relation signs into inline math, and any other
    non-ASCII character into ``?`` (so the document always compiles with pdflatex).

    >>> escape_text("sigmahat_1 - 1/sigmahat_1")
    'sigmahat\\_1 - 1/sigmahat\\_1'
    >>> escape_text("\u201cexpected\u201d ~ N(0, I)")
    "``expected'' \\textasciitilde{} N(0, I)"
    """
    out = []
    for ch in str(text):
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ch in _UNICODE_MATH:
            out.append(f"${_UNICODE_MATH[ch]}$")
        elif ord(ch) > 127:
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)


#: a run of more digits than this inside math may break at the margin, every DIGIT_BREAK digits
DIGIT_RUN = 20
DIGIT_BREAK = 10


def _break_digits(tex, every=DIGIT_BREAK):
    r"""``tex`` with ``\allowbreak{}`` after every ``every`` digits of a run longer than
    :data:`DIGIT_RUN` digits, so a 40-digit value can wrap at the margin (shorter numbers
    stay whole)."""
    return re.sub(r"\d{%d,}" % (DIGIT_RUN + 1),
                  lambda m: r"\allowbreak{}".join(re.findall(r"\d{1,%d}" % every, m.group(0))), tex)


def _math_segment(tex, field):
    """One math segment of rich text for pdflatex: the few Unicode symbols of
    ``_UNICODE_MATH`` as macros, long digit runs breakable; other non-ASCII refused."""
    out = []
    for ch in tex:
        if ch in _UNICODE_MATH:
            out.append(_UNICODE_MATH[ch] + " ")
        elif ord(ch) > 127:
            raise RichTextError(f"{field}: the character {ch!r} (U+{ord(ch):04X}) in the math "
                                f"${tex}$ has no LaTeX form here; write its macro")
        else:
            out.append(ch)
    return _break_digits("".join(out))


def rich_text(text, field="text"):
    r"""Rich ``text`` (prose with inline ``$...$`` math, :mod:`ml2p_symbolic.engine.richtext`)
    as LaTeX for running text: the prose through :func:`escape_text`, each math segment
    verbatim (with a break point every 10 digits of a long number).

    Raises
    ======
    RichTextError
        (a ``ValueError``) naming ``field`` when ``text`` is malformed: an unclosed ``$``,
        empty math, or unbalanced braces in the math.

    >>> rich_text(r"$\mathbb{E}_{\varepsilon}[\sigma(\hat z_i)]$ is 5% off, costs \$2")
    '$\\mathbb{E}_{\\varepsilon}[\\sigma(\\hat z_i)]$ is 5\\% off, costs \\$2'
    >>> rich_text("$0.1234567890123456789012$")
    '$0.1234567890\\allowbreak{}1234567890\\allowbreak{}12$'
    """
    return "".join(escape_text(seg) if kind == "text" else "$" + _math_segment(seg, field) + "$"
                   for kind, seg in segments(text, field))


def _pdf_string(text, field="text"):
    r"""Rich ``text`` for a PDF bookmark (``\texorpdfstring``'s second argument): its
    :func:`~ml2p_symbolic.engine.richtext.plain` form, ASCII specials escaped, Unicode kept
    (hyperref writes Unicode bookmarks)."""
    specials = {"\\": r"\textbackslash{}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}
    return "".join(specials.get(ch, "\\" + ch if ch in "&%$#_{}" else ch) for ch in plain(text, field))


def _value(text, field):
    """One side's value: a decimal string as a math number (breakable), else rich text."""
    try:
        return "$" + _break_digits(latex_number(text)) + "$"
    except ValueError:
        return rich_text(text, field)


def _anchor(claim_id):
    """A label name for a claim id (letters, digits, ``.``, ``-`` are safe in labels)."""
    return "claim:" + re.sub(r"[^A-Za-z0-9.\-]", "-", claim_id)


# --------------------------------------------------------------------------- formulas
def _pieces(expr, printer):
    """Top-level pieces of ``printer._print(expr)``, each with its leading operator."""
    if isinstance(expr, sp.core.relational.Relational) and not isinstance(expr, sp.core.relational.Unequality):
        op = {"==": "=", ">=": r"\geq", "<=": r"\leq", ">": ">", "<": "<"}.get(expr.rel_op)
        if op is None:
            return [printer._print(expr)]
        rhs = _pieces(expr.rhs, printer)
        return _pieces(expr.lhs, printer) + [f"{op} {rhs[0]}"] + rhs[1:]
    if isinstance(expr, (sp.And, sp.Or)):
        char = r"\wedge" if isinstance(expr, sp.And) else r"\vee"
        out = []
        for n, arg in enumerate(sorted(expr.args, key=default_sort_key)):
            if arg.is_Boolean and not arg.is_Not:
                sub = [r"\left(%s\right)" % printer._print(arg)]
            else:
                sub = _pieces(arg, printer)
            out += ([f"{char} {sub[0]}"] + sub[1:]) if n else sub
        return out
    if isinstance(expr, sp.Add):
        out = []
        for n, term in enumerate(printer._as_ordered_terms(expr)):
            sign = ""
            if n and term.could_extract_minus_sign():
                sign, term = "- ", -term
            elif n:
                sign = "+ "
            tex = printer._print(term)
            if printer._needs_add_brackets(term):
                tex = r"\left(%s\right)" % tex
            out.append(sign + tex)
        return out
    return [printer._print(expr)]


def _squash(s):
    return re.sub(r"\s+", "", s)


def formula_pieces(expr):
    r"""``sympy.latex(expr)`` cut at its top-level relations, :math:`\wedge`/:math:`\vee` and
    sum signs; each piece after the first starts with its operator.

    The pieces joined with spaces are exactly ``sympy.latex(expr)`` (up to whitespace); when
    the split cannot reproduce it, the whole string is returned as the only piece.

    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> formula_pieces(sp.And(sp.Eq(a, 0), sp.Eq(b, 1)))
    ['a', '= 0', '\\wedge b', '= 1']
    """
    whole = sp.latex(expr)
    try:
        pieces = _pieces(expr, LatexPrinter())
    except Exception:  # pragma: no cover - a SymPy printer change; keep the formula whole
        return [whole]
    if _squash(" ".join(pieces)) != _squash(whole):
        return [whole]
    return pieces


_RELATIONS = {"=", "<", ">", "geq", "leq", "ge", "le", "neq", "ne", "to", "Rightarrow", "Leftrightarrow",
              "wedge", "vee", "sim", "in", "approx", "mapsto", "implies"}
_BINARY = {"+", "-", "cdot", "times", "pm", "mp"}
_ZERO = {"limits", "nolimits", "displaystyle", "mathrm", "mathcal", "mathbb", "mathbf", "mathit", "hat", "bar",
         "tilde", "operatorname", "text", "boldsymbol"}


def _group(tex, j):
    """(index after the brace group starting at ``j``, its content); ``tex[j]`` is ``{``."""
    depth, k, n = 0, j, len(tex)
    while k < n:
        if tex[k] == "{":
            depth += 1
        elif tex[k] == "}":
            depth -= 1
            if depth == 0:
                return k + 1, tex[j + 1:k]
        elif tex[k] == "\\":
            k += 1
        k += 1
    return n, tex[j + 1:]


def _width(tex, script=False):
    r"""An estimate of the printed width of ``tex`` in units of one math character of display
    size: letters and digits 1, relations and binary operators with their spacing (none inside
    scripts), fractions their wider part, stacked limits and ``\substack`` rows the widest,
    scripts at 0.7."""
    total, i, n = 0.0, 0, len(tex)
    last_script = None  # (kind, width) of a script just added, to stack _x^y
    rel, binop = (1.0, 1.0) if script else (2.0, 1.8)
    while i < n:
        c = tex[i]
        was_script, last_script = last_script, None
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            name = m.group(1)
            i += len(m.group(0))
            if name in ("frac", "dfrac", "tfrac") and i < n and tex[i] == "{":
                i, num = _group(tex, i)
                i, den = _group(tex, i) if i < n and tex[i] == "{" else (i, "")
                total += max(_width(num, script), _width(den, script)) * (0.8 if script else 1.0) + 0.3
            elif name == "substack" and i < n and tex[i] == "{":
                i, rows = _group(tex, i)
                total += max(_width(r, script) for r in rows.split("\\\\"))
            elif name in ("left", "right"):
                m2 = re.match(r"\\[A-Za-z]+|\\.|.", tex[i:]) if i < n else None
                if m2:
                    i += len(m2.group(0))
                    total += 0.0 if m2.group(0) == "." else 0.8
            elif name == "sqrt" and i < n and tex[i] == "{":
                i, inner = _group(tex, i)
                total += 1.0 + _width(inner, script)
            elif name in _ZERO:
                pass
            elif name in _RELATIONS:
                total += rel
            elif name in _BINARY:
                total += binop
            elif name in (",", ";", ":"):
                total += 0.3
            elif name in ("quad", "qquad"):
                total += 2.0 if name == "quad" else 4.0
            elif name == "int":
                total += 1.2
            elif name in ("log", "exp", "sin", "cos", "max", "min", "det", "ln"):
                total += 0.8 * len(name) + 0.3
            else:
                total += 1.0
        elif c in "^_":
            i += 1
            if i < n and tex[i] == "{":
                i, sub = _group(tex, i)
                w = 0.7 * _width(sub, True)
            else:
                w = 0.7
                i += 1
            if was_script is not None and was_script[0] != c:
                total += max(0.0, w - was_script[1])  # _x^y stack: the wider one
                last_script = None
            else:
                total += w
                last_script = (c, w)
        elif c in "{} ":
            last_script = was_script if c == " " else None
            i += 1
        elif c in "=<>":
            total += rel
            i += 1
        elif c in "+-":
            total += binop
            i += 1
        elif c in "()[]|":
            total += 0.8
            i += 1
        elif c == ",":
            total += 1.2
            i += 1
        else:
            total += 1.0
            i += 1
    return total


def _lines(pieces, width=LINE_WIDTH):
    """Greedy packing of pieces into lines of estimated width at most ``width``."""
    lines, current = [], []
    for piece in pieces:
        if current and _width(" ".join(current + [piece])) > width:
            lines.append(" ".join(current))
            current = []
        current.append(piece)
    if current:
        lines.append(" ".join(current))
    return lines


def render_formula(expr, *, width=LINE_WIDTH):
    r"""A displayed formula for ``expr``: ``\[ ... \]`` when it fits one line, otherwise a
    ``multline*`` broken at the pieces of :func:`formula_pieces`. Each line is wrapped in
    ``\fitmath`` (defined by :func:`render_document`'s preamble), which shrinks it only when
    it is still wider than the text.

    >>> import sympy as sp
    >>> print(render_formula(sp.Symbol("x") + 1))
    \[ \fitmath{x + 1} \]
    """
    lines = _lines(formula_pieces(expr), width)
    if len(lines) == 1:
        return r"\[ \fitmath{%s} \]" % lines[0]
    body = " \\\\\n  ".join(r"\fitmath{%s%s}" % ("{} " if n else "", line) for n, line in enumerate(lines))
    return "\\begin{multline*}\n  " + body + "\n\\end{multline*}"


def _inline(expr):
    return "$" + sp.latex(expr) + "$"


# --------------------------------------------------------------------------- claims and verdicts
def _verdict_badge(verdict):
    colour = _VERDICT_COLOURS.get(verdict, "ml2popen")
    return r"\verdictbox{%s}{%s}" % (colour, escape_text(verdict.upper()))


def render_claim(claim, *, with_title=True):
    r"""A claim as LaTeX: its kind (and, with ``with_title``, its id and title), the
    statement as transcribed (``sympy.latex(claim.statement)``) and the draft's words
    (``seed_text``); title and words are rich text (:func:`rich_text`).

    >>> import sympy as sp
    >>> from ml2p_symbolic.engine.records import Claim
    >>> x = sp.Symbol("x")
    >>> tex = render_claim(Claim("sq", "a square", "equation", sp.Eq(x**2, x*x)))
    >>> tex.splitlines()[0]
    '\\paragraph{Statement as transcribed (equation).} \\texttt{sq}: a square'
    """
    head = r"\paragraph{Statement as transcribed (%s).}" % escape_text(claim.kind)
    if with_title:
        head += r" \texttt{%s}: %s" % (escape_text(claim.id), rich_text(claim.title, f"{claim.id}: title"))
    parts = [head, render_formula(claim.statement)]
    if claim.seed_text:
        parts.append(r"\begin{quote}\small\emph{As written:} %s\end{quote}"
                     % rich_text(claim.seed_text, f"{claim.id}: seed_text"))
    return "\n".join(parts)


def _counterexample_list(cx):
    items = [f"${sp.latex(sym)} = {_break_digits(sp.latex(sp.sympify(val)))}$" for sym, val in cx.items()]
    return ", ".join(items)


def render_verdict(verdict, field="verdict"):
    r"""A verdict as LaTeX: the verdict in a coloured box, the method, the proven condition
    or the counterexample (each symbol's value, both sides' values as math numbers), the
    corrected statement, the detail and the evidence lines (rich text, :func:`rich_text`;
    ``field`` prefixes the field named in a :class:`~ml2p_symbolic.errors.RichTextError`).

    >>> from ml2p_symbolic.engine import kernel
    >>> from ml2p_symbolic.engine.certificates import Goal, Rewriting
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> print(render_verdict(kernel.verify(Goal(2*x, x + x), Rewriting(("simplify",)), method="simplify")).splitlines()[0])
    {\raggedright\paragraph{Verdict.} \verdictbox{ml2pverified}{VERIFIED}\quad Method: simplify.\par}
    """
    v = verdict
    parts = [r"{\raggedright\paragraph{Verdict.} %s\quad Method: %s.\par}" % (
        _verdict_badge(v.verdict), rich_text(v.method, f"{field}: method"))]
    if v.condition is not None:
        parts.append(r"\noindent Proven to hold exactly when")
        parts.append(render_formula(v.condition))
    if v.counterexample:
        label = "Outside that condition it fails" if v.condition is not None else "It fails"
        parts.append(r"{\raggedright %s at the point %s.\par}" % (label, _counterexample_list(v.counterexample)))
    if v.values is not None:
        lhs, rhs = v.values
        parts.append(r"\begin{itemize}\raggedright" "\n"
                     r"  \item left-hand side: %s" "\n" r"  \item right-hand side: %s" "\n"
                     r"\end{itemize}" % (_value(lhs, f"{field}: values[0]"), _value(rhs, f"{field}: values[1]")))
    if v.corrected is not None:
        parts.append(r"\noindent Corrected statement, proved by the toolkit:")
        parts.append(render_formula(v.corrected))
    if v.detail:
        parts.append(r"\noindent %s" % rich_text(v.detail, f"{field}: detail"))
    if v.evidence:
        items = "\n".join(r"  \item %s" % rich_text(e, f"{field}: evidence[{n}]") for n, e in enumerate(v.evidence))
        parts.append("\\noindent Evidence:\n\\begin{itemize}\\raggedright\n" + items + "\n\\end{itemize}")
    return "\n\n".join(parts)


def render_result(result):
    r"""A claim and its verdict as a subsection labelled ``claim:<id>``, its heading the
    claim's id and title typeset (the bookmark gets the title's plain form)."""
    c = result.claim
    field = f"{c.id}: title"
    head = r"\subsection{\texorpdfstring{\texttt{%s}: %s}{%s: %s}}\label{%s}" % (
        escape_text(c.id), rich_text(c.title, field), escape_text(c.id), _pdf_string(c.title, field), _anchor(c.id))
    return "\n".join([head, render_claim(c, with_title=False), "", render_verdict(result.verdict, c.id)])


def _counts(report):
    counts = {}
    for r in report.results:
        counts[r.verdict.verdict] = counts.get(r.verdict.verdict, 0) + 1
    return counts


def render_summary_table(report):
    r"""A ``longtable`` of the report: id (linked to its subsection), short statement, verdict."""
    rows = [r"\begin{longtable}{@{}l p{0.55\linewidth} l@{}}",
            r"\toprule", r"id & statement & verdict \\", r"\midrule", r"\endhead"]
    for r in report.results:
        rows.append(r"\hyperref[%s]{\texttt{%s}} & %s & %s \\" % (
            _anchor(r.claim.id), escape_text(r.claim.id), rich_text(r.claim.title, f"{r.claim.id}: title"),
            _verdict_badge(r.verdict.verdict)))
    rows += [r"\bottomrule", r"\end{longtable}"]
    counts = ", ".join(f"{n} {k}" for k, n in _counts(report).items())
    rows.append(r"\noindent %s of %d claims." % (escape_text(counts), len(report.results)))
    return "\n".join(rows)


def render_report(report):
    r"""The body of the document: the summary table, then every result in order."""
    parts = [r"\section{Summary of the verdicts}",
             r"\noindent Verdicts: \verdictbox{ml2pverified}{VERIFIED} proved for every value, index "
             r"and size (a certificate re-checked by the kernel); \verdictbox{ml2ptested}{TESTED} holds "
             r"at the sizes tried, not proved for every size; \verdictbox{ml2prefuted}{REFUTED} a "
             r"concrete counterexample, "
             r"re-evaluated at 30 digits or more; \verdictbox{ml2pconditional}{CONDITIONAL} proved "
             r"under the stated condition and refuted outside it; \verdictbox{ml2popen}{OPEN} "
             r"undecided.",
             "",
             render_summary_table(report),
             r"\section{The claims, in the derivation's order}"]
    for r in report.results:
        parts += ["", render_result(r)]
    return "\n".join(parts)


_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{xcolor}
\usepackage{booktabs,longtable}
\usepackage[hidelinks,unicode]{hyperref}
\definecolor{ml2pverified}{RGB}{0,120,60}
\definecolor{ml2prefuted}{RGB}{180,20,20}
\definecolor{ml2pconditional}{RGB}{190,110,0}
\definecolor{ml2popen}{RGB}{100,100,100}
\definecolor{ml2ptested}{RGB}{40,90,165}
\newcommand{\verdictbox}[2]{\colorbox{#1}{\textcolor{white}{\textbf{\small\strut #2}}}}
\newsavebox{\mlpbox}
% a displayed line, shrunk to the line width only when it is wider (and said so in the log)
\newcommand{\fitmath}[1]{\sbox{\mlpbox}{$\displaystyle #1$}%
  \ifdim\wd\mlpbox>\dimexpr\linewidth-2em\relax
    \typeout{ml2p fitmath: a display line of \the\wd\mlpbox\space shrunk to \the\dimexpr\linewidth-2em\relax}%
    \resizebox{\dimexpr\linewidth-2em\relax}{!}{\usebox{\mlpbox}}%
  \else\usebox{\mlpbox}\fi}
\setlength{\parindent}{0pt}
% a math bullet: the text bullet would pull in a bitmap TS1 font next to \texttt
\renewcommand{\labelitemi}{$\bullet$}
% long identifiers and numbers in prose: stretch spaces rather than overflow the margin
\sloppy
\frenchspacing
\setlength{\parskip}{0.5ex}
"""


def render_document(report, *, title=None, front_matter=""):
    r"""A complete, compilable LaTeX article (pdflatex; packages of Debian's
    texlive-latex-base and texlive-latex-recommended) for ``report``.

    Content: title, ``front_matter`` (LaTeX the derivation supplies, e.g. the seed's model
    section for the report's number of traits), the summary table, then each claim with its
    verdict (:func:`render_result`). The output depends only on the arguments: rendering the
    same report twice gives the same string.
    """
    intro = (r"\noindent This document is generated by \texttt{ml2p-proof render} from the "
             r"objects the checker used: every statement is the derivation's, transcribed as written "
             r"(typos included), and every displayed formula is SymPy's LaTeX of the checker's "
             r"expressions; the prose uses the draft's notation. For each claim it gives the verdict, the method, and the evidence "
             r"a reader can rerun: the proven condition, or a counterexample with the values "
             r"of both sides, and a corrected statement where the toolkit has one.")
    return "\n".join([
        _PREAMBLE,
        r"\title{%s}" % escape_text(title or DOCUMENT_TITLE),
        r"\author{generated by \texttt{ml2p-proof render}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        intro,
        "",
        front_matter,
        "",
        render_report(report),
        "",
        r"\end{document}",
        "",
    ])
