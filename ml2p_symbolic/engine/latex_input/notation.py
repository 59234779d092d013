r"""The notation of researchers' drafts (issue 16), as a mixin of the
:class:`~.translate.Translator`: what the declarations decide about juxtaposition, primes,
``\partial_x``, integrals, expectations over a law written in the subscript, and KL divergences.

* **letter runs**: ``uv`` (not a declared name, every letter a declared scalar) is u v;
* **name before a parenthesis**: a product unless the parenthesis is a list of names; a defined
  quantity written with names it depends on is that quantity (``\ell(\theta)``); else refused,
  naming both readings (``p(x)``);
* **primes**: ``\sigma'(x)`` for a one-parameter function, ``P'`` for a quantity of one variable;
* ``\partial_x F``; ``\int_a^b F \,dx`` (SymPy ``Integral``);
* ``\mathbb{E}_{x \sim \mathcal{N}(m, v)}[F]`` and ``D_{\mathrm{KL}}(q \| p)`` for normal laws
  (an :class:`~.nodes.Expect` over a variable that exists only there).
"""

from __future__ import annotations

import sympy as sp
from lark import Token, Tree

from .names import NameRef, base_key, sympy_name
from .nodes import Diff, Expect

__all__ = ["DraftNotation", "is_number", "ASSUMPTION_KINDS_REAL"]

#: declared kinds a variable of integration may have (a real line)
ASSUMPTION_KINDS_REAL = ("real", "positive", "nonnegative", "negative")


def is_number(value):
    """Whether ``value`` is a SymPy number (``2``, ``\\pi``, ``e``)."""
    return isinstance(value, sp.Expr) and value.is_number


class DraftNotation:
    """Translator rules for the notation of drafts (mixed into :class:`~.translate.Translator`)."""

    def _subscript_name(self, sarg):
        """The name a subscript is (``\\partial_x``, ``\\partial_{\\theta_k}``)."""
        if sarg.data in ("sarg_char", "sarg_greek", "sarg_accent"):
            return NameRef(base_key(sarg), None, None, self._offset(sarg))
        if sarg.data == "sarg_group" and sarg.children[0].data == "sublist":
            subitems = [c for c in sarg.children[0].children if not isinstance(c, Token)]
            if len(subitems) == 1 and len(subitems[0].children) == 1:
                post = self._single_postfix(subitems[0].children[0])
                if post is not None:
                    atom, sub, sup = self._split_postfix(post)
                    if sup is None and self._is_name_atom(atom):
                        return self._name_ref(atom, sub)
        raise self.error(sarg, "\\partial_x differentiates with respect to one name")

    # ------------------------------------------------------------------ integrals
    def _integral(self, item, rest):
        r"""``\int_a^b f \,dx`` (limits may be ``\pm\infty``): a SymPy ``Integral`` binding x. The
        differential (``dx``, ``d\theta``, ``\mathrm{d}x``) ends the term; x is a fresh letter or a
        declared real scalar variable."""
        atom, sub, sup = self._split_postfix(item)
        if sub is None or sup is None:
            raise self.error(atom, "write the limits of an integral: \\int_{a}^{b} .. \\,dx")
        if not rest:
            raise self.error(atom, "an integral needs an integrand and its differential dx")
        last = rest[-1]
        ref, width = None, 1
        if isinstance(last, Tree) and last.data == "postfix" and len(last.children) == 1 \
                and isinstance(last.children[0], Tree) and last.children[0].data == "word":
            word = str(last.children[0].children[0])
            if len(word) == 2 and word[0] == "d":
                ref = NameRef(word[1], None, None, self._offset(last) + 1)
        if ref is None and len(rest) >= 2:
            kind, order, _ = self._differential(rest[-2])
            var_atom = rest[-1].children[0] if isinstance(rest[-1], Tree) and rest[-1].data == "postfix" else None
            if kind == "d" and order is None and len(rest[-1].children) == 1 and self._is_name_atom(var_atom):
                ref, width = self._name_ref(var_atom, None), 2
        if ref is None:
            raise self.error(rest[-1], "an integral ends with its differential: \\int_a^b f(x) \\,dx")
        if "d" in self.decls.names or "d" in self.local:
            raise self.error(rest[-width], "ambiguous: d is a declared name, so 'dx' may be a product")
        key = ref.key
        declared = [d for d in self.decls.names.get(key, []) if not d.slots and d.label_text is None]
        if declared and declared[0].kind not in ASSUMPTION_KINDS_REAL:
            raise self.error(ref.offset, f"cannot integrate over {key}: it is a {declared[0].kind} name")
        if key in self.decls.functions or key in self.decls.indices or key in self.decls.matrices \
                or (not declared and self._declared_name(key)) or key in ("e", r"\pi"):
            raise self.error(ref.offset, f"cannot integrate over {key}: it is already a name here")
        var = declared[0].obj if declared else sp.Symbol(sympy_name(key), real=True)
        lower = self.scalar(self._script_value(sub), sub, "a limit")
        upper = self.scalar(self._script_value(sup), sup, "a limit")
        body_items = rest[:-width]
        if not body_items:
            raise self.error(atom, "the integral has no integrand")
        saved = dict(self.local)
        self.local[key] = var
        try:
            body = self.scalar(self._product(body_items), atom, "the integrand")
        finally:
            self.local = saved
        return sp.Integral(body, (var, lower, upper))

    # ------------------------------------------------------------------ inline laws
    def _inline_law(self, atom, sub):
        r"""The ``subitem_sim`` trees of ``\mathbb{E}_{x \sim \mathcal{N}(m, v)}`` (else None)."""
        if sub is None or sub.data != "sarg_group" or sub.children[0].data != "sublist":
            return None
        subitems = [c for c in sub.children[0].children if not isinstance(c, Token)]
        if not any(c.data == "subitem_sim" for c in subitems):
            return None
        if base_key(atom if atom.data != "brace" else self._single_postfix(atom.children[0]).children[0]) \
                != r"\mathbb{E}" or r"\mathbb{E}" in self.decls.names:
            raise self.error(sub, "'\\sim' is only understood in the subscript of \\mathbb{E} "
                             "(\\mathbb{E}_{x \\sim \\mathcal{N}(m, v)}[..]) and in '%! random'")
        if not all(c.data == "subitem_sim" for c in subitems):
            raise self.error(sub, "write every variable of the expectation with its law: "
                             "\\mathbb{E}_{x \\sim \\mathcal{N}(m, v)}")
        return subitems

    def _inline_expectation(self, atom, sub, sup, items, i):
        r"""``\mathbb{E}_{x \sim \mathcal{N}(m, v)}[f(x)]``: the expectation over a fresh normal
        variable x with mean m and variance v (an :class:`Expect` over a random variable that
        exists only inside the brackets). x must not be declared; v must be nonnegative under the
        declarations."""
        laws = self._inline_law(atom, sub)
        nxt = items[i + 1] if i + 1 < len(items) else None
        if self._group_kind(nxt) not in ("paren", "bracket") or sup is not None:
            raise self.error(atom, "\\mathbb{E}_{x \\sim ..} needs its argument in brackets right after it")
        bound = {}
        for law in laws:
            post = self._single_postfix(law.children[0])
            if post is None or len(post.children) != 1 or not self._is_name_atom(post.children[0]):
                raise self.error(law, "the variable of an expectation is one plain name: x \\sim \\mathcal{N}(m, v)")
            key = base_key(post.children[0])
            if key in bound or self._declared_name(key) or key in self.decls.names or key in self.decls.functions \
                    or any(bl == key for bl, _, _ in self.bound) or key in (r"e", r"\pi"):
                raise self.error(law, f"{key} is already a name here: the variable of \\mathbb{{E}}_{{.. \\sim ..}} "
                                 "must be a fresh letter")
            mean, variance = self.normal_law(law.children[2], law)
            obj = sp.Dummy(sympy_name(key), real=True)
            line, col = self.source.position(self.base + self._offset(law))
            from .declarations import NameDecl, Position

            self.decls.inline_randoms.append(NameDecl(key, (), None, "random", obj, key, Position(self.source.name, line, col),
                                                      mean=mean, variance=variance, text=self.text_of(law)))
            bound[key] = obj
        saved = dict(self.local)
        self.local.update(bound)
        try:
            args, group = self._group_args(nxt)
        finally:
            self.local = saved
        if len(args) != 1:
            raise self.error(group, "an expectation takes one argument")
        value = Expect(self.scalar(args[0], group, "an expectation's argument"), tuple(bound.values()))
        for script in nxt.children[1:]:
            if script.data != "sup":
                raise self.error(script, "a subscript after \\mathbb{E}[..] is not understood")
            value = self.power(value, script.children[0], script)
        return value, 2

    def normal_law(self, expr_tree, node, positive=False):
        r"""(mean, variance) of ``\mathcal{N}(m, v)`` (in a subscript, a ``%! define`` or a KL
        divergence); the variance must be nonnegative (``positive``: positive) under the
        declarations."""
        items = self._term_items(expr_tree)
        ok = items is not None and len(items) == 2 and all(isinstance(t, Tree) and t.data == "postfix" for t in items)
        if ok:
            head, args = items
            ok = len(head.children) == 1 and self._is_name_atom(head.children[0]) \
                and base_key(head.children[0]) == r"\mathcal{N}" and self._group_kind(args) == "paren" \
                and len(args.children) == 1
        if not ok:
            raise self.error(node, "only normal laws are understood here: x \\sim \\mathcal{N}(mean, variance)")
        values, group = self._group_args(args)
        if len(values) != 2:
            raise self.error(group, "\\mathcal{N} takes a mean and a variance")
        mean = self.scalar(values[0], group, "a mean")
        variance = self.scalar(values[1], group, "a variance")
        if (variance.is_positive if positive else variance.is_nonnegative) is not True:
            raise self.error(group, f"the variance {sp.sstr(variance)} is not known to be "
                             f"{'positive' if positive else 'nonnegative'}: declare what makes it so "
                             "(e.g. '%! positive v')")
        return mean, variance

    # ------------------------------------------------------------------ KL divergence
    _KL_NAMES = {("D", r"\mathrm{KL}"), ("D", "KL"), ("D", r"\operatorname{KL}"), ("D", r"\text{KL}"),
                 (r"\mathrm{KL}", None), (r"\operatorname{KL}", None), ("KL", None)}

    def _kl(self, ref, pair):
        r"""``D_{\mathrm{KL}}(q \| p)`` for normal laws q, p (written ``\mathcal{N}(m, v)`` or
        declared ``%! define q := \mathcal{N}(m, v)``): the expectation over x ~ q of
        log q(x) - log p(x), the normal log-densities expanded by SymPy (an :class:`Expect` the
        step checker evaluates like any other)."""
        if (ref.key, ref.text) not in self._KL_NAMES:
            raise self.error(pair, "'\\|' is only understood in a KL divergence, D_{\\mathrm{KL}}(q \\| p)")
        if ref.key in self.decls.names or ref.key in self.decls.functions:
            raise self.error(ref.offset, f"ambiguous: {ref.written()} is a declared name and a KL divergence")
        if len(pair.children) != 1:
            raise self.error(pair.children[1], "a subscript or power after D_{\\mathrm{KL}}(..) is not understood")
        atom = pair.children[0]
        laws = [self._law(atom.children[0]), self._law(atom.children[2])]
        x = sp.Dummy("x", real=True)
        (mq, vq), (mp, vp) = laws
        from .declarations import NameDecl, Position

        line, col = self.source.position(self.base + self._offset(pair))
        self.decls.inline_randoms.append(NameDecl("x", (), None, "random", x, "x", Position(self.source.name, line, col),
                                                  mean=mq, variance=vq, text=self.text_of(atom)))

        def log_density(m, v):
            # both factors are positive (v > 0, x real), so the logarithm splits
            return sp.expand_log(sp.log(sp.exp(-(x - m) ** 2 / (2 * v)) / sp.sqrt(2 * sp.pi * v)), force=True)

        return Expect(log_density(mq, vq) - log_density(mp, vp), (x,))

    def _law(self, expr_tree):
        post = self._single_postfix(expr_tree)
        if post is not None and len(post.children) == 1 and self._is_name_atom(post.children[0]):
            key = base_key(post.children[0])
            if key in self.decls.laws:
                return self.decls.laws[key]
            raise self.error(expr_tree, f"{key} is not a declared law: declare '%! define {key} := "
                             "\\mathcal{N}(mean, variance)', or write \\mathcal{N}(m, v)")
        return self.normal_law(expr_tree, expr_tree, positive=True)

    # ------------------------------------------------------------------ primes
    def _prime_sarg(self, sarg):
        """The number of primes a superscript is (``^\\prime``, ``^{\\prime\\prime}``), or 0."""
        if sarg.data == "sarg_prime":
            return 1
        if sarg.data != "sarg_group" or sarg.children[0].data != "sublist":
            return 0
        subitems = [c for c in sarg.children[0].children if not isinstance(c, Token)]
        if len(subitems) != 1 or len(subitems[0].children) != 1:
            return 0
        items = self._term_items(subitems[0].children[0])
        if not items or not all(isinstance(it, Tree) and it.data == "postfix" and len(it.children) == 1
                                and isinstance(it.children[0], Tree) and it.children[0].data == "primecmd"
                                for it in items):
            return 0
        return len(items)

    def _prime_order(self, item):
        """(order, subscript) when ``item`` is a name with primes (``\\sigma'``, ``P_i^{\\prime}``),
        else None; refuses a prime mixed with a power."""
        if not (isinstance(item, Tree) and item.data == "postfix") or not self._is_name_atom(item.children[0]):
            return None
        order, sub, power = 0, None, None
        for script in item.children[1:]:
            if script.data == "prime":
                order += len(str(script.children[0]))
            elif script.data == "sup" and self._prime_sarg(script.children[0]):
                order += self._prime_sarg(script.children[0])
            elif script.data == "sub" and sub is None:
                sub = script.children[0]
            else:
                power = script
        if not order:
            return None
        if power is not None:
            raise self.error(power, "a prime and a power on one name: write (f'(x))^2")
        return order, sub

    def _primed(self, items, i):
        r"""``\sigma'(x)``, ``f''(x)`` (a declared one-parameter function: its derivative at the
        argument) or ``P'``, ``P^{\prime}`` (a defined quantity of exactly one variable: its
        derivative with respect to that variable, ``P'(	heta)`` alike). Returns (value, items used)."""
        item = items[i]
        order, sub = self._prime_order(item)
        ref = self._name_ref(item.children[0], sub)
        nxt = items[i + 1] if i + 1 < len(items) else None
        if ref.text is None and ref.key in self.decls.functions:
            fdecl = self.decls.functions[ref.key]
            if len(fdecl.params) != 1:
                raise self.error(item, f"{ref.key}' : a prime is only understood on a function of one variable "
                                 f"({ref.key} has {len(fdecl.params)}); write \\frac{{\\partial}}{{\\partial x}}")
            if self._group_kind(nxt) != "paren":
                raise self.error(item, f"{ref.key}{chr(39) * order} needs its argument in parentheses")
            args, group = self._group_args(nxt)
            if len(args) != 1:
                raise self.error(group, f"{ref.key} takes 1 argument, got {len(args)}")
            arg = self.scalar(args[0], group, f"the argument of {ref.key}")
            t = fdecl.params[0]
            value = sp.diff(fdecl.body, t, order).xreplace({t: arg})
            for sup in self._subscripted_arguments(None, nxt, ref.key)[1]:
                value = self.power(value, sup.children[0], sup)
            return value, 2
        value = self._resolve_value(ref)
        base = value.base if isinstance(value, sp.Indexed) else value
        decl = self.decls.decl_of_object(base)
        if decl is None or decl.kind != "define":
            raise self.error(item, f"a prime on {ref.written()}: it is not a declared function (%! function) or "
                             "a defined quantity (%! define)")
        if self._group_kind(nxt) == "paren" and self._parenthesis_reading(ref, value, None, nxt) == "quantity":
            args, _ = self._group_args(nxt)
            if len(args) == 1 and isinstance(args[0], sp.Symbol):
                # P'(\theta): the derivative of P as a function of the one variable written
                return Diff(value, [(args[0], order)]), 2
            raise self.error(nxt, f"ambiguous prime on {ref.written()}: a derivative in which of "
                             f"{self.text_of(nxt.children[0]).strip()}? write \\frac{{\\partial ..}}{{\\partial x}}")
        leaves = sorted((o for o in self._quantity_dependencies(decl, set())
                         if self.decls.decl_of_object(o).kind != "define"), key=sp.default_sort_key)
        if len(leaves) != 1 or not isinstance(leaves[0], sp.Symbol):
            names = ", ".join(sp.sstr(o) for o in leaves) or "no variable"
            raise self.error(item, f"ambiguous prime on {ref.written()}: it depends on {names}, not on one scalar "
                             "variable; write \\frac{d ..}{d x}")
        return Diff(value, [(leaves[0], order)]), 1

    # ------------------------------------------------------------------ juxtaposition
    def _split_letter_runs(self, items):
        r"""``uv`` (an undeclared run of letters each of which is a declared scalar name) is
        the product of its letters, as LaTeX typesets it; a script on the run belongs to its
        last letter (``uv_i`` is u v_i, ``xe^{x}`` is x e^x). A run with any letter that is not
        a declared scalar (or ``e``) is left alone (and refused as an undeclared name)."""
        out = None
        for n, item in enumerate(items):
            letters = self._letter_run(item)
            if letters is None:
                if out is not None:
                    out.append(item)
                continue
            if out is None:
                out = list(items[:n])
            atom = item.children[0]
            tok = atom.children[0]
            for k, ch in enumerate(letters):
                letter = Token("WORD", ch, start_pos=tok.start_pos + k, end_pos=tok.start_pos + k + 1)
                scripts = item.children[1:] if k == len(letters) - 1 else []
                out.append(Tree("postfix", [Tree("word", [letter]), *scripts]))
        return items if out is None else out

    def _letter_run(self, item):
        if not (isinstance(item, Tree) and item.data == "postfix"):
            return None
        atom = item.children[0]
        if not (isinstance(atom, Tree) and atom.data == "word"):
            return None
        word = str(atom.children[0])
        if len(word) < 2 or self._declared_name(word) or word in self.decls.names or word in self.decls.functions:
            return None
        if any(key == word for key, _ in self.decls.aliases):
            return None
        has_sub = any(sc.data == "sub" for sc in item.children[1:])
        last = word[-1]
        last_ok = self._scalar_letter(last) or (has_sub and bool(self.decls.names.get(last)))
        return word if last_ok and all(self._scalar_letter(ch) for ch in word[:-1]) else None

    def _scalar_letter(self, ch):
        """Whether the single letter ``ch`` stands for a scalar here (a declared unsubscripted
        variable or quantity, a function parameter, a bound or declared index, a size, or
        Euler's e when e is not declared)."""
        if ch in self.local or any(bl == ch for bl, _, _ in self.bound):
            return True
        if ch in self.decls.functions or ch in self.decls.matrices:
            return False
        decls = self.decls.names.get(ch, [])
        if any(not d.slots and d.label_text is None for d in decls):
            return True
        if decls:
            return False
        if ch in self.decls.indices or any(isinstance(d.size, sp.Symbol) and d.size.name == ch
                                           for d in self.decls.indices.values()):
            return True
        return ch == "e"

    def _parenthesis_reading(self, ref, value, sup, group_item):
        r"""How a declared name (not a function) followed by a parenthesis reads.

        * ``"quantity"``: the parenthesis lists names the defined quantity depends on
          (``\ell(	heta)`` with ``\ell := ..	heta..``, ``P_i(	heta)``): the quantity itself.
        * ``"product"``: the parenthesis holds anything but a list of names (``p(1 - p)``,
          ``P_i (1 - P_i)``, ``	heta\left(u - \sigma(z)
ight)``): the declarations say the
          name is no function, so this is a product.
        * otherwise refused, naming both readings: ``p(x)`` with p a variable (p times x, or
          p as a function of x), ``\ell(x)`` with \ell not depending on x.
        """
        group = group_item.children[0]
        if group.data == "brace":
            group = self._single_postfix(group.children[0]).children[0]
        # a list of names as written (not a value that happens to be one: \theta + 0 x)
        for arg in group.children:
            post = self._single_postfix(arg)
            if post is None:
                return "product"
            atom, _, arg_sup = self._split_postfix(post)
            if arg_sup is not None or not self._is_name_atom(atom):
                return "product"
        args = [self.expr(c) for c in group.children]
        names = [a for a in args if isinstance(a, (sp.Symbol, sp.Indexed)) and not is_number(a)]
        if len(names) != len(args):
            return "product"
        written = self.text_of(group).strip()
        decl = self.decls.decl_of_object(value.base if isinstance(value, sp.Indexed) else value)
        if decl is not None and decl.kind == "define" and sup is None:
            deps = self._quantity_dependencies(decl, set())
            missing = [a for a in names if (a.base if isinstance(a, sp.Indexed) else a) not in deps]
            if not missing:
                return "quantity"
            raise self.error(group, f"ambiguous '{ref.written()}{written}': {ref.written()} does not depend on "
                             f"{sp.sstr(missing[0])}, so this is either the product {ref.written()} \\cdot "
                             f"{written} or a function of it; write \\cdot, or '%! function'")
        raise self.error(group, f"ambiguous '{ref.written()}{written}': the product {ref.written()} \\cdot "
                         f"{written}, or {ref.written()} as a function of {written}? {ref.written()} is declared "
                         "a variable, not a function: write \\cdot for the product, or declare the function "
                         "with '%! function'")

    def _quantity_dependencies(self, decl, seen):
        """The variables and quantities (Symbols, IndexedBases) a defined quantity depends on,
        through the definitions of the quantities it uses."""
        out = set()
        if id(decl) in seen or decl.body is None:
            return out
        seen.add(id(decl))
        atoms = [(a.base, a.base) for a in decl.body.atoms(sp.Indexed)] + \
                [(a, a) for a in decl.body.atoms(sp.Symbol)]
        for key, obj in atoms:
            d = self.decls.decl_of_object(key)
            if d is None:
                continue
            out.add(obj)
            if d.kind == "define":
                out |= self._quantity_dependencies(d, seen)
        return out
