"""What a ranker or the CLI imports must stay light: no torch, Ray, PyG or batch pipeline behind it."""

import subprocess
import sys

import pytest

HEAVY = ("torch", "torch_geometric", "vllm", "ray")


def _loaded(statement: str, prefixes: tuple[str, ...]) -> list[str]:
    """Modules (or packages) among `prefixes` that a fresh interpreter holds after `statement`."""
    code = (f"import sys; {statement}; "
            f"print(','.join(sorted({{m for m in sys.modules if m.split('.')[0] in {prefixes!r}}})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in result.stdout.strip().split(",") if m]


def test_core_packages_do_not_import_heavy_stacks() -> None:
    assert _loaded("import pipelines.cli, pipelines.config, kg.schema, serving", HEAVY) == []


@pytest.mark.parametrize("module", ["serving.client", "serving.api", "serving.api_client", "serving.auth",
                                    "serving.connection", "serving.config"])
def test_ranker_modules_load_neither_heavy_stacks_nor_the_pipeline(module: str) -> None:
    assert _loaded(f"import {module}", (*HEAVY, "pipelines", "gnn")) == []
