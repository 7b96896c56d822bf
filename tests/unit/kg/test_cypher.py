"""Cypher builders: exact strings, no data in statement text, and Neo4j's front end accepts them."""

import itertools
import re
from pathlib import Path

import pytest

from kg import cypher, cypher_curation
from kg.schema import (
    ITEM_RELATIONS,
    PRODUCT_TYPE,
    CurationStatus,
    RelationType,
    relation_id,
    relation_type_of,
)

ROW_PARAMS = {"rows": [], "now": 0}
QUEUE_PARAMS = {"status": "", "types": [], "model": "", "derived": True, "min_score": 0.0, "max_score": 1.0, "search": ""}
RELABEL_PARAMS = {"id": "", "version": 0, "head": "", "tail": "", "new_id": "", "by": "", "now": 0,
                  "decision": "", "curator": "", "new_note": "", "old_note": ""}
DECISION_PARAMS = {"ids": [], "by": "", "now": 0, "decision": "", "note": ""}
CONCEPT_PARAMS = {"from": "", "to": "", "by": "", "now": 0}


def test_upsert_relations_exact_text_for_an_item_relation() -> None:
    assert cypher.upsert_relations(RelationType.COMPLEMENTS) == """UNWIND $rows AS row
MATCH (h:Item {id: row.head})
MATCH (t:Item {id: row.tail})
MERGE (h)-[r:COMPLEMENTS {id: row.id}]->(t)
ON CREATE SET r.status = 'proposed', r.created_at = $now, r.updated_at = $now,
  r.evidence_ids = [row.evidence_id], r.support = row.support, r.first_seen = row.first_seen, \
r.last_seen = row.last_seen, r.confidence = row.confidence, r.lift = row.lift, \
r.confidence_ab = row.confidence_ab, r.confidence_ba = row.confidence_ba, r.tail_text = row.tail_text, \
r.model = row.model, r.prompt_version = row.prompt_version, r.rationale = row.rationale, r.run_id = row.run_id, \
r.derived_from = row.derived_from, r.decided_by = row.decided_by, r.critic_score = row.critic_score, r.decision_threshold = row.decision_threshold, \
r.proposed_type = row.proposed_type
ON MATCH SET r.support = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.support ELSE r.support + row.support END,
  r.first_seen = CASE WHEN row.evidence_id IN r.evidence_ids OR row.first_seen >= r.first_seen
    THEN r.first_seen ELSE coalesce(row.first_seen, r.first_seen) END,
  r.last_seen = CASE WHEN row.evidence_id IN r.evidence_ids OR row.last_seen <= r.last_seen
    THEN r.last_seen ELSE coalesce(row.last_seen, r.last_seen) END,
  r.confidence = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.confidence ELSE row.confidence END,
  r.lift = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.lift ELSE row.lift END,
  r.confidence_ab = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.confidence_ab ELSE row.confidence_ab END,
  r.confidence_ba = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.confidence_ba ELSE row.confidence_ba END,
  r.tail_text = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.tail_text ELSE row.tail_text END,
  r.model = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.model ELSE row.model END,
  r.prompt_version = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.prompt_version ELSE row.prompt_version END,
  r.rationale = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.rationale ELSE row.rationale END,
  r.run_id = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.run_id ELSE row.run_id END,
  r.derived_from = coalesce(row.derived_from, r.derived_from),
  r.decided_by = CASE WHEN row.decided_by IS NULL THEN r.decided_by ELSE row.decided_by END,
  r.critic_score = CASE WHEN row.decided_by IS NULL THEN r.critic_score ELSE row.critic_score END,
  r.decision_threshold = CASE WHEN row.decided_by IS NULL THEN r.decision_threshold ELSE row.decision_threshold END,
  r.proposed_type = CASE WHEN row.decided_by IS NULL THEN r.proposed_type ELSE row.proposed_type END,
  r.updated_at = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.updated_at ELSE $now END,
  r.evidence_ids = CASE WHEN row.evidence_id IN r.evidence_ids THEN r.evidence_ids ELSE r.evidence_ids + [row.evidence_id] END
RETURN count(r) AS matched, sum(CASE WHEN r.updated_at = $now THEN 1 ELSE 0 END) AS written"""


def test_type_relations_join_two_product_types_and_of_type_points_at_one() -> None:
    between = cypher.upsert_relations(RelationType.TYPE_COMPLEMENTS)
    assert "MATCH (h:Concept {id: row.head})" in between and "MATCH (t:Concept {id: row.tail})" in between
    of_type = cypher.upsert_relations(RelationType.OF_TYPE, cypher.ENDPOINTS_BY_NODE_ID)
    assert "h:Item AND h.id = row.head AND t:Concept AND t.id = row.tail" in of_type


def test_commonsense_relations_point_at_concepts_and_never_touch_status_on_match() -> None:
    statement = cypher.upsert_relations(RelationType.USED_FOR)
    assert "MATCH (t:Concept {id: row.tail})" in statement
    on_match = statement.split("ON MATCH SET", 1)[1]
    assert "status" not in on_match  # a curator's decision is never overwritten by a load


def test_the_decision_follows_rows_that_carry_one_whatever_their_evidence() -> None:
    on_match = cypher.upsert_relations(RelationType.COMPLEMENTS).split("ON MATCH SET", 1)[1]
    for name in cypher.DECISION_FIELDS:
        assert f"r.{name} = CASE WHEN row.decided_by IS NULL THEN r.{name} ELSE row.{name} END" in on_match
    assert set(cypher.DECISION_FIELDS) <= set(cypher.COPIED_ON_CREATE)  # the bulk writer's properties too


def test_review_queue_exact_text_orders_by_the_critics_uncertainty_times_support() -> None:
    assert cypher.REVIEW_QUEUE == """MATCH (h)-[r]->(t)
WHERE r.status = $status AND ($types IS NULL OR type(r) IN $types)
  AND ($model IS NULL OR r.model = $model)
  AND ($derived IS NULL OR (r.derived_from IS NOT NULL) = $derived)
  AND ($min_score IS NULL OR coalesce(r.critic_score, r.confidence) >= $min_score)
  AND ($max_score IS NULL OR coalesce(r.critic_score, r.confidence) <= $max_score)
  AND ($search IS NULL OR toLower(h.id) CONTAINS $search OR toLower(t.id) CONTAINS $search
    OR toLower(coalesce(h.title, h.text)) CONTAINS $search
    OR toLower(coalesce(t.title, t.text)) CONTAINS $search)
WITH h, r, t
ORDER BY CASE WHEN r.critic_score IS NULL THEN 1 ELSE 0 END,
  coalesce((1 - abs(2 * r.critic_score - 1)) * r.support, r.support) DESC, r.id
SKIP $skip
LIMIT $limit
RETURN r.id AS id, type(r) AS type, h.id AS head, coalesce(h.title, h.text) AS head_title, t.id AS tail,
  coalesce(t.title, t.text) AS tail_title, r.confidence AS confidence, r.support AS support,
  r.lift AS lift, r.model AS model, r.rationale AS rationale, r.status AS status,
  r.critic_score AS critic_score, r.decided_by AS decided_by, size(coalesce(r.history_at, [])) AS version"""
    assert cypher_curation.QUEUE_COUNT.startswith(cypher.QUEUE_MATCH) and cypher_curation.QUEUE_MEMBERS.startswith(cypher.QUEUE_MATCH)


def test_the_saved_browser_review_queue_keeps_the_clis_order() -> None:
    saved = (Path(__file__).resolve().parents[3] / "infra" / "neo4j" / "review_queue.cypher").read_text()
    assert cypher.REVIEW_ORDER in saved


def test_set_status_exact_text_appends_one_history_entry_and_checks_the_version() -> None:
    assert cypher.set_status(RelationType.VARIANT_OF) == """UNWIND $rows AS row
MATCH ()-[r:VARIANT_OF {id: row.id}]->()
WITH r, row WHERE row.version IS NULL OR size(coalesce(r.history_at, [])) = row.version
SET r.status = row.status, r.status_by = $by, r.status_at = $now,
  r.history_status = coalesce(r.history_status, []) + [row.status], \
r.history_by = coalesce(r.history_by, []) + [$by], r.history_at = coalesce(r.history_at, []) + [$now], \
r.history_decision = coalesce(r.history_decision, []) + [$decision], \
r.history_note = coalesce(r.history_note, []) + [row.note]
RETURN r.id AS id"""


def test_no_load_statement_touches_the_history() -> None:
    for relation in RelationType:
        assert "history" not in cypher.upsert_relations(relation)


def test_schema_statements_side_by_side() -> None:
    neo4j = cypher.schema_statements("neo4j")
    falkordb = cypher.schema_statements("falkordb")
    assert neo4j[0] == "CREATE CONSTRAINT item_id IF NOT EXISTS FOR (n:Item) REQUIRE n.id IS UNIQUE"
    assert falkordb[0] == "CREATE INDEX FOR (n:Item) ON (n.id)"
    assert len(neo4j) == 2 + 2 * len(RelationType) and len(falkordb) == 2 + len(RelationType)
    for dialect in ("neo4j", "falkordb"):  # a bulk load's schema: the node statements only
        assert cypher.schema_statements(dialect, relation_indexes=False) == cypher.schema_statements(dialect)[:2]


def test_relation_ids_are_stable_typed_and_symmetric_where_meaningful() -> None:
    forward = relation_id("P1", RelationType.VARIANT_OF, "P2")
    assert forward == relation_id("P2", RelationType.VARIANT_OF, "P1")
    assert forward.startswith("VARIANT_OF:") and len(forward) == len("VARIANT_OF:") + 24
    assert relation_id("P1", RelationType.COMPLEMENTS, "P2") != relation_id("P2", RelationType.COMPLEMENTS, "P1")
    assert relation_type_of(forward) is RelationType.VARIANT_OF
    with pytest.raises(ValueError, match="not a relation id"):
        relation_type_of("nonsense")


def test_dataset_marks_exact_text_and_counts_leave_them_out() -> None:
    assert cypher.DATASETS == """MATCH (d:Dataset)
RETURN d.key AS key, d.description AS description
ORDER BY d.created_at, d.key"""
    assert cypher.MARK_DATASET == """MERGE (d:Dataset {key: $key})
ON CREATE SET d.created_at = $now
SET d.description = $description"""
    assert cypher.COUNTS == """MATCH (n) WHERE NOT n:Dataset
WITH count(n) AS nodes
OPTIONAL MATCH ()-[r]->()
RETURN nodes, count(r) AS relations"""


def _all_neo4j_statements() -> list[tuple[str, dict[str, object]]]:
    statements: list[tuple[str, dict[str, object]]] = [(s, {}) for s in cypher.schema_statements("neo4j")]
    statements += [(cypher.UPSERT_ITEMS, ROW_PARAMS), (cypher.UPSERT_CONCEPTS, ROW_PARAMS),
                   (cypher.missing_nodes("Item"), {"ids": []}), (cypher.missing_nodes("Concept"), {"ids": []}),
                   *((q, {**QUEUE_PARAMS, "skip": 0, "limit": 1}) for q in (
                       cypher.REVIEW_QUEUE, cypher.QUEUE_ORDER, cypher_curation.QUEUE_COUNT,
                       cypher_curation.QUEUE_MEMBERS)),
                   (cypher_curation.ITEM, {"id": ""}), (cypher_curation.NEIGHBOURHOOD, {"id": "", "limit": 1}),
                   (cypher_curation.PROGRESS_BY_TYPE, {}), (cypher_curation.PROGRESS_BY_CURATOR, {}), (cypher_curation.SOURCES, {}),
                   (cypher_curation.LAST_DECISION, {"by": "", "undo": ""}), (cypher_curation.DECISION_MEMBERS, {"decision": ""}),
                   (cypher.CURATED_LABELS, {"after": "", "limit": 1}),
                   (cypher.CONCEPTS, {"after": "", "limit": 1}),
                   (cypher.SNAPSHOT_RELATIONS, {"after": "", "limit": 1, "statuses": [], "as_of": 0,
                                                   "loaded_by": 0}),
                   (cypher.SNAPSHOT_ITEMS, {"after": "", "limit": 1, "loaded_by": 0}),
                   (cypher.SNAPSHOT_CONCEPTS, {"after": "", "limit": 1, "loaded_by": 0}),
                   (cypher.COUNTS, {}), (cypher.DATASETS, {}),
                   (cypher.MARK_DATASET, {"key": "", "description": "", "now": 0}),
                   (cypher.LABEL_PRODUCT_TYPES, {}),
                   (cypher.WITHDRAW_DERIVED, DECISION_PARAMS), (cypher.RESTORE_DERIVED, DECISION_PARAMS),
                   (cypher.DERIVED_RELATIONS, {"ids": []}), (cypher.CONCEPT_NODES, {"ids": []}),
                   (cypher.MERGE_CONCEPT, CONCEPT_PARAMS), (cypher.SPLIT_CONCEPT, {**CONCEPT_PARAMS, "text": ""}),
                   (cypher.RENAME_DERIVED_FROM, {"rows": []})]
    for relation in RelationType:
        statements.append((cypher.upsert_relations(relation), ROW_PARAMS))
        statements.append((cypher.set_status(relation), {"rows": [], "by": "", "now": 0, "decision": ""}))
        statements.append((cypher_curation.relation_states(relation), {"ids": []}))
        statements.append((cypher_curation.relation_card(relation), {"id": ""}))
        statements.append((cypher_curation.queue_rows(relation), {**QUEUE_PARAMS, "ids": []}))
        statements.append((cypher_curation.delete_relation(relation), {"id": "", "decision": ""}))
    for old, new in itertools.permutations(ITEM_RELATIONS, 2):
        statements.append((cypher_curation.relabel(old, new), RELABEL_PARAMS))
    for relation in RelationType:
        if cypher.tail_label(relation) == "Concept":
            statements.append((cypher.relations_at_concept(relation), {"id": ""}))
            statements.append((cypher.move_relations(relation), {"rows": []}))
    from kg.backends.neo4j import AWAIT_INDEXES, CLEAR

    statements += [(CLEAR, {}), (AWAIT_INDEXES, {})]
    return statements


def test_every_statement_constant_is_checked() -> None:
    checked = {statement for statement, _ in _all_neo4j_statements()}
    constants = {name: value for module in (cypher, cypher_curation) for name, value in vars(module).items()
                 if name.isupper() and isinstance(value, str) and ("MATCH" in value or "MERGE" in value)}
    fragments = {"ENDPOINTS_BY_PROPERTY", "ENDPOINTS_BY_NODE_ID", "RESOLVE_NODES", "MISSING_NODES",
                 "ANY_RELATIONSHIP", "QUEUE_MATCH"}  # statement heads and templates, checked through their builders
    assert sorted(name for name, value in constants.items() if value not in checked and name not in fragments) == []


def _one_per_shape(statements: list[tuple[str, dict[str, object]]]) -> list[tuple[str, dict[str, object]]]:
    """The first statement of each shape: statements that differ only in the relation type they
    name are one shape (the builders fill the same template), so the linter, which takes about
    a third of a second a statement, reads each template once."""
    names = sorted((r.value for r in RelationType), key=len, reverse=True)  # USED_FOR before USED

    def shape(statement: str) -> str:
        return re.sub("|".join(names), "TYPE", statement)

    firsts: dict[str, tuple[str, dict[str, object]]] = {}
    for statement, parameters in statements:
        firsts.setdefault(shape(statement), (statement, parameters))
    return list(firsts.values())


def test_every_neo4j_statement_passes_neo4js_own_front_end(cypher_linter) -> None:  # noqa: ANN001
    problems = {}
    every_type = "|".join(r.value for r in RelationType)  # every name the shapes stand for, as Neo4j reads it
    named = (f"MATCH ()-[r:{every_type}]->() RETURN count(r) AS n", {})
    for statement, parameters in [named, *_one_per_shape(_all_neo4j_statements())]:
        diagnostics = [d for d in cypher_linter.diagnostics(statement, parameters) if d["severity"] == 1]
        if diagnostics:
            problems[statement] = diagnostics
    assert not problems


def test_the_linter_does_catch_errors(cypher_linter) -> None:  # noqa: ANN001
    assert cypher_linter.diagnostics("MATCH (n) RETURN m", {})
    assert cypher_linter.diagnostics("UNWIND $rows AS row RETURN row", {})  # undeclared parameter


def test_no_statement_formats_data_into_its_text() -> None:
    """Only enum-derived names are formatted in; every value is a $parameter."""
    for statement, _ in _all_neo4j_statements():
        for literal in re.findall(r"'([^']*)'", statement):
            assert literal in {status.value for status in CurationStatus} | {PRODUCT_TYPE}, statement


SAVED = sorted((Path(__file__).resolve().parents[3] / "infra" / "neo4j").glob("*.cypher"))
SAVED_PARAMS = {"limit": 1, "id": "", "ids": [], "by": "", "item": ""}


@pytest.mark.parametrize("path", SAVED, ids=[p.name for p in SAVED])
def test_saved_browser_queries_pass_neo4js_front_end(path: Path, cypher_linter) -> None:  # noqa: ANN001
    query = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("//"))
    errors = [d for d in cypher_linter.diagnostics(query, SAVED_PARAMS) if d["severity"] == 1]
    assert not errors
