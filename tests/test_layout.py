"""The architecture, asserted from the imports: the engine knows no ML2P and no draft.

Every import statement of every module under ``ml2p_symbolic/engine`` is read with ``ast``
(relative imports resolved against the module's package); the engine may import the
standard library, third-party packages, itself and the package's shared modules
(``errors``, ``output``, ``input_files``) only. The records import nothing of the package at all.
"""

import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parent.parent / "ml2p_symbolic"
ENGINE_MAY_IMPORT = ("ml2p_symbolic.engine", "ml2p_symbolic.errors", "ml2p_symbolic.output",
                     "ml2p_symbolic.input_files")


def _module_name(path):
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path):
    """Absolute names of the modules ``path`` imports (``from . import x`` gives ``pkg.x``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module
            out += [stem] if node.module else [f"{stem}.{a.name}" for a in node.names]
    return out


ENGINE_FILES = sorted((PKG / "engine").rglob("*.py"))


def test_the_engine_has_modules():
    assert len(ENGINE_FILES) >= 8


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_the_engine_imports_nothing_of_ml2p_or_of_a_draft(path):
    ours = [m for m in _imports(path) if m.split(".")[0] == "ml2p_symbolic"]
    bad = [m for m in ours if not m.startswith(ENGINE_MAY_IMPORT)]
    assert not bad, f"{path.relative_to(PKG)} imports {bad}"


def test_the_records_import_nothing_of_the_package():
    assert not [m for m in _imports(PKG / "engine" / "records.py") if m.startswith("ml2p_symbolic")]


def test_the_import_checker_sees_a_violation(tmp_path, monkeypatch):
    """The test above could fail: a module importing the model is caught."""
    bad = PKG / "engine" / "_probe_violation.py"
    try:
        bad.write_text("from ..model import ml2p_symbols\nfrom .. import derivations\n")
        assert _imports(bad) == ["ml2p_symbolic.model", "ml2p_symbolic.derivations"]
    finally:
        bad.unlink()


def _graph():
    """module -> the package's modules it imports (explicit imports, at any depth of the file)."""
    files = {_module_name(p): p for p in PKG.rglob("*.py") if p.name != "__main__.py"}
    graph = {}
    for name, path in files.items():
        targets = set()
        for m in _imports(path):
            while m and m not in files:  # ``from pkg.mod import name`` names a module's attribute
                m = m.rpartition(".")[0]
            if m and m != name:
                targets.add(m)
        graph[name] = targets
    return graph


def _cycle(graph):
    """One import circle of ``graph`` as a list of modules, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for t in sorted(graph.get(n, ())):
            if state.get(t) == "open":
                return stack[stack.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[n] = "done"
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_import_circle():
    """Static import graph of the package (lazy imports inside functions included) is acyclic."""
    circle = _cycle(_graph())
    assert circle is None, " -> ".join(circle)


def test_the_circle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_every_import_of_the_package_names_an_existing_module():
    """A relative import that points at a module that does not exist (a path left behind by a
    move, or resolved only through the 0.1 aliases of ``_moved``) is caught statically, even
    inside a function that no test happens to call: in ``from X import a, b`` the module X must
    be a file of the package, and in ``from pkg import name`` either pkg or pkg.name must be."""
    files = {_module_name(p) for p in PKG.rglob("*.py")}
    missing = []
    for path in PKG.rglob("*.py"):
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
                ok = stem in files or (node.module is None and all(f"{stem}.{a.name}" in files for a in node.names))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ml2p_symbolic"):
                stem = node.module
                ok = stem in files or all(f"{stem}.{a.name}" in files for a in node.names)
            else:
                continue
            if not ok:
                missing.append(f"{path.relative_to(PKG)}:{node.lineno}: {stem}")
    assert not missing, missing


def test_the_import_resolver_sees_a_dangling_import():
    bad = PKG / "engine" / "document" / "_probe_dangling.py"
    try:
        bad.write_text("def f():\n    from ..errors import ArgumentError\n")
        with pytest.raises(AssertionError, match="_probe_dangling"):
            test_every_import_of_the_package_names_an_existing_module()
    finally:
        bad.unlink()
