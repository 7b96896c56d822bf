"""The Neo4j Browser guide for curators: the workbench's statements, as slides to run in Browser.

Curators on Neo4j work in Neo4j Browser (`:play` of this guide, served from a host on
`browser.remote_content_hostname_allowlist`). Every statement on its slides is one of
`kg.cypher`'s, the text the workbench and the CLI send (so Neo4j's front end has linted each),
with a `:param` slide first that sets what they read. `infra/neo4j/curation_guide.html` is
this module's output (a test keeps them equal); write it again after a statement changes:

    python -m serving.workbench.guide > infra/neo4j/curation_guide.html
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from kg import cypher, cypher_curation
from kg.schema import RelationType

KNOWLEDGE = (RelationType.COMPLEMENTS, RelationType.SUBSTITUTES, RelationType.VARIANT_OF)
# What the statements read, set once in Browser: the queue's filters off, a page of 25.
PARAMS = """:params {status: 'proposed', types: null, model: null, derived: null, min_score: null,
  max_score: null, search: null, skip: 0, limit: 25, id: 'COMPLEMENTS:paste-an-id-from-the-queue',
  by: 'your name',
  rows: [{id: 'COMPLEMENTS:paste-an-id-from-the-queue', status: 'accepted', version: null, note: 'browser'}],
  ids: ['TYPE_COMPLEMENTS:paste-an-id'], note: 'browser', now: timestamp(), decision: randomUUID()}"""


def slides() -> list[dict[str, object]]:
    """The guide's slides: a title, what to know, and the statements to run (`kg.cypher`'s text)."""
    card = {relation.value: cypher_curation.relation_card(relation) for relation in KNOWLEDGE}
    decide = {relation.value: cypher.set_status(relation) for relation in KNOWLEDGE}
    return [
        {"title": "Parameters", "text": "Run this first: the statements below read these parameters. "
         "Set `id` to a relation id from the queue, `by` to your name; `rows` lists the decisions to "
         "record (status accepted or rejected). Run it again for a new `decision` id and time.",
         "statements": {"": PARAMS}},
        {"title": "The review queue", "text": "Proposed relations, those whose label teaches the critic most "
         "first: the critic's uncertainty times support, then the unscored by support. Set `types`, `model`, "
         "`min_score`, `max_score`, `derived` (true: derived from a product-type relation) or `search` to "
         "filter; `skip` pages on.",
         "statements": {"": cypher.REVIEW_QUEUE}},
        {"title": "The evidence", "text": "One relation (`id`) with both items, its evidence, the LLM's "
         "answer, rationale, model and prompt version, the critic's score and its decision history "
         "(history_status, history_by, history_at). Run the statement of the id's type.",
         "statements": card},
        {"title": "Accept or reject", "text": "Records each of `rows` as one decision with your name and "
         "time, kept in the relation's history; kgrec's loads never change it. Set `version` to the "
         "relation's number of history entries to refuse the write if someone decided it since.",
         "statements": decide},
        {"title": "Product-type relations", "text": "Rejecting a product-type relation (TYPE_COMPLEMENTS) "
         "withdraws the item relations derived from it that are still proposed. Before deciding, list them "
         "(`ids`: the type relations); after recording the rejection above, withdraw them as part of the "
         "same decision (the workbench and the CLI do both in one step).",
         "statements": {"": cypher.DERIVED_RELATIONS, "withdraw": cypher.WITHDRAW_DERIVED}},
        {"title": "The neighbourhood of an item", "text": "An item's relations either way, by type, with "
         "the co-purchase evidence (support, lift). Set `id` to an item id.",
         "statements": {"": cypher_curation.NEIGHBOURHOOD}},
    ]


def browser_guide() -> str:
    """The guide as Neo4j Browser's guide HTML (autoescaped: statements are shown as text)."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                                     autoescape=True, keep_trailing_newline=True, trim_blocks=True,
                                     lstrip_blocks=True)
    return environment.get_template("browser_guide.html").render(slides=slides())


if __name__ == "__main__":
    print(browser_guide(), end="")
