r"""``ml2p-proof lsp``: a Language Server Protocol server (stdio) that shows verdicts in the editor.

On open, save and (debounced) change of a ``.tex``/``.md``/``.txt`` document the editor's
text is read with :func:`ml2p_symbolic.engine.latex_input.read_document` (``text=``: the
unsaved buffer, named by its path so reading errors carry its ``FILE:LINE:COL``) and its steps
are checked with :func:`ml2p_symbolic.engine.document.check.check_steps`: each step in a
killable child process with a hard time limit, unchanged steps from the verdict cache. Each
verdict is published as a diagnostic on its relation sign as soon as the step finishes
(:mod:`.diagnostics`); a hover on a relation sign shows the evidence (:mod:`.hover`); a code
action replaces a right side by the corrected statement when the verdict has one.

Threads: the asyncio loop of pygls answers the editor; one checker thread
(:class:`Checker`) drives ``check_steps`` for one document at a time (``check_steps`` is not
reentrant). A newer version of a document cancels its running check (the children are killed)
and the results of an outdated version are never published.

Settings (``initializationOptions`` or the ``ml2p`` section of the workspace configuration):
``preamble`` (a file of ``%!`` directives, relative to the workspace root), ``timeout``
(seconds per step, default 60 as ``check``, so the cache is shared), ``showVerified``
(default true: verified steps as hints), ``debounce`` (seconds after a change, default 0.5),
``cacheDir``, ``jobs``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from ..engine.document.check import DEFAULT_TIMEOUT, check_steps
from ..engine.latex_input import DOCUMENT_SUFFIXES
from .diagnostics import failure_diagnostic, reading_error_diagnostic, step_diagnostic
from .hover import hover_markdown, pending_markdown
from .spans import LineIndex, relation_span, right_side_span

__all__ = ["Settings", "Checker", "ProofServer", "build_server", "serve"]

log = logging.getLogger("ml2p_symbolic.lsp")

SECTION = "ml2p"


@dataclass(frozen=True)
class Settings:
    """The server's settings (see the module docstring for the names the editor uses)."""

    preamble: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    show_verified: bool = True
    debounce: float = 0.5
    cache_dir: str | None = None
    jobs: int | None = None

    def updated(self, options, root=None):
        """A copy with the editor's ``options`` (a dict, camelCase keys) applied; returns
        ``(settings, problems)``, where problems are messages for values that were ignored."""
        if not isinstance(options, dict):
            return self, []
        if isinstance(options.get(SECTION), dict):
            options = options[SECTION]
        new, problems = {}, []
        if "preamble" in options:
            p = options["preamble"]
            if p in (None, ""):
                new["preamble"] = None
            elif isinstance(p, str):
                new["preamble"] = p if os.path.isabs(p) or not root else os.path.join(root, p)
            else:
                problems.append(f"preamble must be a file name, got {p!r}")
        for key, attr, kind, ok in (("timeout", "timeout", float, lambda x: x > 0),
                                    ("debounce", "debounce", float, lambda x: x >= 0),
                                    ("jobs", "jobs", int, lambda x: x >= 1)):
            if key in options and options[key] is not None:
                try:
                    value = kind(options[key])
                    if isinstance(options[key], bool) or not ok(value):
                        raise ValueError
                    new[attr] = value
                except (TypeError, ValueError):
                    problems.append(f"{key} must be a positive number, got {options[key]!r}")
        if "showVerified" in options:
            if isinstance(options["showVerified"], bool):
                new["show_verified"] = options["showVerified"]
            else:
                problems.append(f"showVerified must be true or false, got {options['showVerified']!r}")
        if "cacheDir" in options:
            c = options["cacheDir"]
            if c is None or isinstance(c, str):
                new["cache_dir"] = c or None
            else:
                problems.append(f"cacheDir must be a directory name, got {c!r}")
        return replace(self, **new), problems


# --------------------------------------------------------------------------- one check
@dataclass
class Job:
    """One version of one document to check."""

    uri: str
    version: int
    text: str
    path: str
    settings: Settings
    encoding: str = "utf-16"
    cancel: threading.Event = field(default_factory=threading.Event)


class Checked:
    """What is known of one version of a document: its steps and the verdicts so far (filled
    by the checker thread, read by the event loop; guarded by a lock)."""

    def __init__(self, job):
        self.uri, self.version, self.text = job.uri, job.version, job.text
        self.settings = job.settings
        self.index = LineIndex(job.text, job.encoding)
        self.steps = []
        self.verdicts = {}
        self.errors = []
        self.finished = False
        self._lock = threading.Lock()
        self._shown = {}   # step id -> its diagnostic (a verdict never changes within a version)

    def set_steps(self, steps):
        with self._lock:
            self.steps = list(steps)

    def add_verdict(self, step_id, verdict):
        with self._lock:
            self.verdicts[step_id] = verdict

    def set_errors(self, errors):
        with self._lock:
            self.errors = list(errors)

    def snapshot(self):
        """``(steps, verdicts, errors)`` copied under the lock."""
        with self._lock:
            return list(self.steps), dict(self.verdicts), list(self.errors)

    def diagnostics(self):
        steps, verdicts, errors = self.snapshot()
        out = list(errors)
        for step in steps:
            v = verdicts.get(step.id)
            if v is None:
                continue
            if step.id not in self._shown:
                try:
                    d = step_diagnostic(step, v, self.index, show_verified=self.settings.show_verified)
                except Exception as exc:  # never lose the other steps' diagnostics
                    log.exception("diagnostic of %s", step.id)
                    d = failure_diagnostic(f"{step.id}: the verdict could not be shown: {exc}", self.index)
                self._shown[step.id] = d
            if self._shown[step.id] is not None:
                out.append(self._shown[step.id])
        return out


def document_name(path, language_id=None):
    """The file name the reader is given: the path, with ``.tex``/``.md`` added when its suffix is
    not a document's (an unsaved buffer) according to the editor's language id."""
    if Path(path).suffix.lower() in DOCUMENT_SUFFIXES:
        return path
    return path + (".tex" if (language_id or "").lower() in ("latex", "tex", "plaintex") else ".md")


def run_check(job, checked, on_update):
    """Read ``job.text`` and check its steps, filling ``checked`` and calling ``on_update()``
    whenever something new can be shown. Never raises for a malformed document."""
    from ..engine.document.cache import VerdictCache, default_cache_dir
    from ..engine.latex_input import read_document
    from ..errors import LatexInputError

    s = job.settings
    try:
        preamble_text = None
        if s.preamble:
            preamble_text = Path(s.preamble).read_text(encoding="utf-8")
        doc = read_document(job.path, text=job.text, preamble=s.preamble, preamble_text=preamble_text)
    except LatexInputError as exc:
        checked.set_errors([reading_error_diagnostic(exc, checked.index, job.path)])
        checked.finished = True
        on_update()
        return
    except OSError as exc:
        checked.set_errors([failure_diagnostic(f"cannot read the preamble {s.preamble}: {exc.strerror or exc}",
                                               checked.index)])
        checked.finished = True
        on_update()
        return
    except Exception as exc:  # a reader bug: shown, never a crash
        log.exception("reading %s", job.path)
        checked.set_errors([failure_diagnostic(f"the reader failed: {type(exc).__name__}: {exc}", checked.index)])
        checked.finished = True
        on_update()
        return
    checked.set_steps(doc.steps)
    on_update()
    cache = VerdictCache(s.cache_dir or default_cache_dir())

    def progress(done, total, step_id, verdict):
        if job.cancel.is_set():
            return
        checked.add_verdict(step_id, verdict)
        on_update()

    try:
        check_steps(doc.steps, doc.declarations, timeout=s.timeout, cache=cache, jobs=s.jobs,
                    progress=progress, cancel=job.cancel)
    except Exception as exc:
        log.exception("checking %s", job.path)
        checked.set_errors([failure_diagnostic(f"the checker failed: {type(exc).__name__}: {exc}", checked.index)])
    finally:
        cache.save()
    checked.finished = not job.cancel.is_set()
    on_update()


class Checker:
    """One thread that checks documents one at a time, newest version first, cancelling the
    running check of a document when a newer version of it arrives.

    ``publish(job, checked)`` is called from this thread whenever ``checked`` has news.
    """

    def __init__(self, publish):
        self._publish = publish
        self._cv = threading.Condition()
        self._pending = OrderedDict()
        self._running = None
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="ml2p-checker", daemon=True)
        self._thread.start()

    def submit(self, job):
        """Check ``job`` (replacing a pending or running check of the same document)."""
        with self._cv:
            self._pending.pop(job.uri, None)
            self._pending[job.uri] = job
            if self._running is not None and self._running.uri == job.uri:
                self._running.cancel.set()
            self._cv.notify()

    def cancel(self, uri):
        """Drop the pending and running checks of ``uri``."""
        with self._cv:
            self._pending.pop(uri, None)
            if self._running is not None and self._running.uri == uri:
                self._running.cancel.set()

    def stop(self, wait=2.0):
        with self._cv:
            self._stopped = True
            self._pending.clear()
            if self._running is not None:
                self._running.cancel.set()
            self._cv.notify()
        self._thread.join(timeout=wait)

    def _loop(self):
        try:  # warm up in this process, so that the forked children start ready
            from ..engine.document import steps as _steps  # noqa: F401
            from ..engine.document.cache import engine_fingerprint

            engine_fingerprint()
        except Exception:
            log.exception("warming up the checker")
        while True:
            with self._cv:
                while not self._pending and not self._stopped:
                    self._cv.wait()
                if self._stopped:
                    return
                _, job = self._pending.popitem(last=False)
                self._running = job
            checked = Checked(job)
            try:
                run_check(job, checked, lambda: self._publish(job, checked))
            except Exception:
                log.exception("checking %s", job.uri)
            finally:
                with self._cv:
                    self._running = None


# --------------------------------------------------------------------------- the server
class ProofServer(LanguageServer):
    """The pygls server with the documents' state."""

    def __init__(self):
        from .. import __version__

        super().__init__("ml2p-proof", __version__)
        self.settings = Settings()
        self.versions = {}        # uri -> the newest version the editor sent
        self.languages = {}       # uri -> languageId
        self.results = {}         # uri -> Checked (the newest version checked or being checked)
        self._timers = {}
        self._flush_scheduled = set()
        self._loop = None
        self.checker = Checker(self._from_checker)

    # ---- scheduling
    def loop(self):
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def schedule(self, uri, delay=0.0):
        """Check the editor's current text of ``uri`` after ``delay`` seconds (a later call
        replaces an earlier one: the debounce)."""
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if delay > 0:
            self._timers[uri] = self.loop().call_later(delay, self._submit, uri)
        else:
            self._submit(uri)

    def _submit(self, uri):
        self._timers.pop(uri, None)
        if uri not in self.versions:
            return
        doc = self.workspace.get_text_document(uri)
        path = to_fs_path(uri) or uri.rpartition("/")[2] or "untitled"
        job = Job(uri, self.versions[uri], doc.source, document_name(path, self.languages.get(uri)),
                  self.settings, _encoding_name(self.workspace.position_encoding))
        self.checker.submit(job)

    def _from_checker(self, job, checked):
        """Called in the checker thread: hand the news to the event loop (coalesced)."""
        if job.cancel.is_set():
            return
        self.results[job.uri] = checked
        if job.uri in self._flush_scheduled:
            return
        self._flush_scheduled.add(job.uri)
        try:
            self.loop().call_soon_threadsafe(self._flush, job.uri)
        except RuntimeError:  # the loop has closed: the server is exiting
            pass

    def _flush(self, uri):
        self._flush_scheduled.discard(uri)
        checked = self.results.get(uri)
        if checked is None or self.versions.get(uri) != checked.version:
            return  # closed, or an outdated version
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=checked.diagnostics(), version=checked.version))

    def current(self, uri):
        """The :class:`Checked` of ``uri`` if it is of the editor's current version."""
        checked = self.results.get(uri)
        if checked is None or self.versions.get(uri) != checked.version:
            return None
        return checked

    def apply_settings(self, options):
        settings, problems = self.settings.updated(options, self.workspace.root_path if self._workspace_ready() else None)
        for p in problems:
            self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, f"ml2p-proof lsp: {p}"))
        if settings != self.settings:
            self.settings = settings
            for uri in list(self.versions):
                self.schedule(uri)

    def _workspace_ready(self):
        try:
            self.workspace
            return True
        except Exception:
            return False


def _encoding_name(kind):
    """``"utf-8"``, ``"utf-16"`` or ``"utf-32"`` for the negotiated position encoding."""
    value = getattr(kind, "value", kind)
    return str(value).lower() if value else "utf-16"


def _step_at(checked, offset):
    """The step whose relation sign holds ``offset`` (its end included), or None."""
    steps, _, _ = checked.snapshot()
    for step in steps:
        start, end = relation_span(step, checked.text)
        if start <= offset <= end:
            return step
    return None


def build_server():
    """The :class:`ProofServer` with its handlers registered."""
    server = ProofServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls, params: types.InitializeParams):
        ls.loop()
        root = None
        if params.root_uri:
            root = to_fs_path(params.root_uri)
        elif params.root_path:
            root = params.root_path
        settings, problems = ls.settings.updated(params.initialization_options or {}, root)
        ls.settings = settings
        for p in problems:
            log.warning("ignored setting: %s", p)

    @server.feature(types.INITIALIZED)
    async def initialized(ls, params):
        caps = ls.client_capabilities
        if caps.workspace is not None and caps.workspace.configuration:
            try:
                result = await ls.workspace_configuration_async(
                    types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)]))
            except Exception:
                return
            if result and isinstance(result[0], dict):
                ls.apply_settings(result[0])

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls, params: types.DidChangeConfigurationParams):
        if isinstance(params.settings, dict):
            ls.apply_settings(params.settings)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls, params: types.DidOpenTextDocumentParams):
        uri = params.text_document.uri
        ls.versions[uri] = params.text_document.version
        ls.languages[uri] = params.text_document.language_id
        ls.schedule(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls, params: types.DidChangeTextDocumentParams):
        uri = params.text_document.uri
        ls.versions[uri] = params.text_document.version
        ls.checker.cancel(uri)  # stale work stops now, not after the debounce
        ls.schedule(uri, ls.settings.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls, params: types.DidSaveTextDocumentParams):
        uri = params.text_document.uri
        preamble = ls.settings.preamble
        saved = to_fs_path(uri)
        if preamble and saved and os.path.abspath(saved) == os.path.abspath(preamble):
            for other in list(ls.versions):   # the directives of every document changed
                ls.schedule(other)
        elif uri in ls.versions:
            ls.schedule(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: types.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        timer = ls._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        ls.checker.cancel(uri)
        ls.versions.pop(uri, None)
        ls.languages.pop(uri, None)
        ls.results.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: types.HoverParams):
        checked = ls.current(params.text_document.uri)
        if checked is None:
            return None
        offset = checked.index.offset(params.position.line, params.position.character)
        step = _step_at(checked, offset)
        if step is None:
            return None
        _, verdicts, _ = checked.snapshot()
        verdict = verdicts.get(step.id)
        value = pending_markdown(step) if verdict is None else hover_markdown(step, verdict)
        start, end = relation_span(step, checked.text)
        from .diagnostics import lsp_range

        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=value),
                           range=lsp_range(checked.index, start, end))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls, params: types.CodeActionParams):
        checked = ls.current(params.text_document.uri)
        if checked is None:
            return None
        return corrections(checked, params.range, params.context.diagnostics)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls, params):
        ls.checker.stop()

    return server


def corrections(checked, rng, diagnostics=()):
    """Code actions replacing the right side of each step in ``rng`` whose verdict has a
    ``corrected`` statement with that statement's right side (``sympy.latex``)."""
    import sympy as sp

    from .diagnostics import lsp_range

    steps, verdicts, _ = checked.snapshot()
    lo = checked.index.offset(rng.start.line, rng.start.character)
    hi = checked.index.offset(rng.end.line, rng.end.character)
    actions = []
    for step in steps:
        v = verdicts.get(step.id)
        if v is None or v.corrected is None:
            continue
        s0, s1 = step.offset, step.end
        if hi < s0 or lo > s1:
            continue
        side = right_side_span(step, checked.text)
        if side is None:
            continue
        corrected = v.corrected
        new_rhs = corrected.rhs if isinstance(corrected, sp.core.relational.Relational) else corrected
        try:
            text = sp.latex(new_rhs)
        except Exception:
            continue
        related = [d for d in diagnostics if isinstance(d.data, dict) and d.data.get("id") == step.id]
        edit = types.TextEdit(range=lsp_range(checked.index, *side), new_text=text)
        actions.append(types.CodeAction(
            title=f"Replace the right side of {step.id} with the corrected statement",
            kind=types.CodeActionKind.QuickFix, diagnostics=related or None,
            edit=types.WorkspaceEdit(changes={checked.uri: [edit]})))
    return actions


def serve():
    """Run the server on stdin/stdout until the editor ends it.

    The protocol gets private copies of the standard streams' file descriptors; the process's
    own descriptor 1 (which the checking children inherit) is pointed at standard error, so a
    stray print can never corrupt the stream, and ``sys.stdin`` becomes ``/dev/null``: a forked
    child closes ``sys.stdin`` first thing, which would wait forever for the lock of a buffer
    the reader thread is blocked in."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="ml2p-proof lsp: %(levelname)s: %(message)s")
    protocol_in = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, sys.stdin.fileno())
    os.close(devnull)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdin = open(os.devnull, encoding="utf-8")
    sys.stdout = sys.stderr
    server = build_server()
    try:
        server.start_io(protocol_in, protocol_out)
    finally:
        server.checker.stop(wait=2.0)
    return 0
