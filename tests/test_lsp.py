r"""The language server ``ml2p-proof lsp``: the verdict -> diagnostic mapping (unit tests) and the
server driven end to end over stdio by a real LSP client (pytest-lsp).

The documents are tiny, their steps quick, and every server gets a fresh cache directory, so
each verdict is computed by the server under test. The expected positions are found in the
documents' text by the test itself (the column of the relation sign on its line).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest
import sympy as sp

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from ml2p_symbolic.engine.latex_input import read_document
from ml2p_symbolic.engine.records import Verdict
from ml2p_symbolic.errors import LatexInputError
from ml2p_symbolic.lsp.diagnostics import reading_error_diagnostic, severity_of, step_diagnostic, verdict_message
from ml2p_symbolic.lsp.spans import LineIndex, relation_span, right_side_span


def _proved(method, detail=""):
    """A verified verdict, as only the kernel makes one (x + x = 2x by ``structural``)."""
    from ml2p_symbolic.engine import kernel
    from ml2p_symbolic.engine.certificates import Goal, Rewriting

    x = sp.Symbol("x")
    return kernel.verify(Goal(x + x, 2 * x), Rewriting(("structural",)), method=method, detail=detail)

ROOT = Path(__file__).resolve().parents[1]
S = types.DiagnosticSeverity
x, y = sp.symbols("x y", real=True)


# --------------------------------------------------------------------------- unit: the mapping
def test_severity_of_each_verdict():
    assert severity_of("refuted") == S.Error
    assert severity_of("verified") == S.Hint
    assert severity_of("verified", show_verified=False) is None
    for other in ("open", "conditional", "tested", "some verdict added later"):
        assert severity_of(other) == S.Warning
        assert severity_of(other, show_verified=False) == S.Warning


def _doc(text, name="doc.md"):
    return read_document(name, text=text)


def test_step_diagnostic_sits_on_the_relation_sign_in_utf16_units():
    # an astral character (2 UTF-16 code units, 1 Python character) before the sign on its line
    text = "%! real x, y\n\n$$\nx^2 + 1 \\ge 2 x\n$$\n\n\U0001d49c $$ x = x $$\n"
    doc = _doc(text)
    index = LineIndex(text)
    d = step_diagnostic(doc.steps[0], _proved("expand"), index)
    assert (d.range.start.line, d.range.start.character) == (3, 8)
    assert (d.range.end.line, d.range.end.character) == (3, 11)   # the three characters of \ge
    d = step_diagnostic(doc.steps[1], Verdict("refuted", "numeric counterexample", {x: 1}, ("1", "2")), index)
    line = text.splitlines()[6]
    col = line.index("=")
    assert d.range.start.line == 6
    assert d.range.start.character == col + 1   # the astral letter counts twice in UTF-16
    assert d.severity == S.Error and d.code == "refuted" and d.data == {"id": doc.steps[1].id}
    d8 = step_diagnostic(doc.steps[1], Verdict("refuted", "m", {x: 1}), LineIndex(text, "utf-8"))
    assert d8.range.start.character == len(line[:col].encode("utf-8"))
    assert step_diagnostic(doc.steps[0], _proved("expand"), index, show_verified=False) is None


def test_messages_carry_the_counterexample_and_the_condition():
    refuted = verdict_message("L4", Verdict("refuted", "numeric counterexample", {x: sp.Rational(1, 2), y: -1},
                                            ("0.25", "1.25")))
    assert "x = 1/2" in refuted and "y = -1" in refuted and "lhs = 0.25" in refuted and "rhs = 1.25" in refuted
    cond = verdict_message("L8", Verdict("conditional", "condition search", condition=sp.Eq(x, 0),
                                         detail="holds at $x = 0$ only"))
    assert cond.startswith("L8: conditional") and "holds exactly when x = 0" in cond
    opened = verdict_message("L9", Verdict("open", "timed out", detail="no verdict within 5 s"))
    assert "no verdict within 5 s" in opened
    assert verdict_message("L1", _proved("expand", detail="long story")) == "L1: verified (expand)"


def test_reading_error_at_its_line_and_column():
    text = "%! real x\n\n$$\nx + = 1\n$$\n"
    with pytest.raises(LatexInputError) as info:
        _doc(text, "/tmp/a.md")
    err = info.value
    d = reading_error_diagnostic(err, LineIndex(text), "/tmp/a.md")
    assert d.severity == S.Error and d.code == "reading-error"
    assert (d.range.start.line, d.range.start.character) == (err.line - 1, err.col - 1)
    assert err.message in d.message
    # an error in the preamble: at the document's start, its own FILE:LINE:COL in the message
    pre = LatexInputError("unknown directive", "/tmp/pre.tex", 3, 4)
    d = reading_error_diagnostic(pre, LineIndex(text), "/tmp/a.md")
    assert (d.range.start.line, d.range.start.character) == (0, 0) and "/tmp/pre.tex:3:4" in d.message


def test_right_side_spans():
    text = ("%! real a, b, c, w\n\n\\begin{align}\na &= b + c \\\\\n  &= \\frac{w}{2} \\label{x}\n\\end{align}\n\n"
            "$$\na + b \\le \\left( c + w \\right).\n$$\n")
    doc = _doc(text, "doc.tex")
    sides = [text[slice(*right_side_span(s, text))] for s in doc.steps]
    assert sides == ["b + c", "\\frac{w}{2}", "\\left( c + w \\right)"]
    assert [text[slice(*relation_span(s, text))] for s in doc.steps] == ["=", "=", "\\le"]


# --------------------------------------------------------------------------- unit: check_steps for an editor
def _steps(n):
    from ml2p_symbolic.engine.latex_input import Step

    return [Step(f"L{k}", "doc.md", k, 1, "relation", f"x_{k} = x_{k}", f"L{k}", relation="=",
                 lhs=sp.Symbol(f"x_{k}"), rhs=sp.Symbol(f"x_{k}")) for k in range(n)]


def test_check_steps_reports_quick_steps_while_a_slow_one_runs_then_cancels_it(tmp_path, monkeypatch):
    import threading

    from ml2p_symbolic.engine.document import check
    from ml2p_symbolic.engine.latex_input import Declarations

    def check_one(n):  # inherited by the forked children: step 0 hangs, the others are quick
        if n == 0:
            (tmp_path / "slow.pid").write_text(str(os.getpid()))
            time.sleep(120)
        return Verdict("refuted", "stand-in")

    monkeypatch.setattr(check, "_check_one", check_one)
    cancel = threading.Event()
    seen = []

    def progress(done, total, step_id, verdict):
        seen.append(step_id)
        if len(seen) == 3:      # every quick step is in while the slow one still runs
            for _ in range(300):
                if (tmp_path / "slow.pid").exists():
                    break
                time.sleep(0.1)
            cancel.set()

    verdicts = check.check_steps(_steps(4), Declarations(), timeout=60, jobs=2, progress=progress, cancel=cancel)
    assert seen == ["L1", "L2", "L3"]
    assert verdicts[0] is None and [v.verdict for v in verdicts[1:]] == ["refuted"] * 3
    pid = int((tmp_path / "slow.pid").read_text())
    with pytest.raises(ProcessLookupError):   # killed and reaped, not left running
        os.kill(pid, 0)
    assert check._WORK is None


def test_without_pygls_the_command_says_what_to_install(tmp_path):
    import subprocess

    fake = tmp_path / "pygls"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'pygls'\", name='pygls')\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    out = subprocess.run([sys.executable, "-m", "ml2p_symbolic", "lsp"], env=env, cwd=ROOT, capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert out.returncode == 2
    assert "pip install 'ml2p-symbolic[lsp]'" in out.stderr and "Traceback" not in out.stderr


# --------------------------------------------------------------------------- end to end
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "ml2p_symbolic", "lsp"],
                                              server_env=ENV))
async def client(lsp_client: LanguageClient, tmp_path):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        root_uri=tmp_path.as_uri(),
        initialization_options={"cacheDir": str(tmp_path / "cache"), "timeout": 60, "debounce": 0.1},
    ))
    yield
    await lsp_client.shutdown_session()


DOC = """%! real x, y

$$
(x + y)^2 = x^2 + 2 x y + y^2
$$

$$
(x + y)^2 = x^2 + 2 x y + y^2 + 1
$$

$$
(x + y)^2 = x^2 + y^2
$$
"""


async def _until(predicate, what, timeout=90.0):
    """Wait (polling the client's state) until ``predicate()`` is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _open(client, path, text, version=1, language="markdown"):
    uri = path.as_uri()
    path.write_text(text, encoding="utf-8")
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)))
    return uri


def _change(client, uri, text, version):
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def _sign(text, line_no, sign="="):
    """The expected LSP range of the first ``sign`` on 0-based line ``line_no`` of ``text``."""
    col = text.splitlines()[line_no].index(sign)
    return ((line_no, col), (line_no, col + len(sign)))


def _where(d):
    return ((d.range.start.line, d.range.start.character), (d.range.end.line, d.range.end.character))


def _by_line(client, uri):
    return {d.range.start.line: d for d in client.diagnostics.get(uri, [])}


@pytest.mark.asyncio
async def test_open_edit_hover_close(client: LanguageClient, tmp_path):
    uri = _open(client, tmp_path / "doc.md", DOC)
    await _until(lambda: len(client.diagnostics.get(uri, [])) == 3, "three diagnostics")
    diags = _by_line(client, uri)
    assert sorted(diags) == [3, 7, 11]
    assert [diags[n].severity for n in (3, 7, 11)] == [S.Hint, S.Error, S.Warning]
    assert [diags[n].code for n in (3, 7, 11)] == ["verified", "refuted", "conditional"]
    for n in (3, 7, 11):
        assert _where(diags[n]) == _sign(DOC, n)
    assert "fails at" in diags[7].message          # the counterexample, in the message
    assert "holds exactly when" in diags[11].message

    # hover on the refuted sign: the evidence in Markdown, the math in LaTeX
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(7, DOC.splitlines()[7].index("="))))
    assert hover is not None and hover.contents.kind == types.MarkupKind.Markdown
    assert "REFUTED" in hover.contents.value and "fails at $" in hover.contents.value
    assert "(x + y)^2 = x^2 + 2 x y + y^2 + 1" in hover.contents.value
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(0, 3)))
    assert nothing is None

    # edit the wrong step into a right one: its diagnostic turns into a hint
    fixed = DOC.replace("(x + y)^2 = x^2 + 2 x y + y^2 + 1", "(x - y)^2 = x^2 - 2 x y + y^2")
    _change(client, uri, fixed, 2)
    await _until(lambda: 7 in _by_line(client, uri) and _by_line(client, uri)[7].code == "verified",
                 "the edited step verified")
    diags = _by_line(client, uri)
    assert diags[7].severity == S.Hint and _where(diags[7]) == _sign(fixed, 7)
    assert len(diags) == 3

    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=uri)))
    await _until(lambda: len(client.diagnostics.get(uri, [None])) == 0, "the diagnostics cleared on close")


@pytest.mark.asyncio
async def test_code_action_replaces_the_right_side(client: LanguageClient, tmp_path):
    # a refuted derivative: the checker proposes the simplified left side as the right side
    text = ("%! real x\n\n"
            "$$\n\\frac{d}{dx}\\left(x e^{x}\\right) = 1 - b_i \\tag{4.3}\n$$\n").replace("1 - b_i", "x e^{x}")
    uri = _open(client, tmp_path / "seed.md", text)
    await _until(lambda: len(client.diagnostics.get(uri, [])) == 1, "the diagnostic of eq4.3")
    (diag,) = client.diagnostics[uri]
    assert diag.severity == S.Error and diag.code == "refuted" and _where(diag) == _sign(text, 3)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag])))
    assert len(actions) == 1
    (edit,) = actions[0].edit.changes[uri]
    line = text.splitlines()[3]
    start = line.index("x e^{x} \\tag")
    assert _where(edit) == ((3, start), (3, start + len("x e^{x}")))
    x = sp.Symbol("x", real=True)
    assert edit.new_text == sp.latex(sp.factor(sp.diff(x * sp.exp(x), x)))  # (x + 1) e^x
    assert actions[0].diagnostics and actions[0].diagnostics[0].data == diag.data
    # no action away from the step
    none = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(types.Position(0, 0), types.Position(0, 1)),
        context=types.CodeActionContext(diagnostics=[])))
    assert not none


@pytest.mark.asyncio
async def test_malformed_documents_give_diagnostics_not_a_crash(client: LanguageClient, tmp_path):
    bad = "%! real x\n\n$$\nx + = 1\n$$\n"
    uri = _open(client, tmp_path / "bad.md", bad)
    await _until(lambda: len(client.diagnostics.get(uri, [])) == 1, "the reading error")
    (d,) = client.diagnostics[uri]
    with pytest.raises(LatexInputError) as info:
        read_document(str(tmp_path / "bad.md"), text=bad)
    assert d.severity == S.Error and d.code == "reading-error"
    assert (d.range.start.line, d.range.start.character) == (info.value.line - 1, info.value.col - 1)
    for version, text in enumerate(["%! real x\n\n$$\nx = 1\n", "%! nonsense x\n$$ x = x $$\n",
                                    "$$\n\\frac{x}{ = 1\n$$\n", "\\begin{align}\n", "", "\x00\ufffd$$$$"], start=2):
        _change(client, uri, text, version)
        await _until(lambda: client.diagnostics.get(uri) is not None, "diagnostics")
        await asyncio.sleep(0.3)
    good = "%! real x\n\n$$\n2 x = x + x\n$$\n"
    _change(client, uri, good, 20)
    await _until(lambda: [d.code for d in client.diagnostics.get(uri, [])] == ["verified"], "the repaired document")
    assert _where(client.diagnostics[uri][0]) == _sign(good, 3)


@pytest.mark.asyncio
async def test_settings_preamble_and_hidden_verified_steps(client: LanguageClient, tmp_path):
    (tmp_path / "pre.tex").write_text("%! real x, y\n", encoding="utf-8")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"ml2p": {"preamble": "pre.tex", "showVerified": False}}))
    text = DOC.replace("%! real x, y\n", "")     # the declarations come from the preamble
    uri = _open(client, tmp_path / "nodecl.md", text)
    await _until(lambda: len(client.diagnostics.get(uri, [])) == 2, "two diagnostics")
    diags = _by_line(client, uri)
    assert sorted(diags) == [6, 10]       # the verified step (line 2) shows nothing
    assert [diags[6].code, diags[10].code] == ["refuted", "conditional"]
    # saving the preamble re-checks the open documents with its new directives
    (tmp_path / "pre.tex").write_text("%! real x\n", encoding="utf-8")
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        types.TextDocumentIdentifier(uri=(tmp_path / "pre.tex").as_uri())))
    await _until(lambda: [d.code for d in client.diagnostics.get(uri, [])] == ["reading-error"], "y undeclared")
    assert "undeclared name y" in client.diagnostics[uri][0].message


@pytest.mark.asyncio
async def test_positions_in_the_negotiated_encoding(utf8_client: LanguageClient, tmp_path):
    client, result = utf8_client, utf8_client.initialize_result
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
    text = "%! real x\n\ncafé \U0001d49c $$ x = x $$\n"
    uri = _open(client, tmp_path / "enc.md", text)
    await _until(lambda: len(client.diagnostics.get(uri, [])) == 1, "the diagnostic")
    line = text.splitlines()[2]
    (d,) = client.diagnostics[uri]
    assert d.range.start.line == 2
    assert d.range.start.character == len(line[:line.index("=")].encode("utf-8"))   # bytes, not characters


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "ml2p_symbolic", "lsp"],
                                              server_env=ENV))
async def utf8_client(lsp_client: LanguageClient, tmp_path):
    result = await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf8])),
        initialization_options={"cacheDir": str(tmp_path / "cache")},
    ))
    lsp_client.initialize_result = result
    yield
    await lsp_client.shutdown_session()


def _recording_client():
    """The pytest-lsp client, also keeping every publication as ``(uri, version, codes)``."""
    from pytest_lsp.client import make_test_lsp_client

    client = make_test_lsp_client()
    client.published = []
    features = client.protocol.fm.features
    store = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params):
        client.published.append((params.uri, params.version, [d.code for d in params.diagnostics]))
        return store(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    return client


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "ml2p_symbolic", "lsp"],
                                              server_env=ENV, client_factory=_recording_client))
async def recording_client(lsp_client: LanguageClient, tmp_path):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        initialization_options={"cacheDir": str(tmp_path / "cache"), "debounce": 0.1},
    ))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_an_outdated_version_is_never_published(recording_client: LanguageClient, tmp_path):
    client = recording_client
    # an expectation without a closed form takes seconds; the document changes while it is checked
    slow = ("%! real x\n%! random \\varepsilon \\sim \\mathcal{N}(0, 1)\n%! function \\sigma(t) := \\frac{1}{1 + e^{-t}}\n\n"
            "$$\n\\mathbb{E}_{\\varepsilon}\\left[\\sigma(x + \\varepsilon)\\right] = \\sigma(x) \\tag{4.3}\n$$\n\n"
            "$$\n2 x = x + x + 1\n$$\n")
    uri = _open(client, tmp_path / "slow.md", slow)
    await _until(lambda: any(v == 1 and codes for u, v, codes in client.published), "the quick step of version 1")
    assert not any(v == 1 and "conditional" in codes and len(codes) == 2 for u, v, codes in client.published)
    sent = len(client.published)
    _change(client, uri, slow.replace("x + x + 1", "x + x"), 2)
    await _until(lambda: [d.code for d in client.diagnostics.get(uri, [])] == ["conditional", "verified"], "version 2")
    later = client.published[sent:]
    assert later and all(v == 2 for u, v, codes in later)   # nothing of version 1 after the change
