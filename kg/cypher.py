"""Every Cypher statement kgrec sends, as pure functions of (dialect, relation type).

Data never enters a statement's text: rows travel as parameters (`$rows`, `$ids`, ...).
The only things formatted into text are relationship types and labels, and those come from
the `RelationType` enum, never from input. Statements are shared where Neo4j 5 and FalkorDB
agree; where they differ (schema setup) the variants sit side by side. Times are epoch
milliseconds in both dialects.
"""

from __future__ import annotations

from typing import Literal

from kg.schema import ITEM_RELATIONS, PRODUCT_TYPE, TYPE_RELATIONS, RelationType

Dialect = Literal["neo4j", "falkordb"]


Label = Literal["Item", "Concept"]


def head_label(relation: RelationType) -> Label:
    """Label of the head node: Concept for relations between product types, Item otherwise."""
    return "Concept" if relation in TYPE_RELATIONS else "Item"


def tail_label(relation: RelationType) -> Label:
    """Label of the tail node: Item for item-item relations, Concept otherwise."""
    return "Item" if relation in ITEM_RELATIONS else "Concept"


def schema_statements(dialect: Dialect, relation_indexes: bool = True) -> list[str]:
    """Uniqueness and lookup indexes; safe to run again (Neo4j: IF NOT EXISTS).

    `relation_indexes=False` leaves out the relationship indexes (the node ones are what a
    load needs; see `GraphStore.begin_load`).
    """
    if dialect == "neo4j":
        statements = [
            "CREATE CONSTRAINT item_id IF NOT EXISTS FOR (n:Item) REQUIRE n.id IS UNIQUE",
            "CREATE CONSTRAINT concept_id IF NOT EXISTS FOR (n:Concept) REQUIRE n.id IS UNIQUE",
        ]
        for relation in RelationType if relation_indexes else ():
            name, pattern = relation.value.lower(), f"()-[r:{relation.value}]-()"
            statements.append(f"CREATE INDEX {name}_id IF NOT EXISTS FOR {pattern} ON (r.id)")
            statements.append(f"CREATE INDEX {name}_status IF NOT EXISTS FOR {pattern} ON (r.status)")
        return statements
    # FalkorDB: an index that exists already is reported as an error the store tolerates;
    # unique constraints are created through the client (GRAPH.CONSTRAINT) on these indexes.
    # Relationships are indexed by id only: FalkorDB plans every status filter kgrec sends
    # (review queue, labels, snapshots: untyped patterns) as a traversal, never an index
    # scan, and the status field cost a first load a third of its index build (1M: 12.1 s
    # against 8.5 s).
    statements = ["CREATE INDEX FOR (n:Item) ON (n.id)", "CREATE INDEX FOR (n:Concept) ON (n.id)"]
    statements += [f"CREATE INDEX FOR ()-[r:{relation.value}]-() ON (r.id)"
                   for relation in (RelationType if relation_indexes else ())]
    return statements


UPSERT_ITEMS = """UNWIND $rows AS row
MERGE (n:Item {id: row.id})
ON CREATE SET n.created_at = $now
SET n.title = row.title, n.category = row.category, n.brand = row.brand, n.price = row.price"""

UPSERT_CONCEPTS = """UNWIND $rows AS row
MERGE (c:Concept {id: row.id})
ON CREATE SET c.created_at = $now, c.text = row.text, c.kind = row.kind, c.aliases = []
SET c.aliases = c.aliases + [a IN row.aliases WHERE NOT a IN c.aliases]"""

# Product types are concepts of their own kind; the extra label lets Browser users match them by name.
LABEL_PRODUCT_TYPES = f"""MATCH (c:Concept)
WHERE c.kind = '{PRODUCT_TYPE}' AND NOT c:ProductType
SET c:ProductType
RETURN count(c) AS labelled"""

MISSING_NODES = """UNWIND $ids AS id
OPTIONAL MATCH (n:{label} {{id: id}})
WITH id, n
WHERE n IS NULL
RETURN id"""


def missing_nodes(label: Label) -> str:
    """Which of `$ids` are not nodes of `label` (usually none, so the answer is short)."""
    return MISSING_NODES.format(label=label)


# How a relation batch finds its endpoints. By their `id` property (an index lookup per row)
# in both dialects; FalkorDB can also seek nodes by internal id, which the FalkorDB store
# resolves once per item and caches (`row.hid`/`row.tid`), with the `id` and label checked on
# every row so a stale id never matches another node. (Seeks on `row.x` directly are planned
# as label scans; projecting them first (WITH) gives NodeByIdSeek.)
ENDPOINTS_BY_PROPERTY = """UNWIND $rows AS row
MATCH (h:{head} {{id: row.head}})
MATCH (t:{tail} {{id: row.tail}})"""

ENDPOINTS_BY_NODE_ID = """UNWIND $rows AS row
WITH row, row.hid AS hid, row.tid AS tid
MATCH (h) WHERE ID(h) = hid
MATCH (t) WHERE ID(t) = tid
WITH row, h, t WHERE h:{head} AND h.id = row.head AND t:{tail} AND t.id = row.tail"""

RESOLVE_NODES = """UNWIND $ids AS id
MATCH (n:{label} {{id: id}})
RETURN id, ID(n) AS node"""


def resolve_nodes(label: Label) -> str:
    """FalkorDB: internal node ids of those of `$ids` that are nodes of `label`."""
    return RESOLVE_NODES.format(label=label)


# The refine stage's decision on a relation (`kg.schema.Relation`): a row whose `decided_by` is
# set carries all four, as the latest judgement of the relation; a row without one carries none.
DECISION_FIELDS = ("decided_by", "critic_score", "decision_threshold", "proposed_type")
# What a new relationship holds besides its `id`: these row fields as they are, status
# `NEW_STATUS`, `created_at` and `updated_at` the load's time, and `evidence_ids` the row's one
# evidence id. The MERGE below and FalkorDB's bulk writer (`kg.backends.falkordb.bulk`) both follow it.
NEW_STATUS = "proposed"
COPIED_ON_CREATE = ("support", "first_seen", "last_seen", "confidence", "lift", "confidence_ab",
                    "confidence_ba", "tail_text", "model", "prompt_version", "rationale", "run_id",
                    "derived_from", *DECISION_FIELDS)


def upsert_relations(relation: RelationType, endpoints: str = ENDPOINTS_BY_PROPERTY) -> str:
    """MERGE one batch of relations of one type; a no-op for rows of a run already loaded.

    New edges start `proposed` with this run's evidence, all set in one pass. An edge that
    exists keeps its curation fields untouched; unless this evidence was counted already, its
    support adds this row's support, first/last seen widen, and provenance moves to this
    run. `evidence_ids` remembers the evidence counted, which is what makes re-loading the
    same batch (or re-running on the same data) leave the graph identical. `matched` counts
    rows whose endpoints exist (the others are skipped by the MATCH; the loader then finds
    out which, and quarantines them); `written` counts rows whose evidence was added (their
    `updated_at` is this load's `$now`). `endpoints` is one of the `ENDPOINTS_*` heads.

    The decision (`DECISION_FIELDS`) follows the latest row that carries one, whether or not
    its evidence was counted before: a refine run with a newer critic re-scores existing
    edges, and a row without a decision (behavioural evidence) leaves the edge's as it is.
    Either way the same rows loaded again write the same values.
    """
    seen = "row.evidence_id IN r.evidence_ids"  # this evidence is already counted
    copied = ", ".join(f"r.{name} = row.{name}" for name in COPIED_ON_CREATE)
    decided = "".join(f"\n  r.{name} = CASE WHEN row.decided_by IS NULL THEN r.{name} ELSE row.{name} END,"
                      for name in DECISION_FIELDS)
    return endpoints.format(head=head_label(relation), tail=tail_label(relation)) + f"""
MERGE (h)-[r:{relation.value} {{id: row.id}}]->(t)
ON CREATE SET r.status = '{NEW_STATUS}', r.created_at = $now, r.updated_at = $now,
  r.evidence_ids = [row.evidence_id], {copied}
ON MATCH SET r.support = CASE WHEN {seen} THEN r.support ELSE r.support + row.support END,
  r.first_seen = CASE WHEN {seen} OR row.first_seen >= r.first_seen
    THEN r.first_seen ELSE coalesce(row.first_seen, r.first_seen) END,
  r.last_seen = CASE WHEN {seen} OR row.last_seen <= r.last_seen
    THEN r.last_seen ELSE coalesce(row.last_seen, r.last_seen) END,
  r.confidence = CASE WHEN {seen} THEN r.confidence ELSE row.confidence END,
  r.lift = CASE WHEN {seen} THEN r.lift ELSE row.lift END,
  r.confidence_ab = CASE WHEN {seen} THEN r.confidence_ab ELSE row.confidence_ab END,
  r.confidence_ba = CASE WHEN {seen} THEN r.confidence_ba ELSE row.confidence_ba END,
  r.tail_text = CASE WHEN {seen} THEN r.tail_text ELSE row.tail_text END,
  r.model = CASE WHEN {seen} THEN r.model ELSE row.model END,
  r.prompt_version = CASE WHEN {seen} THEN r.prompt_version ELSE row.prompt_version END,
  r.rationale = CASE WHEN {seen} THEN r.rationale ELSE row.rationale END,
  r.run_id = CASE WHEN {seen} THEN r.run_id ELSE row.run_id END,
  r.derived_from = coalesce(row.derived_from, r.derived_from),{decided}
  r.updated_at = CASE WHEN {seen} THEN r.updated_at ELSE $now END,
  r.evidence_ids = CASE WHEN {seen} THEN r.evidence_ids ELSE r.evidence_ids + [row.evidence_id] END
RETURN count(r) AS matched, sum(CASE WHEN r.updated_at = $now THEN 1 ELSE 0 END) AS written"""


# A curator's decision is kept as history on the relationship itself: five parallel lists, one
# entry per decision (status, curator, epoch ms, decision id, note), appended and never
# rewritten; `status`, `status_by` and `status_at` mirror the latest entry. A relation's
# version is the length of its history, so a page that read version n cannot overwrite a
# decision made since. A load never writes any of these (see `upsert_relations`).
HISTORY_FIELDS = ("history_status", "history_by", "history_at", "history_decision", "history_note")
VERSION_OF_R = "size(coalesce(r.history_at, []))"


def append_history(var: str, status: str = "row.status", note: str = "row.note") -> str:
    """SET items recording one decision on relationship `var`: its status fields and a history entry."""
    values = dict(zip(HISTORY_FIELDS, (status, "$by", "$now", "$decision", note), strict=True))
    entries = ", ".join(f"{var}.{name} = coalesce({var}.{name}, []) + [{value}]"
                        for name, value in values.items())
    return f"{var}.status = {status}, {var}.status_by = $by, {var}.status_at = $now,\n  {entries}"


def set_status(relation: RelationType) -> str:
    """Record a decision on relations of one type (`$rows`: id, status, note, version); returns the ids set.

    A row whose `version` is not null is written only if the relation's history still has
    that many entries (what the curator saw); a null `version` always writes (the CLI).
    """
    return f"""UNWIND $rows AS row
MATCH ()-[r:{relation.value} {{id: row.id}}]->()
WITH r, row WHERE row.version IS NULL OR {VERSION_OF_R} = row.version
SET {append_history("r")}
RETURN r.id AS id"""


# A curator's decision on product-type relations reaches the item relations derived from them: a
# rejection withdraws the derived ones still `proposed`; accepting (or re-proposing) the type relation
# returns its withdrawn ones to `proposed`. Decisions curators made on derived relations stay. Each
# change is a history entry of the curator's decision (`$decision`), so undoing it undoes them too.
WITHDRAW_DERIVED = f"""UNWIND $ids AS id
MATCH (:Item)-[r:COMPLEMENTS]->(:Item)
WHERE r.derived_from = id AND r.status = 'proposed'
SET {append_history("r", "'withdrawn'", "$note")}
RETURN r.id AS id"""

RESTORE_DERIVED = f"""UNWIND $ids AS id
MATCH (:Item)-[r:COMPLEMENTS]->(:Item)
WHERE r.derived_from = id AND r.status = 'withdrawn'
SET {append_history("r", "'proposed'", "$note")}
RETURN r.id AS id"""

# The item relations derived from product-type relations, whatever their status: what rejecting
# those type relations would withdraw (the curation page shows them before a curator decides).
DERIVED_RELATIONS = """UNWIND $ids AS id
MATCH (h:Item)-[r:COMPLEMENTS]->(t:Item)
WHERE r.derived_from = id
RETURN r.id AS id, r.derived_from AS derived_from, h.id AS head, coalesce(h.title, h.id) AS head_title,
  t.id AS tail, coalesce(t.title, t.id) AS tail_title, r.status AS status
ORDER BY r.id"""


# The review queue's order: what a curator's label teaches the critic most comes first. A scored
# relation's worth is the critic's uncertainty (1 at a score of 0.5, 0 at 0 or 1) times its
# support; scored relations come first by it, then the unscored (no critic yet) by support alone.
REVIEW_ORDER = """ORDER BY CASE WHEN r.critic_score IS NULL THEN 1 ELSE 0 END,
  coalesce((1 - abs(2 * r.critic_score - 1)) * r.support, r.support) DESC, r.id"""

# The review queue's filters; each is off when its parameter is null. `$search` is lower-cased
# and matched against either end's id and title; `$derived` true keeps the item relations derived
# from a product-type relation (false: the others); the score is the critic's, else the
# proposer's confidence (before a critic exists).
QUEUE_CONDITIONS = """r.status = $status AND ($types IS NULL OR type(r) IN $types)
  AND ($model IS NULL OR r.model = $model)
  AND ($derived IS NULL OR (r.derived_from IS NOT NULL) = $derived)
  AND ($min_score IS NULL OR coalesce(r.critic_score, r.confidence) >= $min_score)
  AND ($max_score IS NULL OR coalesce(r.critic_score, r.confidence) <= $max_score)
  AND ($search IS NULL OR toLower(h.id) CONTAINS $search OR toLower(t.id) CONTAINS $search
    OR toLower(coalesce(h.title, h.text)) CONTAINS $search
    OR toLower(coalesce(t.title, t.text)) CONTAINS $search)"""
QUEUE_MATCH = f"""MATCH (h)-[r]->(t)
WHERE {QUEUE_CONDITIONS}"""

# What a queue row shows: the relation, its ends' titles, its evidence, the critic's score, its version.
QUEUE_COLUMNS = (
    "r.id AS id, type(r) AS type, h.id AS head, coalesce(h.title, h.text) AS head_title, t.id AS tail,\n"
    "  coalesce(t.title, t.text) AS tail_title, r.confidence AS confidence, r.support AS support,\n"
    "  r.lift AS lift, r.model AS model, r.rationale AS rationale, r.status AS status,\n"
    f"  r.critic_score AS critic_score, r.decided_by AS decided_by, {VERSION_OF_R} AS version")

# Ordered and cut to the page before the columns are read: FalkorDB projects every returned
# column before a sort, which cost a fifth of the statement at 100k relations.
REVIEW_QUEUE = f"""{QUEUE_MATCH}
WITH h, r, t
{REVIEW_ORDER}
SKIP $skip
LIMIT $limit
RETURN {QUEUE_COLUMNS}"""

# The whole queue's order as ids only (the workbench pages through it; `serving.workbench.queue_order`).
QUEUE_ORDER = f"""{QUEUE_MATCH}
WITH r
{REVIEW_ORDER}
LIMIT $limit
RETURN r.id AS id"""

CURATED_LABELS = """MATCH (h)-[r]->(t)
WHERE r.status IN ['accepted', 'rejected'] AND r.id > $after
RETURN r.id AS id, type(r) AS type, h.id AS head, t.id AS tail, r.status AS status,
  r.status_by AS status_by, r.status_at AS status_at, r.model AS model,
  r.prompt_version AS prompt_version, r.confidence AS confidence, r.critic_score AS critic_score,
  r.decided_by AS decided_by
ORDER BY r.id
LIMIT $limit"""

# Every concept the graph holds, paged by id: refine keeps their ids and joins paraphrases to them.
CONCEPTS = """MATCH (c:Concept)
WHERE c.id > $after
RETURN c.id AS id, c.kind AS kind, c.text AS text, c.merged_into AS merged_into
ORDER BY c.id
LIMIT $limit"""

# Curators' merges and splits of concepts (`GraphStore.merge_concepts`, `split_concept`). A merged
# concept stays as a node with `merged_into` (refine maps its text to the survivor from then on);
# its relations move to the survivor under new ids (an id names its tail), carrying every property,
# status included, and `moved_from`; where the survivor already has that relation, its evidence joins.
CONCEPT_NODES = """UNWIND $ids AS id
MATCH (c:Concept {id: id})
RETURN c.id AS id, c.kind AS kind, c.text AS text, c.aliases AS aliases, c.merged_into AS merged_into"""

MERGE_CONCEPT = """MATCH (b:Concept {id: $from})
MATCH (a:Concept {id: $to})
SET b.merged_into = $to, b.curated_by = $by, b.curated_at = $now,
  a.aliases = a.aliases + [x IN [b.text] + coalesce(b.aliases, []) WHERE NOT x IN a.aliases AND x <> a.text]
RETURN b.id AS id"""

SPLIT_CONCEPT = """MATCH (a:Concept {id: $from})
SET a.aliases = [x IN a.aliases WHERE x <> $text]
MERGE (c:Concept {id: $to})
ON CREATE SET c.created_at = $now, c.text = $text, c.kind = a.kind, c.aliases = []
SET c.split_from = $from, c.curated_by = $by, c.curated_at = $now
RETURN c.id AS id"""

RENAME_DERIVED_FROM = """UNWIND $rows AS row
MATCH (:Item)-[d:COMPLEMENTS]->(:Item)
WHERE d.derived_from = row.old
SET d.derived_from = row.new
RETURN count(d) AS renamed"""


def relations_at_concept(relation: RelationType) -> str:
    """Relations of one type ending at concept `$id` (between product types: starting or ending there)."""
    if relation in TYPE_RELATIONS:
        pattern, where = f"(h:Concept)-[r:{relation.value}]->(t:Concept)", "WHERE h.id = $id OR t.id = $id\n"
    else:
        pattern, where = f"(h:Item)-[r:{relation.value}]->(t:Concept {{id: $id}})", ""
    return f"""MATCH {pattern}
{where}RETURN r.id AS id, h.id AS head, t.id AS tail, r.tail_text AS tail_text"""


def move_relations(relation: RelationType) -> str:
    """Re-point relations of one type at new endpoints under new ids (`$rows`: old, new, old and new ends)."""
    head, tail = head_label(relation), tail_label(relation)
    seen = "any(e IN r.evidence_ids WHERE e IN n.evidence_ids)"
    return f"""UNWIND $rows AS row
MATCH (:{head} {{id: row.old_head}})-[r:{relation.value} {{id: row.old}}]->(:{tail} {{id: row.old_tail}})
MATCH (h:{head} {{id: row.head}})
MATCH (t:{tail} {{id: row.tail}})
MERGE (h)-[n:{relation.value} {{id: row.new}}]->(t)
ON CREATE SET n = properties(r), n.id = row.new, n.moved_from = row.old
ON MATCH SET n.support = n.support + CASE WHEN {seen} THEN 0 ELSE r.support END,
  n.evidence_ids = n.evidence_ids + [e IN r.evidence_ids WHERE NOT e IN n.evidence_ids]
DELETE r
RETURN count(n) AS moved"""

# A relation's status at system time $loaded_by, from its history: the latest entry made by
# then, else `proposed`; a relation decided before histories were kept has its status from
# `status_at` on. `kg.curation.status_at` is the same rule in Python.
STATUS_THEN = """CASE WHEN r.history_at IS NULL
    THEN CASE WHEN coalesce(r.status_at, 0) <= $loaded_by THEN r.status ELSE 'proposed' END
  WHEN size(past) = 0 THEN 'proposed' ELSE r.history_status[past[-1]] END"""

SNAPSHOT_RELATIONS = f"""MATCH (h)-[r]->(t)
WHERE r.id > $after AND r.created_at <= $loaded_by
  AND (r.first_seen IS NULL OR r.first_seen <= $as_of)
WITH h, r, t, [i IN range(0, size(coalesce(r.history_at, [])) - 1)
  WHERE r.history_at[i] <= $loaded_by] AS past
WITH h, r, t, {STATUS_THEN} AS status
WHERE status IN $statuses
RETURN r.id AS id, type(r) AS type, h.id AS head, t.id AS tail, status,
  r.confidence AS confidence, r.support AS support, r.lift AS lift,
  r.first_seen AS first_seen, r.last_seen AS last_seen, r.model AS model,
  r.critic_score AS critic_score, r.decided_by AS decided_by, r.proposed_type AS proposed_type
ORDER BY r.id
LIMIT $limit"""

SNAPSHOT_ITEMS = """MATCH (n:Item)
WHERE n.id > $after AND n.created_at <= $loaded_by
RETURN n.id AS id, n.title AS title, n.category AS category, n.brand AS brand, n.price AS price
ORDER BY n.id
LIMIT $limit"""

SNAPSHOT_CONCEPTS = """MATCH (n:Concept)
WHERE n.id > $after AND n.created_at <= $loaded_by AND n.merged_into IS NULL
RETURN n.id AS id, n.text AS text, n.kind AS kind
ORDER BY n.id
LIMIT $limit"""

ANY_RELATIONSHIP = "MATCH ()-[r]->() RETURN 1 AS found LIMIT 1"

# FalkorDB: one row per index with its population state (OPERATIONAL once built).
INDEX_STATES = "CALL db.indexes() YIELD label, status RETURN label, status"

# Nodes and relations of the knowledge: the `Dataset` marks (which data the graph holds) are not counted.
COUNTS = """MATCH (n) WHERE NOT n:Dataset
WITH count(n) AS nodes
OPTIONAL MATCH ()-[r]->()
RETURN nodes, count(r) AS relations"""

# The datasets a graph holds (`kg.schema.DatasetMark`), first marked first; and marking one.
DATASETS = """MATCH (d:Dataset)
RETURN d.key AS key, d.description AS description
ORDER BY d.created_at, d.key"""

MARK_DATASET = """MERGE (d:Dataset {key: $key})
ON CREATE SET d.created_at = $now
SET d.description = $description"""
