"""A Ray node lost while a stage ran, said in one paragraph that names the node.

Ray retries a lost node's tasks on the nodes left, but not everything a stage holds there: an
actor Ray Data started on it (the Parquet footer reader, a shuffle's aggregators, the LLM
answerers) dies with it, and the stage fails with an error chain whose text names the node.
That is not a bug in kgrec and not the user's input: the command says which node was lost and
that a re-run is safe (`_SUCCESS.json` was not written, outputs are rewritten whole, answers
already given come from the cache).
"""

from __future__ import annotations

import re
import sys

NODE_ID = re.compile(r"\b[Nn]ode[ _][Ii]d:?\s*([0-9a-f]{56})\b")
NODE_GONE = re.compile(r"node (has died|was terminated|died|is dead)|NodeDiedError", re.IGNORECASE)
NODE_IP = re.compile(r"\bip: (\d{1,3}(?:\.\d{1,3}){3})\b")
RERUN_HINT = ("the stage was not marked complete; run the same command again once the cluster is "
              "whole: it rewrites the stage's outputs whole, and LLM answers already given come from "
              "the answer cache")


def _chain(e: BaseException) -> list[BaseException]:
    """`e`, what caused it, and the causes Ray wraps in a RayTaskError (`.cause`)."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [e]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        pending += [current.__cause__, current.__context__, getattr(current, "cause", None)]
    return seen


def lost_node(e: BaseException) -> str | None:
    """'Ray lost node <id> (<ip>) ...' when `e` came from a node dying under the stage, else None."""
    if "ray.exceptions" not in sys.modules:  # no Ray, no Ray node
        return None
    for error in _chain(e):
        text = str(error)
        node, gone = NODE_ID.search(text), NODE_GONE.search(text)
        if node and gone:
            ip = NODE_IP.search(text)
            where = f" ({ip.group(1)})" if ip else ""
            reason = " ".join(text.split("\n", 1)[0].split())
            return f"Ray lost node {node.group(1)}{where} while the stage ran ({reason}); {RERUN_HINT}"
    return None
