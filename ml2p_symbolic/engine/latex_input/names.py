r"""Names as the reader keys them: ``a``, ``KL``, ``\theta``, ``\hat{\theta}``, ``\mathcal{L}``,
and the SymPy names that ``sympy.latex`` prints back the same (``\hat{\theta}`` -> ``thetahat``)."""

from __future__ import annotations

import re

from lark import Token

__all__ = ["NameRef", "base_key", "sympy_name", "scalar_name"]

_GREEK_NAMES = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "varpi", "rho", "varrho",
    "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma",
    "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell",
}
# accents SymPy prints from a name suffix ("thetahat" -> \hat{\theta}), canonical spelling
_ACCENT_CANON = {
    "hat": "hat", "widehat": "hat", "tilde": "tilde", "widetilde": "tilde", "bar": "bar",
    "overline": "bar", "vec": "vec", "dot": "dot", "ddot": "ddot", "check": "check",
    "breve": "breve", "mathbf": "boldsymbol", "boldsymbol": "boldsymbol", "bm": "boldsymbol",
}
_SYMPY_SUFFIX = {"hat": "hat", "tilde": "tilde", "bar": "bar", "vec": "vec", "dot": "dot",
                 "ddot": "ddot", "check": "check", "breve": "breve", "boldsymbol": "bm"}


def base_key(tree):
    r"""The canonical key of a name atom: ``a``, ``KL``, ``\theta``, ``\hat{\theta}``,
    ``\mathcal{L}`` (``\widehat`` is ``\hat``, ``\mathbf``/``\bm`` are ``\boldsymbol``)."""
    if isinstance(tree, Token):
        return str(tree)
    kind = tree.data
    if kind in ("word", "greek", "aname_char", "aname_greek", "sarg_char", "sarg_greek"):
        return str(tree.children[0])
    if kind == "aname":
        return str(tree.children[0])
    if kind in ("accent", "aname_accent", "sarg_accent"):
        cmd = str(tree.children[0])[1:]
        inner = _aarg_key(tree.children[1])
        cmd = _ACCENT_CANON.get(cmd, cmd)
        return "\\%s{%s}" % (cmd, inner)
    raise ValueError(kind)


def _aarg_key(tree):
    if tree.data == "aarg":
        return base_key(tree.children[0])
    return base_key(tree)


def sympy_name(key):
    r"""A SymPy Symbol name that ``sympy.latex`` prints back as ``key``: ``\hat{\theta}`` ->
    ``thetahat``, ``\theta`` -> ``theta``; keys SymPy has no spelling for stay raw LaTeX."""
    simple = _simple_name(key)
    return simple if simple is not None else key


def _simple_name(key):
    if re.fullmatch(r"[a-zA-Z]", key):
        return key
    if re.fullmatch(r"[a-zA-Z]{2,}", key):
        low = key.lower()
        if low in _GREEK_NAMES or any(low.endswith(s) for s in _SYMPY_SUFFIX.values()):
            return None
        return key
    m = re.fullmatch(r"\\([a-zA-Z]+)", key)
    if m and m.group(1) in _GREEK_NAMES:
        return m.group(1)
    m = re.fullmatch(r"\\([a-zA-Z]+)\{(.*)\}", key)
    if m and m.group(1) in _SYMPY_SUFFIX:
        inner = _simple_name(m.group(2))
        if inner is not None and re.fullmatch(r"[a-zA-Z]+", inner) and len(inner) == 1 or (
                inner is not None and inner in _GREEK_NAMES):
            return inner + _SYMPY_SUFFIX[m.group(1)]
    return None


def scalar_name(key, label):
    """The SymPy name of a scalar ``key`` with the label subscript ``label`` (or None)."""
    if label is None:
        return sympy_name(key)
    simple = _simple_name(key)
    if simple is not None and re.fullmatch(r"[a-zA-Z0-9]+", label):
        return f"{simple}_{label}"
    return "%s_{%s}" % (key, label)


class NameRef:
    """A name as written: base key, the subscript's simple items (letters and digit runs, or
    None when the subscript is not a list of them), its normalised text, and positions."""

    def __init__(self, key, items, text, offset, sub_offset=None):
        self.key = key
        self.items = items
        self.text = text
        self.offset = offset
        self.sub_offset = sub_offset if sub_offset is not None else offset

    def __repr__(self):
        return f"NameRef({self.key!r}, {self.items!r}, {self.text!r})"

    def written(self):
        return self.key if self.text is None else "%s_{%s}" % (self.key, self.text)
