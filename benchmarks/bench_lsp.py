"""Time the language server from ``didSave`` to diagnostics for a 30-step document (target:
< 1 s when only one step changed).

Starts ``python -m ml2p_symbolic lsp`` as an editor would (stdio, a pygls client), with an
empty cache directory, opens a Markdown document of 30 distinct quick steps, and measures the
time from ``textDocument/didSave`` until the diagnostics of every step of that version have
arrived:

* cold: an empty cache (every step checked in its own process, ``--jobs`` at once);
* unchanged: saved again with nothing changed (every verdict from the cache);
* one step changed: one step edited (``didChange``, then ``didSave`` at once, as an editor
  saving the edit does), until its new verdict is shown; also the time until the first
  diagnostic of that version arrives (the 29 unchanged steps, from the cache).

With ``--document FILE`` (and ``--preamble FILE``) a real document instead: the changed step is
one whose right side gets ``+ 0`` appended (chosen so that exactly one step's text changes).

    python benchmarks/bench_lsp.py [--steps 30] [--jobs 2] [--repeat 3]
    python benchmarks/bench_lsp.py --document docs/derivations/general_prior.tex
"""

import argparse
import asyncio
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402


def document(n_steps, changed=None, salt=0):
    r"""Markdown with ``n_steps`` displays ``(x + k)^2 = x^2 + 2 k x + k^2`` (k = 1..n), all true
    and all distinct; step ``changed`` uses ``k + 1000 + salt`` instead (a new text, not cached)."""
    lines = ["%! real x", ""]
    for k in range(1, n_steps + 1):
        c = k + 1000 + salt if k == changed else k
        lines += ["$$", f"(x + {c})^2 = x^2 + {2 * c} x + {c * c}", "$$", ""]
    return "\n".join(lines)


class Client(LanguageClient):
    def __init__(self):
        super().__init__("bench-lsp", "1")
        self.received = []   # (time, uri, version, diagnostics)

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams):
            self.received.append((time.perf_counter(), params.uri, params.version, params.diagnostics))


async def wait_for(client, since, version, pred, timeout=600.0):
    """The time of the first publication after ``since`` of ``version`` that satisfies ``pred``."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for t, _, v, diags in client.received:
            if t >= since and v == version and pred(diags):
                return t
        await asyncio.sleep(0.002)
    raise TimeoutError("no diagnostics")


def edits_of(path, preamble, count):
    """Up to ``count`` versions of the document at ``path``, each with one step's right side
    followed by ``+ 0`` (exactly one step's text differs from the original)."""
    from ml2p_symbolic.engine.latex_input import read_document
    from ml2p_symbolic.lsp.spans import right_side_span

    text = path.read_text(encoding="utf-8")
    doc = read_document(path, text=text, preamble=preamble)
    before = {s.id: s.text for s in doc.steps}
    order = list(range(len(doc.steps) // 2, len(doc.steps))) + list(range(len(doc.steps) // 2))
    out = []
    for n in order:
        span = right_side_span(doc.steps[n], text)
        if span is None:
            continue
        new = text[:span[1]] + " + 0" + text[span[1]:]
        try:
            after = {s.id: s.text for s in read_document(path, text=new, preamble=preamble).steps}
        except Exception:
            continue
        if after.keys() == before.keys() and sum(after[k] != before[k] for k in before) == 1:
            out.append((doc.steps[n].id, new))
        if len(out) == count:
            break
    return len(doc.steps), out


async def main(args):
    cache = tempfile.mkdtemp(prefix="bench-lsp-")
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-lsp-doc-"))
    path = work / "steps.md"
    uri = path.as_uri()
    client = Client()
    await client.start_io(sys.executable, "-m", "ml2p_symbolic", "lsp", cwd=str(ROOT))
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=work.as_uri(),
        initialization_options={"cacheDir": cache, "jobs": args.jobs, "debounce": 0.3,
                                "timeout": args.timeout}))
    client.initialized(types.InitializedParams())
    if args.document:
        source = pathlib.Path(args.document).resolve()
        path = work / source.name
        uri = path.as_uri()
        text = source.read_text(encoding="utf-8")
        path.write_text(text)
        preamble = str(pathlib.Path(args.preamble).resolve()) if args.preamble else None
        if preamble:
            client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
                settings={"ml2p": {"preamble": preamble}}))
        n, edits = edits_of(path, preamble, args.repeat)
        all_verified = lambda diags: len(diags) == n  # noqa: E731  (every step's verdict shown)
        label = f"{source.name}: {n} steps"
    else:
        n = args.steps
        all_verified = lambda diags: len(diags) == n and all(d.code == "verified" for d in diags)  # noqa: E731
        text = document(n)
        edits = [(f"step {1 + (7 * r) % n}", document(n, changed=1 + (7 * r) % n, salt=r)) for r in range(args.repeat)]
        label = f"{n} steps"
        path.write_text(text)
    version = 1
    t0 = time.perf_counter()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="markdown", version=version, text=text)))
    t1 = await wait_for(client, t0, version, all_verified)
    print(f"cold (empty cache, didOpen):      {t1 - t0:7.3f} s for {label} (jobs {args.jobs})")

    unchanged, one, first = [], [], []
    for r, (changed, new) in enumerate(edits):
        await asyncio.sleep(0.5)  # let the last check's final publication arrive before timing
        t0 = time.perf_counter()
        client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=uri)))
        t1 = await wait_for(client, t0, version, all_verified)
        unchanged.append(t1 - t0)

        version += 1
        path.write_text(new)
        await asyncio.sleep(0.5)
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=new)]))
        t0 = time.perf_counter()
        client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=uri)))

        tf = await wait_for(client, t0, version, lambda diags: len(diags) > 0)
        t1 = await wait_for(client, t0, version, all_verified)  # the changed step's verdict too
        one.append(t1 - t0)
        first.append(tf - t0)
        print(f"  round {r + 1}: unchanged {unchanged[-1]:.3f} s; {changed} changed: "
              f"first diagnostics {first[-1]:.3f} s, all {one[-1]:.3f} s", file=sys.stderr)

    print(f"unchanged (cache, didSave):       {statistics.median(unchanged):7.3f} s median of {len(unchanged)}")
    print(f"one step changed (didSave):       {statistics.median(one):7.3f} s median of {len(one)} "
          f"(target < 1 s; max {max(one):.3f} s)")
    print(f"  first diagnostics of that save: {statistics.median(first):7.3f} s median")
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per step (default 60)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--document", metavar="FILE", help="a real document instead of the generated one")
    parser.add_argument("--preamble", metavar="FILE", help="its preamble, if any")
    asyncio.run(main(parser.parse_args()))
