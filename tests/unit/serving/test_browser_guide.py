"""The Neo4j Browser guide: kgrec's own statements, the committed file up to date, linted by Neo4j's front end."""

import html
import re
from pathlib import Path

from kg import cypher, cypher_curation
from kg.schema import RelationType
from serving.workbench.guide import PARAMS, browser_guide

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "infra" / "neo4j" / "curation_guide.html"
RUNNABLE = re.compile(r'<pre class="pre-scrollable code runnable">(.*?)</pre>', re.DOTALL)
# what PARAMS sets, as the linter's parameter schema
GUIDE_PARAMS = {"status": "", "types": [], "model": "", "derived": True, "ids": [], "note": "", "min_score": 0.0, "max_score": 1.0, "search": "",
                "skip": 0, "limit": 1, "id": "", "by": "", "rows": [], "now": 0, "decision": ""}


def _statements() -> list[str]:
    return [html.unescape(found) for found in RUNNABLE.findall(GUIDE.read_text())]


def test_the_committed_guide_is_the_generated_one() -> None:
    assert GUIDE.read_text() == browser_guide(), \
        "run `python -m serving.workbench.guide > infra/neo4j/curation_guide.html`"


def test_every_statement_is_one_kgrec_sends(cypher_linter) -> None:  # noqa: ANN001
    ours = {cypher.REVIEW_QUEUE, cypher_curation.NEIGHBOURHOOD, cypher.DERIVED_RELATIONS, cypher.WITHDRAW_DERIVED}
    ours |= {builder(t) for t in RelationType for builder in (cypher_curation.relation_card, cypher.set_status)}
    statements = _statements()
    assert statements[0] == PARAMS and len(statements) == 1 + 1 + 3 + 3 + 2 + 1
    for statement in statements[1:]:
        assert statement in ours
        assert not [d for d in cypher_linter.diagnostics(statement, GUIDE_PARAMS) if d["severity"] == 1]


def test_the_saved_decisions_keep_the_history_too() -> None:
    for name in ("accept.cypher", "reject.cypher"):
        saved = (ROOT / "infra" / "neo4j" / name).read_text()
        assert all(field in saved for field in cypher.HISTORY_FIELDS), name
