"""Source files and the Lark parser: positions (offset -> line, column) and refusals.

Every formula is parsed from a *piece* of a source file: a copy of ``text[start:end]`` in which
layout the reader removed (``&``, ``\\\\``, ``\\label{..}``, a trailing tag) is blanked with
spaces, so that an offset in the piece plus ``start`` is the offset in the file. Every error
is a :class:`~ml2p_symbolic.errors.LatexInputError` at that true position.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from pathlib import Path

from ...errors import LatexInputError

__all__ = ["SourceText", "parse_piece", "read_source", "GRAMMAR_PATH", "MAX_NESTING", "MAX_SOURCE_BYTES"]

GRAMMAR_PATH = Path(__file__).with_name("math.lark")

#: deepest nesting of braces, parentheses and brackets in one formula
MAX_NESTING = 50
#: largest document or preamble read (bytes)
MAX_SOURCE_BYTES = 20 * 1024 * 1024

#: LaTeX commands people write that the grammar deliberately does not read
UNSUPPORTED = {
    "iint", "oint", "cdots", "dots", "ldots", "vdots", "to",
    "in", "notin", "mid", "max", "min", "sup", "inf", "lim",
    "arctan", "binom", "choose", "pm", "mp", "propto", "equiv", "cong", "simeq",
    "nabla", "operatorname*", "mathbbm", "Pr", "KL", "argmin", "argmax",
    "odot", "otimes", "circ", "vert", "lVert", "rVert", "Vert", "langle", "rangle",
}


class SourceText:
    """A file's text with its name, for positions and errors.

    >>> s = SourceText("doc.tex", "ab\\ncd")
    >>> s.position(3)
    (2, 1)
    """

    def __init__(self, name, text):
        self.name = str(name)
        self.text = text
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset):
        """1-based ``(line, column)`` of a 0-based character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def line_of(self, offset):
        return self.position(offset)[0]

    def error(self, offset, message):
        """A :class:`LatexInputError` at ``offset``."""
        line, col = self.position(offset)
        return LatexInputError(message, self.name, line, col)


def read_source(path, what="document"):
    """The text of the file ``path``: UTF-8, a leading byte-order mark removed.

    Raises :class:`LatexInputError` (``FILE:LINE:COL: error: ...``, one line) for a file that
    is not a regular file (a directory, a FIFO), larger than :data:`MAX_SOURCE_BYTES`, UTF-16,
    or not UTF-8 (the position of the first bad byte), and ``OSError`` for a missing or
    unreadable file.
    """
    import os
    import stat

    name = str(path)
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise LatexInputError(f"the {what} is not a regular file", name, 1, 1)
    if st.st_size > MAX_SOURCE_BYTES:
        raise LatexInputError(f"the {what} is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MB", name, 1, 1)
    with open(path, "rb") as fh:
        data = fh.read(MAX_SOURCE_BYTES + 1)
    return decode_source(data, name, what)


def decode_source(data, name, what="document"):
    """``data`` (bytes) decoded as UTF-8 with a leading byte-order mark removed; see
    :func:`read_source` for the refusals."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise LatexInputError(f"the {what} is UTF-16 text, not UTF-8; save it as UTF-8", name, 1, 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise LatexInputError(f"the {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} here); "
                              "save it as UTF-8", name, line, col) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    nul = text.find("\x00")
    if nul >= 0:
        source = SourceText(name, text)
        raise source.error(nul, f"the {what} contains a NUL character (UTF-16 or binary?); save it as UTF-8 text")
    return text


def _check_nesting(piece, source, base):
    """Refuse braces, parentheses or brackets nested deeper than :data:`MAX_NESTING`."""
    depth = 0
    i = 0
    n = len(piece)
    while i < n:
        ch = piece[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "{([":
            depth += 1
            if depth > MAX_NESTING:
                raise source.error(base + i, f"the formula is nested more than {MAX_NESTING} levels deep "
                                   "(braces, parentheses, brackets); split it with %! define")
        elif ch in "})]":
            depth -= 1
        i += 1


@lru_cache(maxsize=1)
def _parser():
    import lark

    return lark.Lark(GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr", lexer="contextual",
                     propagate_positions=True, maybe_placeholders=False, cache=True)


_TERMINAL_WORDS = {
    "RBRACE": "'}'", "LBRACE": "'{'", "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['",
    "REL": "a relation (=, \\le, ...)", "SIGN": "'+' or '-'", "$END": "the end of the formula",
}


def _describe(token):
    if token.type == "$END":
        return "the end of the formula"
    return repr(str(token))


def parse_piece(piece, source, base, start="start"):
    """Parse ``piece`` (the blanked copy of ``source.text[base:base + len(piece)]``) with the
    grammar; return the Lark tree. Raises :class:`LatexInputError` at the true position."""
    import lark

    _check_nesting(piece, source, base)
    try:
        return _parser().parse(piece, start=start)
    except lark.exceptions.UnexpectedCharacters as exc:
        pos = exc.pos_in_stream
        raise source.error(base + pos, _unexpected_text(piece, pos)) from None
    except lark.exceptions.UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            pos = len(piece.rstrip())
            raise source.error(base + pos, "the formula ends too early (a missing operand, or "
                               "unbalanced braces or parentheses)") from None
        pos = tok.start_pos
        raise source.error(base + pos, f"unexpected {_describe(tok)} here") from None
    except lark.exceptions.UnexpectedEOF:
        pos = len(piece.rstrip())
        raise source.error(base + pos, "the formula ends too early") from None


def _unexpected_text(piece, pos):
    rest = piece[pos:]
    m = re.match(r"\\([a-zA-Z]+\*?)", rest)
    if m:
        name = m.group(1)
        if name in UNSUPPORTED:
            return f"unsupported command \\{name} (docs/format.md lists the notation the reader understands)"
        if name in ("left", "right"):
            return f"\\{name} must be followed by a delimiter"
        if name in ("label", "tag"):
            return f"\\{name} is only understood once per display row"
        return f"unknown command \\{name}"
    ch = rest[:1]
    if ch == "|":
        return ("a bare '|' is not understood (absolute values and conditional bars are not "
                "supported; an evaluation bar is \\Big|_{x=a})")
    if ch == "\\":
        return f"unknown command {rest[:2]!r}"
    if ch == "$":
        return "unexpected '$' (unbalanced math delimiters)"
    if ch == "&":
        return "unexpected '&' outside an alignment"
    return f"unexpected character {ch!r}"
