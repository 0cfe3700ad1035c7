"""The data flows one way: a module imports only from its own floor or the floors below."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "lod"
FLOORS = [
    {"errors"},
    {"model", "config", "namespaces"},
    {"vocab", "dates", "citations", "uris", "curated", "oaidc", "shapes", "shacl", "capped"},
    {"sources", "harvest"},
    {"authorities", "concepts", "mentions"},
    {"mapping", "passthrough", "provenance"},
    {"jsonld", "formats", "store", "textindex", "sparql", "changelog", "statistics"},
    {"remote"},
    {"publish", "push"},
    {"serve"},
    {"cli"},
]


def floor(module: str) -> int:
    head = module.split(".")[1] if module.startswith("lod.") else module
    for level, names in enumerate(FLOORS):
        if head in names:
            return level
    raise AssertionError(f"lod.{head} has no floor in tests/test_layers.py")


def test_imports_flow_downwards() -> None:
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT.parent).with_suffix("")
        module = ".".join(relative.parts)
        if module in ("lod.__init__", "lod"):
            continue
        own = floor(module)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lod."):
                assert floor(node.module) <= own, (
                    f"{module} imports {node.module} from a floor above"
                )


def test_nothing_imports_the_cli() -> None:
    for path in ROOT.rglob("*.py"):
        assert "lod.cli" not in path.read_text() or path.name == "cli.py", path
