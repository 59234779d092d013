"""The reference docs cover the code: every public name and every subcommand is documented."""

import importlib
import pathlib
import pkgutil

import ml2p_symbolic
from ml2p_symbolic.cli import build_parser

DOCS = pathlib.Path(__file__).parent.parent / "docs"


def _modules():
    yield ml2p_symbolic
    for info in pkgutil.walk_packages(ml2p_symbolic.__path__, "ml2p_symbolic."):
        if not info.name.endswith("__main__"):
            yield importlib.import_module(info.name)


def test_every_public_name_is_in_the_api_reference():
    api = (DOCS / "api.md").read_text()
    missing = [f"{mod.__name__}.{name}" for mod in _modules() for name in getattr(mod, "__all__", ())
               if f"`{name}" not in api]
    assert not missing, f"docs/api.md lacks: {missing}"


def test_the_api_reference_is_generated_from_the_current_code():
    import runpy

    generator = runpy.run_path(str(DOCS / "generate_api.py"))
    assert generator["render"]() == (DOCS / "api.md").read_text(), \
        "docs/api.md is stale: run python docs/generate_api.py"


def test_every_subcommand_is_in_the_cli_reference():
    cli = (DOCS / "cli.md").read_text()
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) and all(f"ml2p-proof {name}" in cli for name in sub.choices)


def test_readme_lists_the_top_level_api():
    readme = (DOCS.parent / "README.md").read_text()
    assert all(f"`{name}" in readme for name in ml2p_symbolic.__all__)
