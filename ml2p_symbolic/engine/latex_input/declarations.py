r"""What a document declares: indices, variables, functions, defined quantities, random
variables, assumptions, and which displays go to Python or are skipped.

Plain records filled by :mod:`.directives` and read by :mod:`.translate` and the step
checker. A *name* is keyed by its base (``a``, ``\theta``, ``\hat{\theta}``,
``\mathcal{L}``) and its subscript: a subscript whose letters include a declared index gives
*slots* (``a_{ik}``: index slots i and k; ``\theta_{jk}``: the label j and the index slot k);
any other subscript is part of the name (``x_1``, ``\mathcal{L}_{\text{KL}}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = ["Position", "IndexDecl", "NameDecl", "FunctionDecl", "MatrixDecl", "Declarations",
           "ASSUMPTION_KINDS", "MATRIX_STRUCTURES"]

#: variable kinds and the SymPy assumptions they give
ASSUMPTION_KINDS = {
    "real": {"real": True},
    "positive": {"positive": True},
    "nonnegative": {"nonnegative": True},
    "negative": {"negative": True},
    "complex": {},
    "integer": {"integer": True},
}


#: matrix structures ``%! matrix`` understands, and whether they need a square shape
MATRIX_STRUCTURES = {
    "general": False,
    "symmetric": True,
    "symmetric positive definite": True,
    "diagonal": True,
    "positive diagonal": True,
}


@dataclass(frozen=True)
class Position:
    """A place in a source file (1-based line and column)."""

    file: str
    line: int
    col: int = 1


@dataclass
class IndexDecl:
    """``%! index k = 1..K``: the letter, its free symbol and its size (a positive integer
    symbol, or an Integer for a fixed range)."""

    letter: str
    symbol: Any
    size: Any
    where: Position


@dataclass
class NameDecl:
    r"""A declared name: a variable (``kind`` in :data:`ASSUMPTION_KINDS` or ``"random"``) or a
    defined quantity (``kind == "define"``).

    ``slots`` is ``()`` for a scalar, else a tuple of ``("index", letter)`` /
    ``("label", letter)``; ``label_text`` is the subscript that is part of a scalar's name
    (``"1"`` for ``x_1``) or ``None``. ``obj`` is the SymPy ``Symbol`` (scalar) or
    ``IndexedBase`` (slotted). For a defined quantity ``body`` is its definition; for a
    random variable ``mean`` and ``variance`` of its normal law.
    """

    base: str
    slots: tuple
    label_text: str | None
    kind: str
    obj: Any
    latex: str
    where: Position
    body: Any = None
    mean: Any = None
    variance: Any = None
    text: str = ""
    matrix: Any = None      # the MatrixDecl whose entries this family is (``%! matrix``)

    @property
    def indexed(self):
        return bool(self.slots)

    def index_letters(self):
        return tuple(letter for role, letter in self.slots if role == "index")


@dataclass
class FunctionDecl:
    r"""``%! function \sigma(x) := \frac{1}{1 + e^{-x}}``: parameters (local symbols) and body."""

    base: str
    params: tuple
    body: Any
    latex: str
    where: Position
    text: str = ""

    def apply(self, args):
        return self.body.xreplace(dict(zip(self.params, args)))


@dataclass
class MatrixDecl:
    r"""``%! vector \hat{\theta} (K)`` or ``%! matrix \Sigma (K x K), symmetric positive definite``.

    ``obj`` is the :class:`sympy.MatrixSymbol` the bare name stands for (shape ``rows x
    cols``, sizes as declared: size symbols or integers); ``family`` the :class:`NameDecl`
    of its entries (``\hat{\theta}_k``, ``\Sigma_{kl}``); ``structure`` one of
    :data:`MATRIX_STRUCTURES` (a vector is ``"general"``)."""

    base: str
    obj: Any
    rows: Any
    cols: Any
    structure: str
    family: Any
    latex: str
    where: Position

    @property
    def is_vector(self):
        return self.cols == 1


@dataclass
class Declarations:
    """Everything the directives of a document (and its preamble) declare."""

    indices: dict = field(default_factory=dict)          # letter -> IndexDecl
    sizes: dict = field(default_factory=dict)            # size symbol -> tuple of ints to try
    names: dict = field(default_factory=dict)            # base -> [NameDecl]
    functions: dict = field(default_factory=dict)        # base -> FunctionDecl
    assumptions: list = field(default_factory=list)      # SymPy Booleans
    aliases: dict = field(default_factory=dict)          # (base, subscript text) -> (base, subscript text)
    python_checks: dict = field(default_factory=dict)    # display id -> (module:function, Position)
    skips: dict = field(default_factory=dict)            # display id -> (reason, Position)
    labels: set = field(default_factory=set)             # letters used as labels in declarations
    matrices: dict = field(default_factory=dict)         # base -> MatrixDecl (``%! vector``, ``%! matrix``)
    order: list = field(default_factory=list)            # NameDecl / FunctionDecl in declaration order
    inline_randoms: list = field(default_factory=list)   # NameDecl of \mathbb{E}_{x \sim \mathcal{N}(m, v)}
    laws: dict = field(default_factory=dict)             # name -> (mean, variance): %! define q := \mathcal{N}(m, v)
    directive_text: list = field(default_factory=list)   # every directive, for the cache key

    # ------------------------------------------------------------------ look-ups
    def size_symbols(self):
        return {d.size for d in self.indices.values() if isinstance(d.size, sp.Symbol)}

    def index_of_symbol(self, symbol):
        for d in self.indices.values():
            if d.symbol == symbol:
                return d
        return None

    def matrix_of_object(self, obj):
        """The :class:`MatrixDecl` whose ``obj`` (a MatrixSymbol) is ``obj``, or None."""
        for m in self.matrices.values():
            if m.obj == obj:
                return m
        return None

    def decl_of_object(self, obj):
        """The :class:`NameDecl` whose ``obj`` is ``obj`` (a Symbol or IndexedBase), or None."""
        return self._by_object().get(obj)

    def _by_object(self):
        cache = getattr(self, "_object_cache", None)
        if cache is None or len(cache) != sum(len(v) for v in self.names.values()) + len(self.inline_randoms):
            cache = {d.obj: d for decls in self.names.values() for d in decls}
            cache.update({d.obj: d for d in self.inline_randoms})
            self._object_cache = cache
        return cache

    def variables(self):
        return [d for decls in self.names.values() for d in decls if d.kind != "define"]

    def defines(self):
        return [d for d in self.order if isinstance(d, NameDecl) and d.kind == "define"]

    def randoms(self):
        return [d for decls in self.names.values() for d in decls if d.kind == "random"]
