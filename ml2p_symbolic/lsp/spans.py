r"""Where a step lives in the editor's text: LSP positions, the relation sign, the right side.

The reader (:mod:`ml2p_symbolic.engine.latex_input`) gives every step 0-based character
offsets: for a relation step ``offset``/``end`` delimit its relation sign, for a display handed
to Python (``%! python``) or skipped (``%! skip``) they delimit the display's content. An LSP
client counts columns in UTF-16 code units unless another position encoding was agreed
(``utf-8``, ``utf-32``); :class:`LineIndex` converts both ways.

The right side of a step (what a code action replaces) is not kept by the reader; it is found
here by a small scan of the source from the end of the relation sign: the right side ends at the
next relation sign, row break ``\\``, ``\label``/``\tag``, or the end of the display, at
brace and parenthesis depth 0, with trailing spaces, ``&`` and a final ``.``/``,`` left out.
"""

from __future__ import annotations

import bisect
import re

__all__ = ["LineIndex", "relation_span", "right_side_span"]

_RELATION_RE = re.compile(r"<|>|=|\\(?:leqslant|geqslant|leq|geq|le|ge|lt|gt)(?![a-zA-Z])")
_STOP_RE = re.compile(r"\\\\|\\(?:label|tag\*?|nonumber|notag|quad|qquad)(?![a-zA-Z])")


def _units(text, encoding):
    """Length of ``text`` in the client's code units (``utf-16`` by default)."""
    if encoding in ("utf-8", "utf8"):
        return len(text.encode("utf-8"))
    if encoding in ("utf-32", "utf32"):
        return len(text)
    return len(text.encode("utf-16-le")) // 2


class LineIndex:
    """Offsets in ``text`` <-> LSP ``(line, character)`` pairs (0-based; ``character`` in the
    code units of ``encoding``).

    >>> ix = LineIndex("ab\\n\U0001d70e = 1")
    >>> ix.position(5)          # after the astral sigma (2 UTF-16 units) and a space
    (1, 3)
    >>> ix.offset(1, 3)
    5
    """

    def __init__(self, text, encoding="utf-16"):
        self.text = text
        self.encoding = str(encoding or "utf-16").lower()
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset):
        """The 0-based ``(line, character)`` of the 0-based character ``offset``."""
        offset = max(0, min(int(offset), len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        return line, _units(self.text[start:offset], self.encoding)

    def offset(self, line, character):
        """The character offset of an LSP position (clamped to the text)."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        start = self._starts[line]
        end = self._starts[line + 1] - 1 if line + 1 < len(self._starts) else len(self.text)
        units = 0
        for i in range(start, end):
            if units >= character:
                return i
            units += _units(self.text[i], self.encoding)
        return end


def relation_span(step, text):
    """``(start, end)`` offsets of the relation sign of ``step`` in ``text``: the reader's own
    span for a relation step; for a Python-checked or skipped display, the first relation sign
    at depth 0 of its content (or the display's first line when it has none)."""
    if step.kind == "relation":
        return step.offset, step.end
    for start, end in _relations(text, step.offset, step.end):
        return start, end
    line_end = text.find("\n", step.offset, step.end)
    return step.offset, (step.end if line_end < 0 else line_end)


def right_side_span(step, text):
    """``(start, end)`` offsets of the right side of ``step``'s relation in ``text`` (for a
    Python-checked display, the side after its last relation sign), or ``None`` when no clean
    span exists (no relation, an empty side, or layout such as ``&`` inside it)."""
    if step.kind == "relation":
        start, limit = step.end, _display_end(step, text)
    else:
        signs = list(_relations(text, step.offset, step.end))
        if not signs:
            return None
        start, limit = signs[-1][1], step.end
    end = _scan_side(text, start, limit)
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,"):
        if text[end - 1] in ".," and end - 2 >= start and text[end - 2] == "\\":
            break
        end -= 1
    side = text[start:end]
    if not side or "&" in side.replace(r"\&", "") or "%" in side.replace(r"\%", ""):
        return None
    return start, end


def _display_end(step, text):
    """A bound for a relation step's right side: the end of the display holding it."""
    ends = [m.start() for m in re.finditer(r"\$\$|\\\]|\\end\{", text[step.end:])]
    return step.end + min(ends) if ends else len(text)


def _relations(text, start, end):
    """Relation signs ``(start, end)`` at depth 0 in ``text[start:end]`` (commands skipped)."""
    depth = 0
    i = start
    while i < end:
        ch = text[i]
        if ch == "\\":
            m = re.match(r"\\(?:[a-zA-Z]+|.)", text[i:end])
            r = _RELATION_RE.match(text, i, end)
            if depth == 0 and r:
                yield i, r.end()
            i += len(m.group(0)) if m else 1
            continue
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        elif depth == 0 and ch in "<>=":
            yield i, i + 1
        i += 1


def _scan_side(text, start, limit):
    """Where a side that starts at ``start`` ends (at most ``limit``)."""
    depth = 0
    i = start
    while i < limit:
        ch = text[i]
        if ch == "\\":
            if depth == 0 and _STOP_RE.match(text, i, limit):
                return i
            if depth == 0 and _RELATION_RE.match(text, i, limit):
                return i
            m = re.match(r"\\(?:[a-zA-Z]+|.)", text[i:limit])
            i += len(m.group(0)) if m else 1
            continue
        if ch == "%" or (ch == "\n" and text.startswith("\n", i) and _blank_line(text, i, limit)):
            return i
        if ch in "{(":
            depth += 1
        elif ch in "})":
            if depth == 0:
                return i
            depth -= 1
        elif depth == 0 and ch in "<>=&":
            return i
        i += 1
    return limit


def _blank_line(text, i, limit):
    """True when a blank line follows the newline at ``i`` (a paragraph break)."""
    j = i + 1
    while j < limit and text[j] in " \t":
        j += 1
    return j < limit and text[j] == "\n"
