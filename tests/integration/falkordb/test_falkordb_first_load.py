"""A first load into FalkorDB: GRAPH.BULK for new relations, MERGE for the rest, one load at a time."""

import math
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import redis

from kg import cypher
from kg.backends.falkordb.store import FalkorDBStore
from kg.errors import GraphBusy
from kg.load import RetryPolicy, load_directory
from kg.schema import RelationType, concept_id, relation_id

HOSTILE = "Tent \"Pro\" ') RETURN 1 // `x` $rows \\ ✓"
POLICY = RetryPolicy(max_retries=1, backoff_s=0.01)
CAMPING = concept_id("function", "camping")


def _relation(head: str, relation: RelationType, tail: str, evidence: str, **extra: Any) -> dict[str, Any]:
    row = {"id": relation_id(head, relation, tail), "head": head, "type": relation.value, "tail": tail,
           "tail_text": None, "confidence": 0.5, "support": 2, "lift": 1.5,
           "first_seen": datetime(2026, 1, 10, tzinfo=UTC), "last_seen": datetime(2026, 2, 1, tzinfo=UTC),
           "model": "m", "prompt_version": "v1", "rationale": None, "run_id": f"run-{evidence}",
           "evidence_id": evidence}
    return {**row, **extra}


def _input(directory: Path, relations: list[dict[str, Any]], items: list[str]) -> Path:
    for name in ("relations", "items", "concepts"):
        (directory / name).mkdir(parents=True)
    pl.DataFrame(relations, infer_schema_length=None).write_parquet(directory / "relations" / "part.parquet")
    pl.DataFrame({"item_id": items, "title": items, "category": None, "brand": None},
                 schema_overrides={"category": pl.String, "brand": pl.String}).write_parquet(
        directory / "items" / "part.parquet")
    pl.DataFrame([{"id": CAMPING, "text": "camping", "kind": "function", "aliases": []}]).write_parquet(
        directory / "concepts" / "part.parquet")
    return directory


CRITIC_A = {"decided_by": "critic-a", "critic_score": 0.9, "decision_threshold": 0.5}
RELATIONS = [
    _relation("A", RelationType.COMPLEMENTS, "B", "e1", rationale=HOSTILE, lift=None, **CRITIC_A),
    # no decision: the one above stays
    _relation("A", RelationType.COMPLEMENTS, "B", "e2", support=5, last_seen=datetime(2026, 3, 1, tzinfo=UTC)),
    _relation("A", RelationType.USED_FOR, CAMPING, "e1", tail_text=HOSTILE, lift=math.nan,
              decided_by="llm-rule", proposed_type=HOSTILE),
    _relation("B", RelationType.CO_PURCHASED, "C", "e1", first_seen=None, last_seen=None),
    # next batch: the first relation again, its evidence already counted but judged anew, and a new one
    _relation("A", RelationType.COMPLEMENTS, "B", "e1", support=100, decided_by="critic-b", critic_score=0.25,
              decision_threshold=0.4, proposed_type="SUBSTITUTES"),
    _relation("C", RelationType.SUBSTITUTES, "D", "e1", lift=math.inf),
    _relation("C", RelationType.SUBSTITUTES, "NOPE", "e1"),
    _relation("D", RelationType.VARIANT_OF, "A", "e1", model="bad\x00model"),
    # last batch: new evidence for a relation created two batches before
    _relation("B", RelationType.CO_PURCHASED, "C", "e3", support=1, first_seen=datetime(2025, 1, 1, tzinfo=UTC)),
]
ITEMS = ["A", "B", "C", "D", "X", "Y"]


def _relationships(store: FalkorDBStore) -> dict[str, dict[str, Any]]:
    rows = store._read("MATCH (h)-[r]->(t) RETURN type(r) AS type, h.id AS head, t.id AS tail, "
                       "properties(r) AS props", {})
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        props = dict(row["props"])
        assert props["id"] not in found, f"duplicate relationship {props['id']}"
        assert 0 < props.pop("created_at") <= props.pop("updated_at")
        found[props["id"]] = {**props, "type": row["type"], "head": row["head"], "tail": row["tail"]}
    return found


def _bulk_calls(store: FalkorDBStore) -> int:
    stats = store._db.connection.info("commandstats")
    return int(next((v["calls"] for k, v in stats.items() if k.lower() == "cmdstat_graph.bulk"), 0))


def test_a_first_load_writes_what_the_merge_writes(falkordb_url: str, tmp_path: Path) -> None:
    with FalkorDBStore(falkordb_url, "first") as first, FalkorDBStore(falkordb_url, "merged") as merged:
        first.clear()
        merged.clear()
        seed = [_relation("X", RelationType.COMPLEMENTS, "Y", "seed")]
        load_directory(merged, _input(tmp_path / "seed", seed, ["X", "Y"]), 10, POLICY)
        calls = _bulk_calls(first)
        reports = [load_directory(store, _input(tmp_path / store.graph_name, RELATIONS, ITEMS), 4, POLICY)
                   for store in (first, merged)]
        assert _bulk_calls(first) > calls  # the first load used GRAPH.BULK
        assert [r.relation_indexes_built_after for r in reports] == [True, False]
        assert reports[0].relations_counted == reports[1].relations_counted == 6
        assert reports[0].quarantined == reports[1].quarantined == {"unknown tail": 1, "invalid relation": 1}
        refused = pl.read_parquet(tmp_path / "first" / "_load" / "quarantine" / "*.parquet")
        assert any("model: holds a NUL character" in reason for reason in refused["reason"])
        created, mergeds = _relationships(first), _relationships(merged)
        mergeds.pop(seed[0]["id"])
        assert created == mergeds and len(created) == 4
        complements = created[RELATIONS[0]["id"]]
        assert complements["support"] == 7 and complements["evidence_ids"] == ["e1", "e2"]
        # provenance moved to the later evidence, in input order, which has no rationale
        assert complements["run_id"] == "run-e2" and "rationale" not in complements
        assert complements["status"] == "proposed" and created[RELATIONS[2]["id"]]["tail_text"] == HOSTILE
        assert {k: complements.get(k) for k in cypher.DECISION_FIELDS} == {
            "decided_by": "critic-b", "critic_score": 0.25, "decision_threshold": 0.4, "proposed_type": "SUBSTITUTES"}
        used_for = created[RELATIONS[2]["id"]]  # created by GRAPH.BULK: a null is no property there either
        assert (used_for["decided_by"], used_for["proposed_type"]) == ("llm-rule", HOSTILE)
        assert "critic_score" not in used_for and "decision_threshold" not in used_for
        assert "lift" not in created[RELATIONS[2]["id"]] and "lift" not in created[RELATIONS[5]["id"]]
        co_purchased = created[RELATIONS[3]["id"]]
        assert co_purchased["support"] == 3 and co_purchased["first_seen"] == 1735689600000
        # the relationship id index built at the end is what curation finds relations by
        plan = first._graph.explain(cypher.set_status(RelationType.COMPLEMENTS),
                                    {"rows": [], "by": "ann", "now": 0, "decision": ""})
        assert "Edge By Index Scan | [r:COMPLEMENTS]" in str(plan)


def test_a_create_that_got_no_answer_is_merged_without_a_duplicate(falkordb_url: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with FalkorDBStore(falkordb_url, "unanswered") as store:
        store.clear()
        real_prepare = store.prepare_create

        def applied_then_lost(*args: Any) -> Any:
            send = real_prepare(*args)

            def send_then_lose_the_reply() -> Any:
                send()
                raise redis.exceptions.ConnectionError("connection lost before the reply")

            return send_then_lose_the_reply

        monkeypatch.setattr(store, "prepare_create", applied_then_lost)
        report = load_directory(store, _input(tmp_path / "in", RELATIONS, ITEMS), 4, POLICY)
        assert report.relations_counted == 6
        assert _relationships(store)[RELATIONS[0]["id"]]["support"] == 7


def test_loads_into_one_graph_take_turns(falkordb_url: str) -> None:
    with FalkorDBStore(falkordb_url, "turns") as one, FalkorDBStore(falkordb_url, "turns") as other:
        one.clear()
        assert one.begin_load()
        started: list[float] = []
        waiter = threading.Thread(target=lambda: started.append(other.begin_load() and time.monotonic()))
        waiter.start()
        time.sleep(1.0)
        assert not started  # still waiting for the first load
        released = time.monotonic()
        one.end_load()
        waiter.join(timeout=10)
        assert started and started[0] >= released
        other.end_load()


def test_a_load_that_stalls_past_its_lease_stops_instead_of_racing(falkordb_url: str) -> None:
    with (FalkorDBStore(falkordb_url, "stall", lease_s=0.3) as stalled,
          FalkorDBStore(falkordb_url, "stall") as next_load):
        stalled.clear()
        stalled.begin_load()
        time.sleep(0.6)
        next_load.begin_load()  # the stalled load's lease lapsed: this one holds the graph now
        with pytest.raises(GraphBusy, match="lapsed"):
            stalled.upsert_concepts([{"id": CAMPING, "text": "camping", "kind": "function", "aliases": []}])
        next_load.end_load()
        stalled.end_load()  # releases nothing of the other load's
