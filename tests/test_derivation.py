"""The derivation registry of the engine: statements declared once, checks attached by id."""

import pytest
import sympy as sp

from ml2p_symbolic import check
from ml2p_symbolic.engine import kernel
from ml2p_symbolic.engine.certificates import Goal, SignProof
from ml2p_symbolic.engine.derivation import Derivation, default_check
from ml2p_symbolic.engine.records import Claim, Verdict
from ml2p_symbolic.errors import ArgumentError, UnknownClaimError

x = sp.Symbol("x", real=True)


def _demo():
    d = Derivation("demo", lambda: (
        Claim("a", "true identity", "equation", sp.Eq((x + 1) ** 2, x ** 2 + 2 * x + 1)),
        Claim("b", "false identity", "equation", sp.Eq(sp.sqrt(x ** 2), x)),
        Claim("c", "an argument", "argument", sp.GreaterThan(x ** 2, 0))))
    return d


def test_the_default_check_proves_and_refutes_equations_and_leaves_the_rest_open():
    report = _demo().run()
    assert [r.verdict.verdict for r in report.results] == ["verified", "refuted", "open"]
    assert report.derivation == "demo" and report.context == {}


def test_an_attached_check_replaces_the_default_and_a_confirmation_is_appended():
    d = _demo()

    @d.check("c")
    def _c(claim, ctx):
        return kernel.verify(Goal(x ** 2, 0, ">="), SignProof(("assumptions",)), method="square is nonnegative")

    @d.confirm("a", "c")
    def _conf(claim, verdict, ctx):
        return f"second line for {claim.id}"

    results = {r.claim.id: r.verdict for r in d.run().results}
    assert results["c"].method == "square is nonnegative"
    assert results["a"].evidence[-1] == "second line for a" and not results["b"].evidence[-1:] == ("second line for b",)
    assert d.run(numeric=False).results[0].verdict.evidence == ("kernel: exact rewriting: expand",)


def test_a_check_for_an_unknown_id_is_refused():
    d = _demo()
    d.check("typo")(lambda claim, ctx: Verdict("open", "-"))
    with pytest.raises(UnknownClaimError, match="typo"):
        d.run()


def test_a_second_check_for_the_same_id_is_refused():
    d = _demo()
    d.check("a")(lambda claim, ctx: Verdict("open", "-"))
    with pytest.raises(ArgumentError, match="already has a check"):
        d.check("a")(lambda claim, ctx: Verdict("open", "-"))


def test_ids_are_selected_honestly():
    d = _demo()
    assert d.select("b") == ["b"]  # a string is one id, not its characters
    assert d.select(["b", "a", "b"]) == ["b", "a"]  # duplicates once, order kept
    with pytest.raises(ArgumentError, match="no statement ids"):
        d.select([])
    with pytest.raises(UnknownClaimError, match="zz"):
        d.select(["a", "zz"])


def test_unknown_options_are_refused():
    with pytest.raises(ArgumentError, match="takes the options"):
        _demo().run(K=3)


def test_check_of_the_seed_takes_one_id_as_a_string():
    report = check("eq4.1", numeric=False)
    assert [r.claim.id for r in report.results] == ["eq4.1"]
    assert report.context == {"K": 2}


def test_check_of_the_seed_refuses_an_empty_list_and_checks_duplicates_once():
    with pytest.raises(ArgumentError):
        check([])
    report = check(["eq4.2", "eq4.2"], numeric=False)
    assert [r.claim.id for r in report.results] == ["eq4.2"]


def test_default_check_of_a_conjunction_checks_each_equation():
    claim = Claim("both", "two", "equation", sp.And(sp.Eq((x + 1) ** 2, x ** 2 + 2 * x + 1),
                                                   sp.Eq(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1)))
    v = default_check(claim)
    assert v.verdict == "verified" and len(v.evidence) == 3 and v.evidence[-1].startswith("kernel: ")
    # the certificate proves both equations (the column of them), not only one
    both = Goal(sp.Matrix([(x + 1) ** 2, sp.sin(x) ** 2 + sp.cos(x) ** 2]), sp.Matrix([x ** 2 + 2 * x + 1, 1]))
    assert kernel.accepts(both, v.certificate)
    # a conjunction with a false member is not verified
    wrong = Claim("one wrong", "two", "equation", sp.And(sp.Eq((x + 1) ** 2, x ** 2 + 2 * x + 1),
                                                         sp.Eq(sp.sin(x) ** 2 + sp.cos(x) ** 2, 2)))
    assert default_check(wrong).verdict == "refuted"


def test_named_quantities_let_the_default_check_follow_the_chain_rule():
    """A derivation's definitions: dL/dw = dL/dz * dz/dw is checked as written, with z a
    variable of its own where it is differentiated by and its definition elsewhere; a wrong
    chain rule (a missing factor) is refuted."""
    w, z = sp.symbols("w z", real=True)
    L = sp.Function("L")
    right = sp.Eq(sp.Derivative(L(w), w), sp.Derivative(L(z), z) * 3 * w ** 2)
    wrong = sp.Eq(sp.Derivative(L(w), w), sp.Derivative(L(z), z))
    d = Derivation("chain", lambda: (Claim("right", "chain rule", "equation", right),
                                     Claim("wrong", "a factor dropped", "equation", wrong)),
                   definitions=lambda ctx: {L: sp.log(1 + z ** 2), z: w ** 3})
    assert [r.verdict.verdict for r in d.run().results] == ["verified", "refuted"]
    # without the definitions the engine cannot evaluate L: it does not pretend to
    bare = Derivation("bare", lambda: (Claim("right", "chain rule", "equation", right),))
    assert bare.run().results[0].verdict.verdict != "verified"
