r"""Read a LaTeX or Markdown document: directives, displays, relation chains, steps.

Displays are ``equation``, ``equation*``, ``align``, ``align*``, ``gather``, ``gather*``,
``multline``, ``multline*``, ``\[ .. \]`` and ``$$ .. $$`` (in ``.tex``, ``.md`` and ``.txt``
alike; in ``.tex`` comments are removed first, in Markdown fenced code blocks are skipped).
``aligned``/``split``/``gathered`` inside them are layout.

A display is split into rows at ``\\``; ``&`` is removed; a ``\text{..}`` that closes a row
(``\quad \text{(chain rule)}``) is prose, not part of the step. A row that starts with a relation
continues the chain of the row before; any other row starts a new chain. Each relation of a
chain is one step, ``A = B`` then ``B = C``. Step ids: a display with one ``\label{X}`` gives
``X`` (one step) or ``X.1``, ``X.2``, ... (several, in order); with ``\tag{N}`` or a trailing
``(N)`` (after ``\quad``, or after the display) ``eqN`` likewise; with a label on several
rows of an ``align``, each row's steps take their row's label; otherwise ``L<line>`` (the
line of the step's relation sign).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import LatexInputError
from .declarations import Declarations
from .directives import apply_directives, find_directives
from .source import SourceText, parse_piece, read_source
from .translate import Translator

__all__ = ["Step", "Display", "Document", "read_document", "DOCUMENT_SUFFIXES"]

DOCUMENT_SUFFIXES = (".tex", ".md", ".txt")

_ENVIRONMENTS = ("equation", "equation*", "align", "align*", "gather", "gather*", "multline",
                 "multline*", "displaymath", "eqnarray", "eqnarray*")
_OPEN_RE = re.compile(
    r"\$\$|(?<!\\)\\\[|\\begin\{(" + "|".join(re.escape(e) for e in _ENVIRONMENTS) + r")\}")
_INNER_ENV_RE = re.compile(r"\\(?:begin|end)\{(?:aligned|split|gathered)\}")
_LABEL_RE = re.compile(r"\\label\s*\{([^{}]*)\}")
_TAG_RE = re.compile(r"\\tag\*?\s*\{([^{}]*)\}")
_TRAILING_TAG_RE = re.compile(r"(?:\\q?quad\s*|(?<=\\end\{aligned\})\s*)\(\s*(\d+[a-z]?)\s*\)\s*[.,]?\s*$")
_AFTER_TAG_RE = re.compile(r"[ \t]*\(\s*(\d+[a-z]?)\s*\)")
_REL_ANY_RE = re.compile(r"(?:=|<|>|\\(?:leqslant|geqslant|leq|geq|le|ge|neq|ne|approx|lt|gt)(?![a-zA-Z]))")
#: digits that LaTeX typesets as one number: "2 3", "2{3}", "1\,000"
_SPLIT_DIGITS_RE = re.compile(r"(?<![_^{\d])\d+(?:\s|\\[,;:!]|\{)+\d")
#: a \quad (not at the row's start) followed by more mathematics: two formulas side by side
_QUAD_BETWEEN_RE = re.compile(r"\S\s*\\q?quad(?![a-zA-Z])\s*(?=[^\s.,;])(?!\\forall|\\text|\\mbox|\\mathrm\{for)")
_REL_START_RE = re.compile(r"\s*(?:=|<|>|\\(?:leqslant|geqslant|leq|geq|le|ge|neq|ne|approx)(?![a-zA-Z]))")
#: prose closing a row: ``\quad \text{(chain rule)}``, ``, \text{by (3)}.``
_PROSE_RE = re.compile(r"[,;]?\s*(?:(?:\\q?quad(?![a-zA-Z])|\\[,;:! ]|~)\s*)*"
                       r"\\(?:text|textrm|textit|textbf|textsf|mbox)\s*\{(?:[^{}]|\{[^{}]*\})*\}\s*[.,;]?\s*$")
_PROSE_IN_TEXT_RE = re.compile(_PROSE_RE.pattern[:-1] + r"(?=\\\\|$)")
_ROWSPACE_RE = re.compile(r"\s*\[\s*-?[\d.]+\s*(?:pt|em|ex|mm|cm|in|mu|bp)\s*\]")


@dataclass(frozen=True)
class Step:
    """One checkable statement of a document.

    ``kind`` is ``"relation"`` (``lhs relation rhs``, parsed), ``"python"`` (a display
    handed to the Python check ``check``) or ``"skip"`` (not checked, ``reason``).
    ``offset``/``end`` delimit the relation sign (or the display) in the file.
    """

    id: str
    file: str
    line: int
    col: int
    kind: str
    text: str
    display: str
    relation: str | None = None
    lhs: Any = None
    rhs: Any = None
    forall: tuple = ()
    check: str | None = None
    reason: str | None = None
    offset: int = 0
    end: int = 0


@dataclass
class Display:
    """A display of the document: its id, span, labels and tag."""

    id: str
    start: int
    end: int
    line: int
    labels: list
    tag: str | None


@dataclass
class Document:
    """A read document: its steps in order and its declarations."""

    path: str
    kind: str
    text: str
    steps: list
    declarations: Declarations
    displays: list = field(default_factory=list)
    preamble: str | None = None
    preamble_text: str = ""
    errors: list = field(default_factory=list)

    def definitions(self):
        """The defined quantities and functions, in declaration order, as dicts."""
        from .declarations import FunctionDecl

        out = []
        for d in self.declarations.order:
            kind = "function" if isinstance(d, FunctionDecl) else d.kind
            if kind not in ("define", "function"):
                continue
            out.append({"name": d.latex, "kind": kind, "definition": d.text,
                        "file": d.where.file, "line": d.where.line})
        return out


def read_document(path, *, preamble=None, text=None, preamble_text=None, keep_going=False):
    """Read ``path`` (``.tex``, ``.md`` or ``.txt``) with the directives of ``preamble``.

    Returns a :class:`Document`. Raises :class:`~ml2p_symbolic.errors.LatexInputError`
    (``FILE:LINE:COL: error: ...``) for anything not understood, and ``OSError`` for an
    unreadable file.

    With ``keep_going=True`` a display the reader cannot read does not void the document, as a
    compiler reports all its errors: the display contributes no step, its error (at its
    FILE:LINE:COL) is appended to ``Document.errors`` (in document order), and every other
    display is read. Errors in the directives, an unclosed display and two displays with one id
    are still raised (every step depends on them).
    """
    path = str(path)
    suffix = Path(path).suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise LatexInputError(f"a document must be {', '.join(DOCUMENT_SUFFIXES)}", path, 1, 1)
    if text is None:
        text = read_source(path, "document")
    elif text.startswith("\ufeff"):
        text = text[1:]
    kind = "tex" if suffix == ".tex" else "markdown"
    source = SourceText(path, text)
    decls = Declarations()
    directives = []
    if preamble is not None:
        if preamble_text is None:
            preamble_text = read_source(preamble, "preamble")
        elif preamble_text.startswith("\ufeff"):
            preamble_text = preamble_text[1:]
        pre_source = SourceText(str(preamble), preamble_text)
        directives.extend(find_directives(pre_source, html_comments=True))
    directives.extend(find_directives(source, html_comments=(kind == "markdown")))
    apply_directives(decls, directives)
    blank = _blank_non_math(source, kind)
    if kind == "tex":
        _refuse_inputs(source, blank)
    displays = _find_displays(source, blank)
    labels = _user_labels(source, displays)
    steps = []
    ids = set()
    errors = []
    for disp, content_start, content_end in displays:
        try:
            if not keep_going:
                steps.extend(_display_steps(source, blank, disp, content_start, content_end, decls, ids, labels))
                continue
            try:
                # a display's ids are taken only when the whole display is read
                taken = set(ids)
                steps.extend(_display_steps(source, blank, disp, content_start, content_end, decls, taken, labels))
                ids |= taken
            except LatexInputError as exc:
                errors.append(exc)
        except RecursionError:
            raise source.error(disp.start, "this display is nested too deeply to read") from None
    for table, what in ((decls.python_checks, "python"), (decls.skips, "skip")):
        shown = {d.id for d, _, _ in displays}
        for ident, (_, where) in table.items():
            if ident not in shown:
                raise LatexInputError(f"'%! {what} {ident}': no display of {path} has this id "
                                      f"(ids: {', '.join(sorted(shown)) or 'none'})", where.file, where.line, where.col)
    return Document(path, kind, text, steps, decls, [d for d, _, _ in displays],
                    None if preamble is None else str(preamble), preamble_text or "", errors)


# --------------------------------------------------------------------------- blanking
def _blank(chars, start, end):
    for i in range(start, end):
        if chars[i] != "\n":
            chars[i] = " "


_FENCE_RE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*", re.M)


def _blank_non_math(source, kind):
    """A copy of the text with comments (tex), directive lines and code blocks blanked.
    An unclosed Markdown code fence is an error (its content is not mathematics)."""
    text = source.text
    chars = list(text)
    if kind == "tex":
        for m in re.finditer(r"(?<!\\)%[^\n]*", text):
            _blank(chars, m.start(), m.end())
    else:
        for m in re.finditer(r"^[ \t]*%![^\n]*", text, re.M):
            _blank(chars, m.start(), m.end())
        for m in re.finditer(r"<!--.*?-->", text, re.S):
            _blank(chars, m.start(), m.end())
        opened = None
        for m in _FENCE_RE.finditer(text):
            fence = m.group(1)
            if opened is None:
                opened = m
            elif fence[0] == opened.group(1)[0] and len(fence) >= len(opened.group(1)) \
                    and not text[m.end(1):m.end()].strip():
                _blank(chars, opened.start(), m.end())
                opened = None
        if opened is not None:
            raise source.error(opened.start(1), f"this code block ({opened.group(1)}) is never closed")
    return "".join(chars)


_INPUT_RE = re.compile(r"\\(input|include|subfile|import|includeonly)(?![a-zA-Z])")


def _refuse_inputs(source, blank):
    """Refuse ``\\input``/``\\include``: their mathematics would otherwise go unchecked."""
    m = _INPUT_RE.search(blank)
    if m:
        raise source.error(m.start(), f"\\{m.group(1)} is not followed by the checker: the mathematics of the "
                           "included file would go unchecked; check that file on its own (with the "
                           "directives it needs, e.g. via --preamble) or paste its content here")


def _user_labels(source, displays):
    """{label: offset} of every ``\\label`` (refusing a label given twice)."""
    labels = {}
    for disp, _, _ in displays:
        for label, offset in disp.labels:
            if label in labels:
                first = source.position(labels[label])
                raise source.error(offset, f"the label {label} is given twice (first at {source.name}:"
                                   f"{first[0]}:{first[1]}); labels must be unique")
            labels[label] = offset
    return labels


# --------------------------------------------------------------------------- displays
_UNREAD_ENV_RE = re.compile(r"\\begin\{((?:alignat|xalignat|xxalignat|flalign|dmath|dseries|dgroup|darray)\*?|math)\}")


def _refuse_unread_layout(source, row_text, raw_row, offset):
    r"""Refuse, at its position, what LaTeX typesets otherwise than the reader would read it:
    digits separated by a space, a brace or a thin space (one number on the page), a ``\quad``
    between two formulas (a condition or a second formula beside the step), and a row with two
    alignment columns (two formulas side by side)."""
    m = _SPLIT_DIGITS_RE.search(row_text)
    if m:
        raise source.error(offset + m.start(), f"'{m.group(0)}' is typeset as one number: write the digits "
                           "together, or \\cdot for a product")
    m = _QUAD_BETWEEN_RE.search(row_text)
    if m:
        raise source.error(offset + m.start() + 1, "\\quad between two formulas: write a condition as "
                           "\\text{...} prose or a %! assume, and a second formula in a display of its own")
    if len(re.findall(r"(?<!\\)&", raw_row)) >= 2:
        raise source.error(offset, "two alignment columns in one row (two formulas side by side): write each "
                           "formula in a row of its own")


def _find_displays(source, blank):
    """[(Display, content start, content end)] in order (labels, tags and layout blanked later)."""
    unread = _UNREAD_ENV_RE.search(blank)
    if unread:  # typeset mathematics must be checked or refused, never skipped in silence
        raise source.error(unread.start(), f"the display environment {unread.group(1)} is not read: write it "
                           "as align (or equation) to have it checked")
    out = []
    pos = 0
    while True:
        m = _OPEN_RE.search(blank, pos)
        if not m:
            break
        opener = m.group(0)
        if opener == "$$":
            close = blank.find("$$", m.end())
            close_len = 2
        elif opener.startswith("\\["):
            close = blank.find("\\]", m.end())
            close_len = 2
        else:
            end_tag = "\\end{%s}" % m.group(1)
            close = blank.find(end_tag, m.end())
            close_len = len(end_tag)
        if close < 0:
            raise source.error(m.start(), f"this display ({opener}) is never closed")
        content_start, content_end = m.end(), close
        out.append((m.start(), content_start, content_end, close + close_len))
        pos = close + close_len
    displays = []
    for start, cs, ce, end in out:
        content = blank[cs:ce]
        labels = [(lm.group(1).strip(), cs + lm.start()) for lm in _LABEL_RE.finditer(content)]
        tags = [tm.group(1).strip() for tm in _TAG_RE.finditer(content)]
        trailing = _TRAILING_TAG_RE.search(_without_layout(content))
        after = _AFTER_TAG_RE.match(blank, end)
        tag = tags[0] if tags else (trailing.group(1) if trailing else (after.group(1) if after else None))
        line = source.line_of(start)
        if labels and len(labels) == 1:
            ident = labels[0][0]
        elif tag is not None:
            ident = f"eq{tag}"
        elif labels:
            ident = labels[0][0]
        else:
            ident = f"L{line}"
        displays.append((Display(ident, start, end, line, labels, tag), cs, ce))
    seen = {}
    for disp, _, _ in displays:
        if disp.id in seen and (disp.labels or disp.tag is not None):
            raise source.error(disp.start, f"two displays have the id {disp.id} (lines {seen[disp.id]} "
                               f"and {disp.line})")
        seen[disp.id] = disp.line
    return displays


def _without_layout(content):
    """The content with \\label and \\tag removed, for the trailing-tag test."""
    return _TAG_RE.sub(" ", _LABEL_RE.sub(" ", content))


class _Window:
    """A mutable copy of ``text[start:end]`` indexed by offsets of the whole text (so that a
    display is edited without copying the whole document: reading stays linear)."""

    def __init__(self, text, start, end):
        self.start = start
        self.chars = list(text[start:end])

    def _shift(self, key):
        if isinstance(key, slice):
            return slice(None if key.start is None else key.start - self.start,
                         None if key.stop is None else key.stop - self.start)
        return key - self.start

    def __getitem__(self, key):
        return self.chars[self._shift(key)]

    def __setitem__(self, key, value):
        self.chars[self._shift(key)] = value


def _display_steps(source, blank, disp, cs, ce, decls, ids, labels=None):
    raw = source.text[cs:ce]
    if disp.id in decls.python_checks or disp.id in decls.skips:
        text = " ".join(raw.split())
        line, col = source.position(cs)
        if disp.id in decls.python_checks:
            target = decls.python_checks[disp.id][0]
            return [Step(disp.id, source.name, line, col, "python", text, disp.id, check=target,
                         offset=cs, end=ce)]
        return [Step(disp.id, source.name, line, col, "skip", text, disp.id,
                     reason=decls.skips[disp.id][0], offset=cs, end=ce)]
    chars = _Window(blank, cs, ce)
    content = blank[cs:ce]
    for pattern in (_LABEL_RE, _TAG_RE):
        for m in pattern.finditer(content):
            _blank(chars, cs + m.start(), cs + m.end())
    trailing = _TRAILING_TAG_RE.search("".join(chars[cs:ce]))
    if trailing:
        _blank(chars, cs + trailing.start(), cs + trailing.end())
    for m in _INNER_ENV_RE.finditer(content):
        _blank(chars, cs + m.start(), cs + m.end())
    # a '.' or ',' ending the display is punctuation
    cleaned = "".join(chars[cs:ce])
    punct = re.search(r"(?<!\\)[.,](?:\s|\\q?quad(?![a-zA-Z])|\\[,;:! ])*$", cleaned)
    if punct:
        _blank(chars, cs + punct.start(), cs + punct.start() + 1)
    rows = _rows(chars, cs, ce)
    for rs, re_ in rows:
        # a \text{..} closing a row is prose about the step, not part of it
        prose = _PROSE_RE.search("".join(chars[rs:re_]))
        if prose:
            _blank(chars, rs + prose.start(), rs + prose.end())
    chains = []
    for rs, re_ in rows:
        row_text = "".join(chars[rs:re_])
        if not row_text.strip():
            continue
        _refuse_unread_layout(source, row_text, source.text[rs:re_], rs)
        if chains and (_REL_START_RE.match(row_text) or not _REL_ANY_RE.search(row_text)):
            # a row that starts with a relation, or has none (a right side continued: "&\quad - 1"),
            # belongs to the chain above
            chains[-1][1] = re_
        else:
            chains.append([rs, re_])
    row_labels = []
    if len(disp.labels) >= 2:
        for label, offset in disp.labels:
            row_labels.append((label, next(((rs, re_) for rs, re_ in rows if rs <= offset < re_), (offset, offset))))
    links = []
    for start, end in chains:
        piece = "".join(chars[start:end])
        tree = parse_piece(piece, source, start)
        tr = Translator(decls, source, piece, start)
        exprs, rels, forall = tr.chain(tree.children[0])
        for k, (rel, r0, r1) in enumerate(rels):
            left_start = rels[k - 1][2] if k else start
            right_end = rels[k + 1][1] if k + 1 < len(rels) else end
            lhs_text = " ".join(source.text[left_start:r0].split())
            rhs_text = " ".join(source.text[r1:right_end].split())
            rhs_text = _strip_layout(rhs_text)
            if k + 1 == len(rels):
                rhs_text = re.sub(r"(?<!\\)[.,]\s*$", "", rhs_text)
            text = " ".join(f"{_strip_layout(lhs_text)} {source.text[r0:r1]} {rhs_text}".split())
            links.append((exprs[k], rel, exprs[k + 1], r0, r1, text, tuple(forall)))
    steps = []
    bases = []
    for lhs, rel, rhs, r0, r1, text, forall in links:
        line = source.line_of(r0)
        if row_labels:
            base = next((lab for lab, (rs, re_) in row_labels if rs <= r0 < re_), None) or f"L{line}"
        elif disp.labels or disp.tag is not None:
            base = disp.id
        else:
            base = f"L{line}"
        bases.append(base)
    counts = {b: bases.count(b) for b in bases}
    own_labels = {lab for lab, _ in disp.labels}
    seen = {}
    for (lhs, rel, rhs, r0, r1, text, forall), base in zip(links, bases):
        automatic = base not in own_labels and base != f"eq{disp.tag}"
        if automatic and labels and base in labels:
            raise source.error(labels[base], f"the label {base} is also the automatic id of the step on line "
                               f"{source.line_of(r0)} (L<line>); choose another label")
        if counts[base] > 1:
            seen[base] = seen.get(base, 0) + 1
            ident = f"{base}.{seen[base]}"
        else:
            ident = base
        while ident in ids:
            ident += "'"
        ids.add(ident)
        line, col = source.position(r0)
        steps.append(Step(ident, source.name, line, col, "relation", text, disp.id, relation=rel,
                          lhs=lhs, rhs=rhs, forall=forall, offset=r0, end=r1))
    return steps


def _strip_layout(text):
    text = _LABEL_RE.sub("", _TAG_RE.sub("", _INNER_ENV_RE.sub("", text)))
    text = _PROSE_IN_TEXT_RE.sub("", text.rstrip())
    text = re.sub(r"(?<!\\)&", "", text)
    text = re.sub(r"\\\\(\s*\[[^\]]*\])?", "", text)
    text = re.sub(r"\\(?:nonumber|notag)(?![a-zA-Z])", "", text)
    return " ".join(text.split())


def _rows(chars, cs, ce):
    """Split [cs, ce) at top-level ``\\\\``; blank ``&`` and the separators; return row spans."""
    rows = []
    depth = 0
    row_start = cs
    i = cs
    while i < ce:
        ch = chars[i]
        if ch == "\\" and i + 1 < ce:
            nxt = chars[i + 1]
            if nxt == "\\" and depth == 0:
                chars[i] = chars[i + 1] = " "
                rows.append((row_start, i))
                j = i + 2
                m = _ROWSPACE_RE.match("".join(chars[j:min(ce, j + 40)]))
                if m:
                    _blank(chars, j, j + m.end())
                    j += m.end()
                row_start = j
                i = j
                continue
            i += 2  # an escaped character such as \{ or \&
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "&" and depth == 0:
            chars[i] = " "
        i += 1
    rows.append((row_start, ce))
    return rows
