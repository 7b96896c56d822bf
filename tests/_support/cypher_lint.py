"""Neo4j's Cypher front end (npm @neo4j-cypher/language-support) in one long-lived process."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "cypher-lint"


class CypherLinter:
    """Send a statement and its parameters, get Neo4j's diagnostics back."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            pytest.skip("SKIPPED LOUDLY: `node` is not installed, so Neo4j statements cannot be "
                        "checked against Neo4j's Cypher front end (install Node.js 20).")
        if not (TOOL / "node_modules" / "@neo4j-cypher").exists():
            raise RuntimeError(f"{TOOL}/node_modules is missing: run `scripts/setup.sh dev`")
        self._process = subprocess.Popen([node, str(TOOL / "lint.mjs")], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, cwd=TOOL)

    def diagnostics(self, query: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        """Errors and warnings for `query`; empty when Neo4j accepts it."""
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps({"query": query, "parameters": parameters}) + "\n")
        self._process.stdin.flush()
        reply = json.loads(self._process.stdout.readline())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return list(reply["diagnostics"])

    def close(self) -> None:
        """Stop the node process."""
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait(timeout=10)
