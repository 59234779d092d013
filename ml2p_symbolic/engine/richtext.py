r"""Rich text: the engine's convention for the prose of claims and verdicts.

A claim's ``title`` and ``seed_text``, and a verdict's ``method``, ``detail`` and
``evidence`` lines (and a ``values`` entry that is not a decimal number) are *rich text*:
prose with inline LaTeX mathematics between ``$...$``, written as in a paper::

    "$\mathbb{E}_{\varepsilon}[\sigma(\hat z_i)]$ is not $\sigma(\mathbb{E}_{\varepsilon}\hat z_i)$"

In the prose, ``\$`` is a literal dollar and ``\\`` a literal backslash; every other
character stands for itself. A math segment is LaTeX math (as amsmath and MathJax read it);
its braces must balance, and it may not be empty (``$$`` display math is not allowed).

Every output reads the same text: the LaTeX document typesets the math
(:func:`ml2p_symbolic.engine.render.latex.rich_text`), a notebook hands it to MathJax,
the terminal shows :func:`plain` (math through a small table of LaTeX macros to Unicode),
and JSON keeps the rich text itself.

Examples
========

>>> segments(r"the gap $\Delta(z_i, s_i)$ costs \$5")
(('text', 'the gap '), ('math', '\\Delta(z_i, s_i)'), ('text', ' costs $5'))
>>> plain(r"$\mathbb{E}_{\varepsilon}[\sigma(\hat z_i)] \ne \sigma(z_i)$")
'𝔼_ε[σ(ẑ_i)] ≠ σ(z_i)'
>>> plain(r"$\frac{\partial \mathcal{L}}{\partial \hat{z}_i} = \frac{1}{1 + e^{-z}}$")
'∂ℒ/∂ẑ_i = 1/(1 + e^(-z))'
>>> literal("costs $5")
'costs \\$5'
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import RichTextError

__all__ = ["segments", "literal", "code", "plain"]


# --------------------------------------------------------------------------- the convention
def segments(text, field="text"):
    r"""``text`` split into ``(kind, content)`` pairs, ``kind`` being ``"text"`` (prose, with
    ``\$`` and ``\\`` already turned into ``$`` and ``\``) or ``"math"`` (the LaTeX between
    two dollars, verbatim).

    Raises
    ======
    RichTextError
        (a ``ValueError``) naming ``field`` when a ``$`` is not closed, a math segment is
        empty, or its braces do not balance.
    """
    text = str(text)
    out, buf, i, n = [], [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "$\\":
            buf.append(text[i + 1])
            i += 2
        elif c == "$":
            start = i
            i += 1
            depth, j = 0, i
            while j < n and text[j] != "$":
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth < 0:
                        raise RichTextError(f"{field}: unbalanced '}}' in the math at character {j + 1} of {text!r}")
                j += 1
            if j >= n:
                raise RichTextError(f"{field}: the '$' at character {start + 1} is not closed in {text!r} "
                                    "(a literal dollar is written \\$)")
            if depth:
                raise RichTextError(f"{field}: unbalanced '{{' in the math at character {start + 1} of {text!r}")
            if j == i:
                raise RichTextError(f"{field}: empty math '$$' at character {start + 1} of {text!r} "
                                    "(rich text has inline math only)")
            if buf:
                out.append(("text", "".join(buf)))
                buf = []
            out.append(("math", text[i:j]))
            i = j + 1
        else:
            buf.append(c)
            i += 1
    if buf:
        out.append(("text", "".join(buf)))
    return tuple(out)


def literal(text):
    r"""Plain ``text`` as rich text that reads back as exactly ``text`` (``\`` and ``$``
    escaped): for messages from code that knows nothing of the convention.

    >>> segments(literal("a $ and a \\"))
    (('text', 'a $ and a \\'),)
    """
    return str(text).replace("\\", "\\\\").replace("$", "\\$")


def code(name):
    r"""An identifier of code (a function, a module, a command line) as rich text, set in
    typewriter inside math so that no prose escaping applies.

    >>> code("vae_loss_grad")
    '$\\texttt{vae\\_loss\\_grad}$'
    >>> plain(code("vae_loss_grad"))
    'vae_loss_grad'
    """
    esc = {"\\": r"\textbackslash{}", "_": r"\_", "$": r"\$", "%": r"\%", "&": r"\&", "#": r"\#",
           "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "$\\texttt{%s}$" % "".join(esc.get(ch, ch) for ch in str(name))


# --------------------------------------------------------------------------- plain form
_ORD = {
    # Greek
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "ϕ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    # symbols that read as letters
    "partial": "∂", "infty": "∞", "nabla": "∇", "ell": "ℓ", "prime": "′", "emptyset": "∅",
    "ldots": "…", "dots": "…", "cdots": "⋯", "sum": "Σ", "prod": "∏", "int": "∫",
    "lvert": "|", "rvert": "|", "lVert": "‖", "rVert": "‖", "langle": "⟨", "rangle": "⟩",
    "forall": "∀", "exists": "∃", "neg": "¬", "lnot": "¬", "top": "ᵀ",
}
_BIN = {
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
    "sim": "~", "simeq": "≃", "equiv": "≡", "propto": "∝", "to": "→", "rightarrow": "→",
    "leftarrow": "←", "mapsto": "↦", "Rightarrow": "⇒", "implies": "⇒", "iff": "⇔",
    "Leftrightarrow": "⇔", "in": "∈", "notin": "∉", "subset": "⊂", "cdot": "·", "times": "×",
    "pm": "±", "mp": "∓", "vee": "∨", "lor": "∨", "wedge": "∧", "land": "∧", "mid": "|",
    "setminus": "∖", "circ": "∘", "ll": "≪", "gg": "≫", "cap": "∩", "cup": "∪",
}
_OPERATORS = {"log", "ln", "exp", "sin", "cos", "tan", "tanh", "min", "max", "arg", "det",
              "lim", "sup", "inf", "Pr", "diag"}
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0305",
            "tilde": "\u0303", "widetilde": "\u0303", "dot": "\u0307", "ddot": "\u0308", "vec": "\u20d7"}
_TEXT_FONTS = {"text", "textrm", "textit", "textbf", "texttt", "textsf", "mbox", "mathrm", "mathit",
               "mathbf", "mathsf", "mathtt", "operatorname", "boldsymbol", "mathnormal", "bm"}
_SPACES = {",": " ", ";": " ", ":": " ", " ": " ", "!": "", "quad": " ", "qquad": " ",
           "thinspace": " ", "displaystyle": "", "textstyle": "", "limits": "", "nolimits": "",
           "big": "", "Big": "", "bigg": "", "Bigg": "", "bigl": "", "bigr": "", "Bigl": "", "Bigr": ""}
_ESCAPED = {"{": "{", "}": "}", "$": "$", "%": "%", "&": "&", "#": "#", "_": "_", "|": "‖"}
_BLACKBOARD = {"E": "𝔼", "R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "P": "ℙ", "C": "ℂ", "1": "𝟙"}
_SCRIPT = {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ", "R": "ℛ"}
_SUPERSCRIPT = dict(zip("0123456789+-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ"))
_SUPERSCRIPT.update({"−": "⁻", "*": "*", "ᵀ": "ᵀ"})
_TOKEN = re.compile(r"\\([A-Za-z]+)|\\(.)|(\s+)|(.)", re.S)
# an "atom" needs no parentheses around it in a/b or √x; a script atom none in x^y or x_y
_ATOM = re.compile(r"[^\s+\-−=<>≤≥≠·×/,;|∨∧→~±∓]+")
_SCRIPT_ATOM = re.compile(r"[^\s+\-−=<>≤≥≠·×/,;|∨∧→~±∓_^]+")


def _script(ch):
    if ch in _SCRIPT:
        return _SCRIPT[ch]
    if "A" <= ch <= "Z":
        return chr(0x1D49C + ord(ch) - ord("A"))
    return None


class _Plain:
    """Converts one math segment; ``self.pos`` walks the token list."""

    def __init__(self, src):
        self.toks = [(m.group(1), m.group(2), m.group(3), m.group(4)) for m in _TOKEN.finditer(src)]
        self.pos = 0

    # -------------------------------------------------------------- token helpers
    def _peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def _skip_space(self):
        while self._peek() is not None and self._peek()[2] is not None:
            self.pos += 1

    def _space_after(self):
        """After a letter-like symbol: drop the source's spaces before a letter, digit or
        macro (``\\partial \\mathcal{L}`` -> ``∂ℒ``), keep one before an operator
        (``\\theta = 0`` -> ``θ = 0``)."""
        spaced = self._peek() is not None and self._peek()[2] is not None
        self._skip_space()
        nxt = self._peek()
        if nxt is None:
            return ""
        operator = (nxt[0] in _BIN) or (nxt[3] is not None and nxt[3] in "=<>+-,;|")
        return " " if spaced and operator else ""

    @staticmethod
    def _raw(tok):
        word, sym, space, ch = tok
        return "\\" + word if word else "\\" + sym if sym else space if space else ch

    def _raw_group(self):
        """The source of the brace group at ``pos`` (``pos`` on its ``{``), braces excluded."""
        depth, out = 0, []
        while self.pos < len(self.toks):
            tok = self.toks[self.pos]
            self.pos += 1
            if tok[3] == "{":
                depth += 1
                if depth == 1:
                    continue
            elif tok[3] == "}":
                depth -= 1
                if depth == 0:
                    break
            out.append(self._raw(tok))
        return "".join(out)

    def _arg(self, raw=False):
        """The next argument (a brace group or one token), converted (or as source)."""
        self._skip_space()
        tok = self._peek()
        if tok is None:
            return ""
        if tok[3] == "{":
            if raw:
                return self._raw_group()
            self.pos += 1
            return self._seq(closing=True)
        if raw:
            self.pos += 1
            return self._raw(tok)
        return self._one()

    # -------------------------------------------------------------- conversion
    def _seq(self, closing=False):
        out = []
        while self.pos < len(self.toks):
            if self.toks[self.pos][3] == "}" and closing:
                self.pos += 1
                break
            out.append(self._one())
        return "".join(out)

    def _one(self):
        word, sym, space, ch = self.toks[self.pos]
        self.pos += 1
        if space is not None:
            return " "
        if ch is not None:
            if ch == "{":
                return self._seq(closing=True)
            if ch in "^_":
                arg = self._arg()
                if ch == "^":
                    if arg and all(c in _SUPERSCRIPT for c in arg):
                        return "".join(_SUPERSCRIPT[c] for c in arg)
                    return "^" + (arg if _SCRIPT_ATOM.fullmatch(arg) else f"({arg})")
                parts = arg.split(",")
                if len(parts) > 1 and all(len(s) == 1 and s.isalnum() for s in parts):
                    arg = "".join(parts)  # a_{i,k} as papers write it: a_ik
                return "_" + (arg if _SCRIPT_ATOM.fullmatch(arg) else f"({arg})")
            if ch == "'":
                return "′"
            return ch
        if sym is not None:
            if sym in _SPACES:
                return _SPACES[sym]
            if sym in _ESCAPED:
                return _ESCAPED[sym]
            return "\\" + sym
        return self._command(word)

    def _command(self, word):
        if word in _ORD:
            return _ORD[word] + self._space_after()
        if word in _BIN:
            return _BIN[word]
        if word in _SPACES:
            return _SPACES[word]
        if word in _OPERATORS:
            self._skip_space()
            nxt = self._peek()
            follows = nxt is not None and (nxt[3] in ("(", "[", "^", "_", "{") or nxt[0] == "left")
            return word if follows or nxt is None else word + " "
        if word in _ACCENTS:
            arg = unicodedata.normalize("NFC", self._arg())
            core = arg.rstrip()
            if len(core) == 1:
                return unicodedata.normalize("NFC", core + _ACCENTS[word]) + arg[1:]
            return f"\\{word}{{{arg}}}"
        if word in _TEXT_FONTS:
            arg = self._arg(raw=word.startswith("text") or word in ("mbox", "operatorname"))
            return re.sub(r"\\([_{}$%&#])", r"\1", arg)
        if word in ("mathbb", "mathcal", "mathscr"):
            arg = self._arg(raw=True)
            table = _BLACKBOARD.get if word == "mathbb" else _script
            mapped = [table(c) for c in arg]
            if arg and all(mapped):
                return "".join(mapped)
            return f"\\{word}{{{arg}}}"
        if word in ("frac", "dfrac", "tfrac"):
            num, den = self._arg(), self._arg()
            wrap = lambda s: s if _ATOM.fullmatch(s) else f"({s})"  # noqa: E731
            nxt = self._peek()
            gap = " " if nxt is not None and (nxt[0] in _ORD or (nxt[3] or "").isalnum()) else ""
            return f"{wrap(num.strip())}/{wrap(den.strip())}{gap}"
        if word == "sqrt":
            arg = self._arg().strip()
            return "√" + (arg if _ATOM.fullmatch(arg) else f"({arg})")
        if word in ("left", "right"):
            self._skip_space()
            tok = self._peek()
            if tok is None:
                return ""
            self.pos += 1
            if tok[3] == ".":
                return ""
            if tok[1] is not None:
                return _ESCAPED.get(tok[1], tok[1])
            if tok[0] is not None:
                return self._command(tok[0])
            return tok[3] or ""
        # unknown: keep its LaTeX source, with the brace groups that follow it
        out = "\\" + word
        while self._peek() is not None and self._peek()[3] == "{":
            out += "{" + self._raw_group() + "}"
        nxt = self._peek()
        if nxt is not None and nxt[2] is not None:
            out += " "
        return out


def _math_plain(src):
    out = _Plain(src)._seq()
    return re.sub(r"\s+([)\]}])", r"\1", re.sub(r"([(\[{])\s+", r"\1", out))


def plain(text, field="text"):
    r"""Rich ``text`` as one readable line for a terminal: prose as written, each math segment
    through a small table of LaTeX macros to Unicode (``\hat{z}_i`` -> ``ẑ_i``, Greek letters,
    ``\partial`` -> ``∂``, ``\mathbb{E}`` -> ``𝔼``, ``\frac{a}{b}`` -> ``a/b`` with
    parentheses where needed, ``\le`` -> ``≤``, ``\sum`` -> ``Σ``, superscript digits).
    A macro it does not know stays as its LaTeX source (``\foo{x}``), never dropped.

    >>> plain(r"$\hat\sigma_k^{2}$, $\sqrt{1 + \pi s^2/8}$ and $\mathbb{E}_q \log(q/p)$")
    'σ̂_k², √(1 + πs²/8) and 𝔼_q log(q/p)'
    >>> plain(r"keeps $\unknownmacro{x} + 1$")
    'keeps \\unknownmacro{x} + 1'
    """
    parts = [seg if kind == "text" else _math_plain(seg) for kind, seg in segments(text, field)]
    return " ".join("".join(parts).split())
