"""Curation statements beyond the review queue: states, relabel, cards, neighbourhoods, progress.

Kept beside `kg.cypher` (which holds the history fields, `set_status` and the queue these build
on) under the same rules: data travels as parameters, only `RelationType` names are formatted in.
The workbench (`serving.workbench`) and `kg.curation` send them.
"""

from __future__ import annotations

from kg.cypher import (
    HISTORY_FIELDS,
    QUEUE_COLUMNS,
    QUEUE_CONDITIONS,
    QUEUE_MATCH,
    VERSION_OF_R,
    append_history,
)
from kg.schema import RelationType


def relation_states(relation: RelationType) -> str:
    """Which of `$ids` name relations of one type, with their ends, status, version and history."""
    return f"""UNWIND $ids AS id
MATCH (h)-[r:{relation.value} {{id: id}}]->(t)
RETURN r.id AS id, h.id AS head, t.id AS tail, r.status AS status, {VERSION_OF_R} AS version,
  r.history_status AS history_status, r.history_decision AS history_decision,
  r.relabelled_from AS relabelled_from"""


def queue_rows(relation: RelationType) -> str:
    """The queue rows of those of `$ids` (of one type) that the queue's filter still selects.

    A page of a cached queue order (`QUEUE_ORDER`) read live: a relation decided or changed
    since the order was read no longer passes and is left out.
    """
    return f"""UNWIND $ids AS id
MATCH (h)-[r:{relation.value} {{id: id}}]->(t)
WHERE {QUEUE_CONDITIONS}
RETURN {QUEUE_COLUMNS}"""


def relabel(old: RelationType, new: RelationType) -> str:
    """One decision: reject `$id` (of type `old`) and accept the `new` relation between the same items.

    The new relation is `$new_id` from `$head` to `$tail` (ids encode the type, so it is
    another relationship); a new one is created with the old one's evidence and provenance,
    `proposed_type` the old type, `decided_by` 'curator', and a history of its own. Both get
    one history entry of decision `$decision`. Nothing is written if `$id`'s version is not
    `$version`; a later load keeps both statuses (it never writes curation fields).
    """
    fresh = ", ".join(f"n.{name} = []" for name in HISTORY_FIELDS)
    return f"""MATCH ()-[r:{old.value} {{id: $id}}]->()
WHERE {VERSION_OF_R} = $version
MATCH (h:Item {{id: $head}})
MATCH (t:Item {{id: $tail}})
MERGE (h)-[n:{new.value} {{id: $new_id}}]->(t)
ON CREATE SET n += properties(r), n.id = $new_id, n.proposed_type = type(r), n.decided_by = $curator,
  n.relabelled_from = r.id, n.created_at = $now, n.updated_at = $now, {fresh}
SET {append_history("n", "'accepted'", "$new_note")}
SET {append_history("r", "'rejected'", "$old_note")}, r.relabelled_to = n.id
RETURN r.id AS old, n.id AS new"""


def delete_relation(relation: RelationType) -> str:
    """Delete `$id` if decision `$decision` made it and nothing since (an undone relabel's new relation)."""
    return f"""MATCH ()-[r:{relation.value} {{id: $id}}]->()
WHERE {VERSION_OF_R} = 1 AND r.history_decision[0] = $decision AND r.relabelled_from IS NOT NULL
DELETE r
RETURN $id AS id"""


# The filtered set a bulk decision covers (ids and versions), and its size.
QUEUE_MEMBERS = f"""{QUEUE_MATCH}
RETURN r.id AS id, {VERSION_OF_R} AS version
ORDER BY r.id
LIMIT $limit"""

QUEUE_COUNT = f"""{QUEUE_MATCH}
RETURN count(r) AS relations"""


def relation_card(relation: RelationType) -> str:
    """Relation `$id` of one type with both ends and the co-purchase evidence between its items, as maps."""
    return f"""MATCH (h)-[r:{relation.value} {{id: $id}}]->(t)
OPTIONAL MATCH (h)-[c:CO_PURCHASED]-(t)
RETURN properties(r) AS relation, properties(h) AS head, properties(t) AS tail,
  labels(t)[0] AS tail_label, properties(c) AS co_purchase, startNode(c) = h AS co_purchase_forward
LIMIT 1"""


# An item's relations both ways (its neighbourhood), strongest evidence first within a type.
NEIGHBOURHOOD = """MATCH (i:Item {id: $id})-[r]-(o)
RETURN r.id AS id, type(r) AS type, startNode(r) = i AS outgoing, o.id AS other,
  coalesce(o.title, o.text) AS other_title, labels(o)[0] AS other_label, r.status AS status,
  r.support AS support, r.lift AS lift, r.confidence AS confidence
ORDER BY type, r.support DESC, r.id
LIMIT $limit"""

ITEM = """MATCH (i:Item {id: $id})
RETURN properties(i) AS item"""

# Progress: relations by type and status, and decisions by curator.
PROGRESS_BY_TYPE = """MATCH ()-[r]->()
RETURN type(r) AS type, r.status AS status, count(r) AS relations"""

PROGRESS_BY_CURATOR = """MATCH ()-[r]->()
WHERE r.status_by IS NOT NULL
RETURN r.status_by AS curator, r.status AS status, count(r) AS relations"""

# Where the relations came from (the review queue's source filter): each model or rule.
SOURCES = """MATCH ()-[r]->()
RETURN DISTINCT r.model AS model
ORDER BY model"""

# A curator's last decision that is not an undo, and the relations it is still the latest on.
LAST_DECISION = """MATCH ()-[r]->()
WHERE r.status_by = $by AND NOT r.history_note[-1] STARTS WITH $undo
RETURN r.history_decision[-1] AS decision
ORDER BY r.status_at DESC
LIMIT 1"""

DECISION_MEMBERS = """MATCH ()-[r]->()
WHERE r.history_decision[-1] = $decision
RETURN r.id AS id
ORDER BY r.id"""
