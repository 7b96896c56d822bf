"""The import direction of ../shared/ARCHITECTURE.md, read from the code itself (AST, every import).

| package   | may import (of ours)                                                       |
| --------- | -------------------------------------------------------------------------- |
| kg        | nothing                                                                    |
| gnn       | kg                                                                         |
| serving   | kg                                                                         |
| pipelines | kg, gnn, serving: only pipelines/steps/ and pipelines/cli/ reach gnn and    |
|           | serving code; pipelines/config.py combines their config sections only      |

Nothing imports `pipelines`. Imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("kg", "gnn", "serving", "pipelines")
ALLOWED = {"kg": set(), "gnn": {"kg"}, "serving": {"kg"}, "pipelines": {"kg", "gnn", "serving"}}
# Inside pipelines/: who may reach gnn/ and serving/ beyond their config sections.
APPLICATION_LAYER = ("pipelines/steps/", "pipelines/cli/")
CONFIG_MODULES = {"gnn.config", "serving.config", "serving.ctr.config"}
CONFIG_COMBINER = "pipelines/config.py"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Edge:
    """One import of one of our packages: where it is and what it names."""

    path: str  # relative to the root, with forward slashes
    line: int
    target: str  # the dotted module imported

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


def _module_name(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(root: Path, path: Path) -> list[Edge]:
    """Every import in `path` (top level and nested), relative ones resolved, ours only."""
    relative = path.relative_to(root)
    module = _module_name(relative)
    package = module if relative.name == "__init__.py" else module.rpartition(".")[0]
    edges = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [base] if node.module else [f"{base}.{alias.name}" for alias in node.names]
        edges += [Edge(relative.as_posix(), node.lineno, name) for name in names
                  if name.split(".")[0] in PACKAGES]
    return edges


def violation(edge: Edge) -> str | None:
    """Why `edge` breaks the dependency table, or None when it is allowed."""
    source = edge.path.split("/")[0]
    target = edge.target.split(".")[0]
    if target == source:
        return None
    if target not in ALLOWED[source]:
        return f"{source} may not import {target}"
    if source == "pipelines" and target in {"gnn", "serving"}:
        if edge.path.startswith(APPLICATION_LAYER):
            return None
        if edge.path == CONFIG_COMBINER and edge.target in CONFIG_MODULES:
            return None
        return f"only {' and '.join(APPLICATION_LAYER)} reach {target} code"
    return None


def violations(root: Path) -> list[str]:
    """Every import under `root`'s packages that breaks the table, as 'file:line imports x (why)'."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            for edge in _imports(root, path):
                if (why := violation(edge)) is not None:
                    found.append(f"{edge} ({why})")
    return found


def test_every_import_follows_the_dependency_table() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize(("path", "source", "line"), [
    ("serving/client.py", "def f():\n    from pipelines.config import Settings\n", 4),
    ("serving/ctr/data.py", "import pipelines.ingest.staging\n", 3),
    ("kg/store.py", "from gnn import train\n", 3),
    ("gnn/model.py", "from serving.keys import KeySpace\n", 3),
    ("serving/api.py", "from gnn.config import GnnSection\n", 3),
    ("pipelines/ingest/job.py", "from serving.ctr.data import CtrData\n", 3),
    ("pipelines/config.py", "from serving.client import EmbeddingClient\n", 3),
    ("serving/ctr/__init__.py", "from ...pipelines import run\n", 3),
])
def test_an_import_against_the_table_is_named_with_file_and_line(tmp_path: Path, path: str, source: str,
                                                                  line: int) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("import json\n\n" + source)
    [found] = violations(tmp_path)
    assert found.startswith(f"{path}:{line} imports ")


@pytest.mark.parametrize(("path", "source"), [
    ("pipelines/steps/ctr.py", "from serving.ctr.data import CtrData\n"),
    ("pipelines/cli/serving.py", "from serving.api import create_app\n"),
    ("pipelines/config.py", "from serving.ctr.config import CtrSection\n"),
    ("serving/ctr/train.py", "from .data import CtrData\nfrom kg.errors import KgrecError\n"),
])
def test_allowed_imports_pass(tmp_path: Path, path: str, source: str) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source)
    assert violations(tmp_path) == []


def _sizes(root: Path) -> tuple[list[str], list[str]]:
    long_modules, long_functions = [], []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text()
            name = path.relative_to(root).as_posix()
            if (lines := len(text.splitlines())) > MAX_MODULE_LINES:
                long_modules.append(f"{name}: {lines} lines")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        long_functions.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    return long_modules, long_functions


def test_modules_and_functions_stay_small() -> None:
    long_modules, long_functions = _sizes(ROOT)
    assert long_modules == [], f"modules over {MAX_MODULE_LINES} lines"
    assert long_functions == [], f"functions over {MAX_FUNCTION_LINES} lines"
