"""`import pipelines, kg, serving` must stay light: the CLI and the cache never pay for torch."""

import subprocess
import sys


def test_core_packages_do_not_import_heavy_stacks() -> None:
    code = (
        "import sys, pipelines.cli, pipelines.config, kg.schema, serving; "
        "heavy = [m for m in ('torch', 'torch_geometric', 'vllm', 'ray') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
