r"""The ``%!`` directives: declarations written as LaTeX comment lines.

======================  ==============================================================
``%! index``            ``i = 1..n, k = 1..K`` (sizes are positive integers; ``1..3`` fixes one)
``%! real``             ``a_{ik}, b_i, \theta_{jk}, x`` (likewise ``positive``, ``nonnegative``,
                        ``negative``, ``integer``, ``complex``)
``%! function``         ``\sigma(x) := \frac{1}{1 + e^{-x}}``
``%! define``           ``z_i := \sum_{k=1}^{K} a_{ik}\theta_{jk} - b_i``
``%! random``           ``\varepsilon_k \sim \mathcal{N}(0, 1)`` (mean, variance)
``%! vector``           ``\hat{\theta} (K), \mu (K)`` (real vectors; a declared family
                        ``\hat{\sigma}_k`` gives the vector of its members)
``%! matrix``           ``\Sigma (K x K), symmetric positive definite`` (also ``symmetric``,
                        ``diagonal``, ``positive diagonal``; none: a general real matrix)
``%! assume``           ``x > 0, y \le 1`` (restricts the domain of every step)
``%! sizes``            ``n = 1..2, K = 1..3`` (the concrete sizes indexed steps are checked at)
``%! alias``            ``\hat{\theta}_{ik} = \hat{\theta}_{jk}`` (read one spelling as another)
``%! skip``             ``eq2: reason`` (displays not checked, reported as skipped)
======================  ==============================================================

Directives are applied in passes (indices and sizes, then variables, then vectors and
matrices, then the rest in the order written), so a ``%! real`` line may precede the
``%! index`` line it uses.
"""

from __future__ import annotations

import re

import sympy as sp

from .declarations import ASSUMPTION_KINDS, MATRIX_STRUCTURES, FunctionDecl, IndexDecl, MatrixDecl, NameDecl, Position
from .matrix_nodes import is_matrix
from .nodes import Diff, EvalAt, Expect
from .source import parse_piece
from .translate import Translator, base_key, scalar_name, sympy_name

__all__ = ["DIRECTIVES", "Directive", "apply_directives", "find_directives"]

DIRECTIVES = ("index", "sizes", *ASSUMPTION_KINDS, "random", "vector", "matrix", "function", "define",
              "assume", "alias", "python", "skip")

_DIRECTIVE_RE = re.compile(r"^[ \t]*%!(?P<body>.*)$", re.M)
_HTML_DIRECTIVE_RE = re.compile(r"<!--\s*%!(?P<body>.*?)-->")
_ID_RE = r"[A-Za-z0-9_.:\-]+"


class Directive:
    """One directive: keyword, operand text and the offset of the operand in its source."""

    def __init__(self, source, keyword, text, offset, keyword_offset):
        self.source = source
        self.keyword = keyword
        self.text = text
        self.offset = offset
        self.keyword_offset = keyword_offset

    def error(self, message, at=0):
        return self.source.error(self.offset + at, message)

    def position(self):
        line, col = self.source.position(self.keyword_offset)
        return Position(self.source.name, line, col)


def find_directives(source, *, html_comments=False):
    """Every ``%!`` line of ``source`` (and ``<!-- %! .. -->`` when ``html_comments``)."""
    found = []
    patterns = [_DIRECTIVE_RE] + ([_HTML_DIRECTIVE_RE] if html_comments else [])
    for pattern in patterns:
        for m in pattern.finditer(source.text):
            body_start = m.start("body")
            body = m.group("body")
            km = re.match(r"\s*([a-zA-Z]+)", body)
            if not km:
                raise source.error(body_start, "a directive needs a keyword: " + ", ".join(DIRECTIVES))
            keyword = km.group(1)
            if keyword not in DIRECTIVES:
                raise source.error(body_start + km.start(1), f"unknown directive '%! {keyword}' "
                                   f"(known: {', '.join(DIRECTIVES)})")
            rest_start = body_start + km.end()
            rest = body[km.end():]
            found.append(Directive(source, keyword, rest, rest_start, body_start + km.start(1)))
    found.sort(key=lambda d: d.offset)
    return found


def apply_directives(decls, directives):
    """Fill ``decls`` (:class:`~.declarations.Declarations`) from ``directives`` in three passes."""
    for d in directives:
        decls.directive_text.append(f"{d.keyword} {' '.join(d.text.split())}")
    for d in directives:
        if d.keyword == "index":
            _index(decls, d)
    for d in directives:
        if d.keyword == "sizes":
            _sizes(decls, d)
    for d in directives:
        if d.keyword in ASSUMPTION_KINDS:
            for text, at in _split_operands(d):
                _declare_variable(decls, d, text, at, d.keyword)
        elif d.keyword == "random":
            for text, at in _split_operands(d):
                _declare_random_name(decls, d, text, at)
    for d in directives:
        if d.keyword == "vector":
            _vector(decls, d)
        elif d.keyword == "matrix":
            _matrix(decls, d)
    for d in directives:
        if d.keyword == "alias":
            _alias(decls, d)
    for d in directives:
        handler = _LATER.get(d.keyword)
        if handler is not None:
            handler(decls, d)
    return decls


# --------------------------------------------------------------------------- helpers
def _split_operands(d, sep=","):
    """Top-level comma-separated operands of a directive as (text, offset in d.text)."""
    out, depth, start = [], 0, 0
    text = d.text
    for pos, ch in enumerate(text):
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch == sep and depth == 0:
            out.append((text[start:pos], start))
            start = pos + 1
    out.append((text[start:], start))
    result = [(t, at) for t, at in out if t.strip()]
    if not result:
        raise d.error(f"'%! {d.keyword}' needs an operand")
    return result


def _parse(decls, d, text, at, *, local=None, bound=None):
    """Parse the operand ``text`` (at ``d.offset + at``) as a chain; return (translator, tree)."""
    tree = parse_piece(text, d.source, d.offset + at)
    tr = Translator(decls, d.source, text, d.offset + at, local=local)
    if bound:
        tr.bound.extend(bound)
    return tr, tree.children[0]


def _name_tree(tr, chain, what):
    """The (atom, sub) of a chain that is one name, possibly subscripted."""
    if len(chain.children) != 1:
        raise tr.error(chain, f"{what} must be a single name")
    post = tr._single_postfix(chain.children[0])
    if post is None:
        raise tr.error(chain, f"{what} must be a single name")
    atom, sub, sup = tr._split_postfix(post)
    if sup is not None or not tr._is_name_atom(atom):
        raise tr.error(chain, f"{what} must be a single name (e.g. x, \\hat{{\\theta}}_{{jk}})")
    return atom, sub


def _slots_of(decls, tr, atom, sub):
    """(key, slots, label_text, latex) of a name being declared."""
    ref = tr._name_ref(atom, sub)
    latex = ref.written()
    if ref.text is None:
        return ref.key, (), None, latex
    if ref.items is not None and any(it in decls.indices for it in ref.items):
        slots = []
        for it in ref.items:
            if it.isdigit():
                raise tr.error(ref.sub_offset, f"{latex}: a declared subscript is an index letter or a label "
                               "letter, not a number")
            slots.append(("index", it) if it in decls.indices else ("label", it))
        return ref.key, tuple(slots), None, latex
    return ref.key, (), ref.text, latex


def _register(decls, decl, tr, offset):
    existing = decls.names.setdefault(decl.base, [])
    for other in existing:
        if other.slots == decl.slots and other.label_text == decl.label_text or (
                other.slots and decl.slots and len(other.slots) == len(decl.slots)):
            raise tr.error(offset, f"{decl.latex} is already declared at "
                           f"{other.where.file}:{other.where.line}")
    if decl.base in decls.functions:
        raise tr.error(offset, f"{decl.base} is already declared as a function")
    existing.append(decl)
    for role, letter in decl.slots:
        if role == "label":
            decls.labels.add(letter)
    decls.order.append(decl)


def _make_object(key, slots, label, assumptions):
    if slots:
        return sp.IndexedBase(sympy_name(key), **assumptions)
    return sp.Symbol(scalar_name(key, label), **assumptions)


# --------------------------------------------------------------------------- index, sizes
_RANGE_RE = re.compile(r"\s*([a-zA-Z])\s*=\s*1\s*\.\.\s*(?:([a-zA-Z])|(\d+))\s*$")


def _index(decls, d):
    for text, at in _split_operands(d):
        m = _RANGE_RE.match(text)
        if not m:
            raise d.error("expected 'letter = 1..N' (N a letter or a positive integer), e.g. "
                          "'%! index i = 1..n, k = 1..K'", at + len(text) - len(text.lstrip()))
        letter = m.group(1)
        if letter in decls.indices:
            raise d.error(f"index {letter} is declared twice", at)
        if m.group(2):
            if m.group(2) == letter:
                raise d.error(f"the size of index {letter} must be another letter", at)
            size = sp.Symbol(m.group(2), integer=True, positive=True)
        else:
            size = sp.Integer(int(m.group(3)))
            if size < 1:
                raise d.error("an index range must be non-empty", at)
        decls.indices[letter] = IndexDecl(letter, sp.Symbol(letter, integer=True, positive=True), size,
                                          d.position())


_SIZES_RE = re.compile(r"\s*([a-zA-Z])\s*=\s*(\d+)\s*\.\.\s*(\d+)\s*$")


def _sizes(decls, d):
    known = {s.name: s for s in decls.size_symbols()}
    for text, at in _split_operands(d):
        m = _SIZES_RE.match(text)
        if not m:
            raise d.error("expected 'N = lo..hi', e.g. '%! sizes n = 1..2, K = 1..3'", at)
        name, lo, hi = m.group(1), int(m.group(2)), int(m.group(3))
        if name not in known:
            raise d.error(f"{name} is not the size of a declared index", at)
        if not 1 <= lo <= hi or hi > 6:
            raise d.error("sizes must satisfy 1 <= lo <= hi <= 6", at)
        if known[name] in decls.sizes:
            raise d.error(f"the sizes of {name} are given twice (first at {_first(decls, 'sizes', name)}); "
                          "give them once", at)
        decls.sizes[known[name]] = tuple(range(lo, hi + 1))
        _remember(decls, "sizes", name, d)


# --------------------------------------------------------------------------- variables
def _declare_variable(decls, d, text, at, kind):
    tr, chain = _parse(decls, d, text, at)
    atom, sub = _name_tree(tr, chain, f"each operand of '%! {kind}'")
    key, slots, label, latex = _slots_of(decls, tr, atom, sub)
    if key in (r"\mathbb{E}",):
        raise tr.error(chain, f"{key} is the expectation; it cannot be declared a variable")
    obj = _make_object(key, slots, label, ASSUMPTION_KINDS[kind])
    decl = NameDecl(key, slots, label, kind, obj, latex, d.position(), text=text.strip())
    _register(decls, decl, tr, tr._offset(chain))
    return decl


def _declare_random_name(decls, d, text, at):
    parts = re.split(r"\\sim(?![a-zA-Z])", text)
    if len(parts) != 2:
        raise d.error("expected 'x \\sim \\mathcal{N}(mean, variance)'", at)
    tr, chain = _parse(decls, d, parts[0], at)
    atom, sub = _name_tree(tr, chain, "a random variable")
    key, slots, label, latex = _slots_of(decls, tr, atom, sub)
    obj = _make_object(key, slots, label, {"real": True})
    decl = NameDecl(key, slots, label, "random", obj, latex, d.position(), text=text.strip())
    _register(decls, decl, tr, tr._offset(chain))


def _random_law(decls, d):
    for text, at in _split_operands(d):
        left, right = re.split(r"\\sim(?![a-zA-Z])", text)
        law_at = at + len(left) + len(r"\sim")
        m = re.match(r"\s*\\mathcal\s*\{\s*N\s*\}\s*\(", right)
        if not m or not right.rstrip().endswith(")"):
            raise d.error("only normal laws are understood: \\mathcal{N}(mean, variance)", law_at)
        inner_start = m.end()
        inner = right[inner_start:right.rstrip().rfind(")")]
        args = _split_top_with_offsets(inner)
        if len(args) != 2:
            raise d.error("\\mathcal{N} takes a mean and a variance", law_at)
        values = []
        for arg, off in args:
            tr, chain = _parse(decls, d, arg, law_at + inner_start + off)
            if len(chain.children) != 1:
                raise tr.error(chain, "a parameter of \\mathcal{N} must be an expression")
            values.append(tr.scalar(tr.checked(lambda: tr.expr(chain.children[0]), chain), chain,
                                    "a parameter of \\mathcal{N}"))
        tr0, chain0 = _parse(decls, d, left, at)
        atom, sub = _name_tree(tr0, chain0, "a random variable")
        key, slots, label, _ = _slots_of(decls, tr0, atom, sub)
        decl = next(x for x in decls.names[key] if x.kind == "random" and x.slots == slots and x.label_text == label)
        if values[1].is_zero or values[1].is_negative:
            raise d.error("the variance of a normal law must be positive", law_at)
        decl.mean, decl.variance = values


def _split_top_with_offsets(text):
    out, depth, start = [], 0, 0
    for pos, ch in enumerate(text):
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append((text[start:pos], start))
            start = pos + 1
    out.append((text[start:], start))
    return [(t, o) for t, o in out if t.strip()]


# --------------------------------------------------------------------------- vector, matrix
_SHAPED_RE = re.compile(r"^(?P<name>.*?)\(\s*(?P<shape>[^()]*?)\s*\)\s*$", re.S)
_SIZE_RE = re.compile(r"^(?:[a-zA-Z]|\d+)$")


def _shaped_operand(decls, d, text, at, what):
    """(translator, key, latex, sizes) of ``NAME (SIZE)`` or ``NAME (R x C)``."""
    m = _SHAPED_RE.match(text)
    if not m:
        raise d.error(f"expected '{what}', e.g. " + ("'\\hat{\\theta} (K)'" if what.startswith("name (")
                                                     else "'\\Sigma (K x K)'"), at + len(text) - len(text.lstrip()))
    tr, chain = _parse(decls, d, m.group("name"), at)
    atom, sub = _name_tree(tr, chain, f"the name in '%! {d.keyword}'")
    if sub is not None:
        raise tr.error(chain, f"declare the vector or matrix by its bare name; its entries get subscripts "
                       f"(write {base_key(atom)} (K), then use {base_key(atom)}_k)")
    key = base_key(atom if atom.data != "brace" else tr._single_postfix(atom.children[0]).children[0])
    shape_at = at + m.start("shape")
    parts = re.split(r"\s*(?:\\times(?![a-zA-Z])|x)\s*", m.group("shape"))
    sizes = []
    for part in parts:
        part = part.strip()
        if not _SIZE_RE.match(part):
            raise d.error(f"a size is a declared size letter or a positive integer, got {part!r}", shape_at)
        if part.isdigit():
            value = sp.Integer(int(part))
            if value < 1:
                raise d.error("a size must be positive", shape_at)
        else:
            known = {s.name: s for s in decls.size_symbols()}
            if part not in known:
                raise d.error(f"{part} is not the size of a declared index (declare e.g. '%! index k = 1..{part}')",
                              shape_at)
            value = known[part]
        sizes.append(value)
    return tr, chain, key, sizes


def _entry_letter(decls, d, size, at):
    """The first declared index letter running over 1..size (the slot of the entries)."""
    for letter, idx in decls.indices.items():
        if idx.size == size:
            return letter
    raise d.error(f"no declared index runs over 1..{size}: declare one for the entries "
                  f"(e.g. '%! index m = 1..{size}')", at)


def _vector(decls, d):
    for text, at in _split_operands(d):
        tr, chain, key, sizes = _shaped_operand(decls, d, text, at, "name (size)")
        if len(sizes) != 1:
            raise tr.error(chain, "a vector has one size: '%! vector v (K)' (use '%! matrix' for a matrix)")
        size = sizes[0]
        if key in decls.matrices:
            raise tr.error(chain, f"{key} is already declared as a vector or matrix")
        existing = decls.names.get(key, [])
        family = None
        for other in existing:
            if len(other.slots) == 1 and other.slots[0][0] == "index" and other.kind != "define" \
                    and decls.indices[other.slots[0][1]].size == size:
                family = other
            else:
                raise tr.error(chain, f"{key} is already declared as {other.latex} (line {other.where.line}); "
                               "a vector view needs a family with one index over its size")
        if family is None:
            letter = _entry_letter(decls, d, size, at)
            obj = sp.IndexedBase(sympy_name(key), real=True)
            family = NameDecl(key, (("index", letter),), None, "real", obj, "%s_%s" % (key, letter),
                              d.position(), text=text.strip())
            _register(decls, family, tr, tr._offset(chain))
        mobj = sp.MatrixSymbol(sympy_name(key), size, 1)
        mdecl = MatrixDecl(key, mobj, size, sp.Integer(1), "general", family, key, d.position())
        family.matrix = mdecl
        decls.matrices[key] = mdecl


def _matrix(decls, d):
    operands = _split_operands(d)
    structure = "general"
    last_text, last_at = operands[-1]
    if "(" not in last_text:
        words = " ".join(last_text.split())
        if words in ("positive definite", "spd"):
            words = "symmetric positive definite"
        if words not in MATRIX_STRUCTURES or words == "general":
            raise d.error(f"unknown matrix structure {words!r} (known: "
                          + ", ".join(k for k in MATRIX_STRUCTURES if k != "general") + ")", last_at)
        structure = words
        operands = operands[:-1]
        if not operands:
            raise d.error("'%! matrix' needs a name and its shape: '\\Sigma (K x K)'")
    for text, at in operands:
        tr, chain, key, sizes = _shaped_operand(decls, d, text, at, "name (rows x cols)")
        if len(sizes) != 2:
            raise tr.error(chain, "a matrix has two sizes: '%! matrix A (n x K)'")
        rows, cols = sizes
        if MATRIX_STRUCTURES[structure] and rows != cols:
            raise tr.error(chain, f"a {structure} matrix is square; got {rows} x {cols}")
        if key in decls.matrices or key in decls.names or key in decls.functions:
            raise tr.error(chain, f"{key} is already declared")
        slots = (("index", _entry_letter(decls, d, rows, at)), ("index", _entry_letter(decls, d, cols, at)))
        kind = "real" if structure == "general" else "matrix"
        obj = sp.IndexedBase(sympy_name(key), real=True)
        family = NameDecl(key, slots, None, kind, obj, "%s_{%s%s}" % (key, slots[0][1], slots[1][1]),
                          d.position(), text=text.strip())
        _register(decls, family, tr, tr._offset(chain))
        mobj = sp.MatrixSymbol(sympy_name(key), rows, cols)
        mdecl = MatrixDecl(key, mobj, rows, cols, structure, family, key, d.position())
        family.matrix = mdecl
        decls.matrices[key] = mdecl


# --------------------------------------------------------------------------- function, define
def _split_definition(d):
    m = re.search(r":=", d.text)
    if not m:
        raise d.error(f"expected 'name := definition' in '%! {d.keyword}'")
    return d.text[:m.start()], 0, d.text[m.end():], m.end()


def _function(decls, d):
    head, head_at, body, body_at = _split_definition(d)
    tr, chain = _parse(decls, d, head, head_at)
    if len(chain.children) != 1:
        raise tr.error(chain, "expected 'f(x) := ...'")
    sum_tree = chain.children[0]
    term = sum_tree.children[0] if sum_tree.data == "sum" and len(sum_tree.children) == 1 else None
    items = list(term.children) if term is not None else []
    if len(items) != 2:
        raise tr.error(chain, "expected a function name and its parameters in parentheses: f(x, y) := ...")
    atom, sub, sup = tr._split_postfix(items[0])
    if sub is not None or sup is not None or not tr._is_name_atom(atom):
        raise tr.error(items[0], "a function's name is a plain name (\\sigma, f, \\mathrm{KL})")
    key = base_key(atom if atom.data != "brace" else tr._single_postfix(atom.children[0]).children[0])
    group = items[1].children[0]
    if group.data != "paren":
        raise tr.error(items[1], "a function's parameters go in parentheses")
    params = []
    for p in group.children:
        post = tr._single_postfix(p)
        if post is None or len(post.children) != 1 or not tr._is_name_atom(post.children[0]):
            raise tr.error(p, "a parameter is a plain name")
        pkey = base_key(post.children[0])
        params.append((pkey, sp.Symbol(f"_{sympy_name(pkey)}_param_{len(params)}")))
    if key in decls.functions or key in decls.names:
        raise tr.error(atom, f"{key} is already declared")
    tr_body, body_chain = _parse(decls, d, body, body_at, local=dict(params))
    if len(body_chain.children) != 1:
        raise tr_body.error(body_chain, "a function's definition is one expression")
    value = tr_body.scalar(tr_body.checked(lambda: tr_body.expr(body_chain.children[0]), body_chain),
                           body_chain, "a function's value")
    latex = f"{key}({', '.join(k for k, _ in params)})"
    fn = FunctionDecl(key, tuple(s for _, s in params), value, latex, d.position(), text=d.text.strip())
    decls.functions[key] = fn
    decls.order.append(fn)


def _define(decls, d):
    head, head_at, body, body_at = _split_definition(d)
    tr, chain = _parse(decls, d, head, head_at)
    atom, sub = _name_tree(tr, chain, "the defined name")
    key, slots, label, latex = _slots_of(decls, tr, atom, sub)
    tr_body, body_chain = _parse(decls, d, body, body_at)
    if len(body_chain.children) != 1:
        raise tr_body.error(body_chain, "a definition is one expression")
    if re.match(r"\s*\\mathcal\s*\{\s*N\s*\}\s*\(", body):
        # a law: q := \mathcal{N}(mean, variance), for D_{\mathrm{KL}}(q \| p)
        if slots or label is not None:
            raise tr.error(chain, "a law is named without a subscript: q := \\mathcal{N}(m, v)")
        if key in decls.laws or key in decls.names or key in decls.functions:
            raise tr.error(chain, f"{key} is already declared")
        decls.laws[key] = tr_body.normal_law(body_chain.children[0], body_chain, positive=True)
        return
    value = tr_body.checked(lambda: tr_body.expr(body_chain.children[0]), body_chain)
    if is_matrix(value):
        if slots or label is not None:
            raise tr.error(chain, f"a matrix-valued definition is named without a subscript: {key} := ...")
        if key in decls.matrices:
            raise tr.error(chain, f"{key} is already declared as a vector or matrix")
        obj = sp.MatrixSymbol(sympy_name(key), *value.shape)
    else:
        obj = _make_object(key, slots, label, {})
    own = {decls.indices[letter].symbol for role, letter in slots if role == "index"}
    stray = sorted(str(s) for s in value.free_symbols
                   if any(s == i.symbol for i in decls.indices.values()) and s not in own)
    if stray:
        raise tr_body.error(body_chain, f"the definition of {latex} uses the free index {', '.join(stray)}, "
                            "which is not a subscript of the defined name (sum over it, or add it)")
    decl = NameDecl(key, slots, label, "define", obj, latex, d.position(), body=value, text=d.text.strip())
    _register(decls, decl, tr, tr._offset(chain))


def _assume(decls, d):
    for text, at in _split_operands(d):
        tr, chain = _parse(decls, d, text, at)
        exprs, rels, _ = tr.chain(chain)
        if len(rels) != 1:
            raise tr.error(chain, "each assumption is one relation, e.g. x > 0")
        if any(is_matrix(e) for e in exprs):
            raise tr.error(chain, "an assumption is a relation between scalars")
        from .translate import relation_class

        if rels[0][0] == "~=":
            raise tr.error(chain, "an assumption cannot be an approximation (\\approx)")
        if rels[0][0] == "=":
            raise tr.error(chain, "an equality is not used as an assumption (the checker does not substitute "
                           "it): write it into the steps, or make one side a definition ('%! define')")
        unusable = [e for e in exprs if isinstance(e, sp.Basic) and e.has(sp.Sum, sp.Product, Diff, EvalAt, Expect)]
        if unusable:
            raise tr.error(chain, "an assumption about a sum, product, derivative or expectation is not used by "
                           "the checker: state it for the members (u_i \\ge 0) or write it into the steps")
        decls.assumptions.append(relation_class(rels[0][0])(exprs[0], exprs[1]))


def _alias(decls, d):
    parts = d.text.split("=")
    if len(parts) != 2:
        raise d.error("expected '%! alias written = meant', e.g. \\hat{\\theta}_{ik} = \\hat{\\theta}_{jk}")
    refs = []
    at = 0
    for part in parts:
        tr, chain = _parse(decls, d, part, at)
        atom, sub = _name_tree(tr, chain, "each side of an alias")
        refs.append(tr._name_ref(atom, sub))
        at += len(part) + 1
    written = (refs[0].key, refs[0].text)
    if written in decls.aliases:
        raise d.error(f"{refs[0].written()} is aliased twice (first at {_first(decls, 'alias', written)}); "
                      "give one alias per spelling", len(d.text) - len(d.text.lstrip()))
    decls.aliases[written] = (refs[1].key, refs[1].text)
    _remember(decls, "alias", written, d)


def _python(decls, d):
    """``%! python`` is refused: a verdict handed out by a function keyed on a display's id is
    not a proof of the display (the function never saw its text)."""
    raise d.error("'%! python' is no longer supported: a verdict chosen by a display's id proves "
                  "nothing about what the display says; write the display in notation the reader "
                  "understands, or mark it '%! skip ID: reason'")


def _skip(decls, d):
    m = re.match(r"\s*(?P<ids>[^:]+?)\s*:\s*(?P<reason>\S.*)$", d.text)
    if not m:
        raise d.error("expected '%! skip ID[, ID...]: reason'")
    for ident in re.split(r"\s*,\s*", m.group("ids")):
        if not re.fullmatch(_ID_RE, ident):
            raise d.error(f"{ident!r} is not a display id")
        _not_yet_routed(decls, d, ident, m.start("ids"))
        decls.skips[ident] = (m.group("reason").strip(), d.position())


def _not_yet_routed(decls, d, ident, at):
    """Refuse a display named by a second ``%! python``/``%! skip`` (the last would win)."""
    for table, what in ((decls.python_checks, "python"), (decls.skips, "skip")):
        if ident in table:
            where = table[ident][1]
            raise d.error(f"display {ident} is already named by '%! {what}' at {where.file}:{where.line}:{where.col}; "
                          "name each display once", at)


def _remember(decls, what, key, d):
    """Note where the directive ``what`` set ``key`` (for the refusal of a repeat)."""
    decls.__dict__.setdefault("_directive_places", {})[(what, key)] = d.position()


def _first(decls, what, key):
    where = decls.__dict__.get("_directive_places", {}).get((what, key))
    return "an earlier line" if where is None else f"{where.file}:{where.line}:{where.col}"


_LATER = {"random": _random_law, "function": _function, "define": _define, "assume": _assume,
          "python": _python, "skip": _skip}
