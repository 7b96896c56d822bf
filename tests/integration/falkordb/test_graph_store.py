"""The GraphStore contract, against a real FalkorDB always and a real Neo4j when NEO4J_URI is set."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from kg import cypher
from kg.backends.falkordb.store import FalkorDBStore
from kg.errors import UnknownRelationError
from kg.load import load_directory
from kg.schema import CurationStatus, RelationType, SnapshotTime, concept_id, relation_id
from kg.snapshot import write_snapshot
from kg.store import GraphStore
from tests._support.graph_rows import HOSTILE, POLICY
from tests._support.graph_rows import relation_row as _relation
from tests._support.graph_rows import write_input as _write_input


def _edges(store: GraphStore, tmp: Path) -> pl.DataFrame:
    write_snapshot(store, datetime(2100, 1, 1, tzinfo=UTC), list(CurationStatus), tmp)
    return pl.read_parquet(tmp / "relations.parquet").sort("id")


def test_loading_twice_leaves_the_graph_identical(store: GraphStore, tmp_path: Path) -> None:
    relations = [_relation("A", RelationType.COMPLEMENTS, "B", "run1"),
                 _relation("B", RelationType.VARIANT_OF, "C", "run1")]
    source = _write_input(tmp_path / "in", relations, items=["A", "B", "C"])
    first = load_directory(store, source, 1, POLICY)
    assert (first.items, first.relations_counted) == (3, 2)
    # a first load into FalkorDB builds the relationship indexes at its end, and waits for them
    assert first.relation_indexes_built_after == isinstance(store, FalkorDBStore)
    if isinstance(store, FalkorDBStore):
        states = {row["label"]: row["status"] for row in store._read(cypher.INDEX_STATES, {})}
        assert set(states) == {"Item", "Concept", *RelationType} and set(states.values()) == {"OPERATIONAL"}
    before = _edges(store, tmp_path / "s1")
    (source / "_load").rename(tmp_path / "old-state")  # force a full re-send, not a resume
    again = load_directory(store, source, 1, POLICY)
    assert again.relations_counted == 0 and not again.relation_indexes_built_after
    assert store.counts() == {"nodes": 3, "relations": 2}
    assert _edges(store, tmp_path / "s2").equals(before)


def test_evidence_from_new_runs_merges(store: GraphStore, tmp_path: Path) -> None:
    load_directory(store, _write_input(tmp_path / "a", [_relation("A", RelationType.COMPLEMENTS, "B", "run1")],
                                       items=["A", "B"]), 100, POLICY)
    same_evidence_new_run = _relation("A", RelationType.COMPLEMENTS, "B", "run9", evidence_id="evidence-of-run1")
    load_directory(store, _write_input(tmp_path / "rerun", [same_evidence_new_run], items=["A", "B"]), 100, POLICY)
    assert _edges(store, tmp_path / "s0").row(0, named=True)["support"] == 3  # re-run on the same data
    later = _relation("A", RelationType.COMPLEMENTS, "B", "run2", support=2,
                      first_seen=datetime(2026, 1, 1, tzinfo=UTC), last_seen=datetime(2026, 1, 20, tzinfo=UTC))
    load_directory(store, _write_input(tmp_path / "b", [later], items=["A", "B"]), 100, POLICY)
    edge = _edges(store, tmp_path / "s").row(0, named=True)
    assert edge["support"] == 5
    assert edge["first_seen"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert edge["last_seen"] == datetime(2026, 2, 1, tzinfo=UTC)


def test_curators_decisions_survive_reloads(store: GraphStore, tmp_path: Path) -> None:
    kept = _relation("A", RelationType.COMPLEMENTS, "B", "run1")
    dropped = _relation("A", RelationType.SUBSTITUTES, "C", "run1")
    load_directory(store, _write_input(tmp_path / "a", [kept, dropped], items=["A", "B", "C"]), 100, POLICY)
    store.set_status([kept["id"]], CurationStatus.ACCEPTED, "ann")
    store.set_status([dropped["id"]], CurationStatus.REJECTED, "ann")
    rerun = [{**kept, "run_id": "run2", "evidence_id": "ev2", "confidence": 0.1},
             {**dropped, "run_id": "run2", "evidence_id": "ev2"}]
    load_directory(store, _write_input(tmp_path / "b", rerun, items=[]), 100, POLICY)  # the graph holds them
    assert store.review_queue(CurationStatus.PROPOSED, 10) == []
    statuses = dict(_edges(store, tmp_path / "s").select("id", "status").iter_rows())
    assert statuses == {kept["id"]: "accepted", dropped["id"]: "rejected"}
    accepted = store.review_queue(CurationStatus.ACCEPTED, 10)
    assert accepted[0]["confidence"] == pytest.approx(0.1)  # evidence still updates


def test_unknown_ids_change_nothing(store: GraphStore, tmp_path: Path) -> None:
    real = _relation("A", RelationType.COMPLEMENTS, "B", "run1")
    load_directory(store, _write_input(tmp_path / "a", [real], items=["A", "B"]), 100, POLICY)
    with pytest.raises(UnknownRelationError, match="COMPLEMENTS:missing"):
        store.set_status([real["id"], "COMPLEMENTS:missing"], CurationStatus.REJECTED, "ann")
    assert store.review_queue(CurationStatus.PROPOSED, 10)[0]["id"] == real["id"]


def test_bad_rows_and_missing_endpoints_are_quarantined(store: GraphStore, tmp_path: Path) -> None:
    good = _relation("A", RelationType.COMPLEMENTS, "B", "run1")
    orphan = _relation("A", RelationType.COMPLEMENTS, "ZZZ", "run1")
    invalid = _relation("A", RelationType.COMPLEMENTS, "C", "run1", confidence=7.0)
    kindless = {"id": "function:hiking", "text": "hiking", "kind": None, "aliases": []}
    source = _write_input(tmp_path / "a", [good, orphan, invalid], items=["A", "B", "C"], concepts=[kindless])
    report = load_directory(store, source, 100, POLICY)
    assert report.relations_counted == 1 and report.concepts == 0
    assert report.quarantined == {"unknown tail": 1, "invalid relation": 1, "invalid concept": 1}
    refused = pl.read_parquet(source / "_load" / "quarantine" / "*.parquet")
    assert "unknown tail 'ZZZ'" in refused["reason"].to_list()


def test_hostile_text_round_trips_as_data(store: GraphStore, tmp_path: Path) -> None:
    camping = concept_id("function", "  Camping ")
    assert camping == "function:camping"
    concept = {"id": camping, "text": "camping", "kind": "function", "aliases": [HOSTILE]}
    used_for = _relation("A", RelationType.USED_FOR, camping, "run1", rationale=HOSTILE, tail_text=HOSTILE)
    load_directory(store, _write_input(tmp_path / "a", [used_for], items=["A"], concepts=[concept]), 100, POLICY)
    row = store.review_queue(CurationStatus.PROPOSED, 5)[0]
    assert row["head_title"] == HOSTILE and row["rationale"] == HOSTILE
    assert store.counts() == {"nodes": 2, "relations": 1}


def test_snapshot_is_point_in_time_and_filters_status(store: GraphStore, tmp_path: Path) -> None:
    early = _relation("A", RelationType.COMPLEMENTS, "B", "run1")
    late = _relation("A", RelationType.COMPLEMENTS, "C", "run1", first_seen=datetime(2099, 6, 1, tzinfo=UTC),
                     last_seen=datetime(2099, 7, 1, tzinfo=UTC))
    load_directory(store, _write_input(tmp_path / "a", [early, late], items=["A", "B", "C"]), 100, POLICY)
    manifest = write_snapshot(store, datetime(2100, 1, 1, tzinfo=UTC), [CurationStatus.PROPOSED], tmp_path / "all")
    assert manifest["relations"] == 2 and manifest["statistics"]["components"] == 1
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    # Evidence time: the late pair's evidence starts in 2099, after the snapshot.
    assert write_snapshot(store, tomorrow, [CurationStatus.PROPOSED], tmp_path / "now")["relations"] == 1
    # System time: nothing had been loaded a day ago.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    assert write_snapshot(store, yesterday, [CurationStatus.PROPOSED], tmp_path / "before")["relations"] == 0
    # A backfill reads evidence time only: history loaded today, snapshotted in the past.
    backfill = write_snapshot(store, yesterday, [CurationStatus.PROPOSED], tmp_path / "backfill",
                              SnapshotTime.EVIDENCE)
    assert (backfill["relations"], backfill["items"], backfill["time"]) == (1, 3, "evidence")
    assert pl.read_parquet(tmp_path / "backfill" / "relations.parquet")["id"].to_list() == [early["id"]]
    store.set_status([early["id"]], CurationStatus.REJECTED, "ann")
    accepted_only = write_snapshot(store, datetime(2100, 1, 1, tzinfo=UTC), [CurationStatus.ACCEPTED],
                                   tmp_path / "accepted")
    assert accepted_only["relations"] == 0 and accepted_only["items"] == 3


def test_parallel_writers_give_the_same_graph(store: GraphStore, tmp_path: Path) -> None:
    items = [f"I{i:03d}" for i in range(60)]
    relations = [_relation(items[i], RelationType.COMPLEMENTS, items[(i * 7 + 3) % 60], "run1", support=i + 1)
                 for i in range(60) if items[i] != items[(i * 7 + 3) % 60]]
    source = _write_input(tmp_path / "a", relations, items=items)
    report = load_directory(store, source, 25, POLICY, writers=4)
    assert report.relations_counted == len(relations)
    edges = _edges(store, tmp_path / "s")
    assert edges.height == len(relations)
    assert sorted(edges["support"].to_list()) == sorted(r["support"] for r in relations)


def test_a_resumed_load_keeps_earlier_refusals_once(store: GraphStore, tmp_path: Path) -> None:
    relations = [_relation("A", RelationType.COMPLEMENTS, "ZZZ", "run1"),
                 _relation("A", RelationType.COMPLEMENTS, "B", "run1")]
    source = _write_input(tmp_path / "a", relations, items=["A", "B"])
    first = load_directory(store, source, 1, POLICY)
    resumed = load_directory(store, source, 1, POLICY)  # state says every batch is done
    assert resumed.resumed_after_batch == 2 and resumed.relations_counted == 0
    assert first.quarantined == resumed.quarantined == {"unknown tail": 1}
    assert pl.read_parquet(source / "_load" / "quarantine" / "*.parquet").height == 1


def test_nodes_without_an_id_or_with_a_nul_character_are_quarantined(store: GraphStore, tmp_path: Path) -> None:
    source = _write_input(tmp_path / "a", [_relation("A", RelationType.COMPLEMENTS, "B", "run1")],
                          concepts=[{"id": "function:hiking", "text": "hiking", "kind": "function",
                                     "aliases": ["walk\x00ing"]}])
    (source / "items").mkdir()
    pl.DataFrame({"item_id": ["A", None, "B", "C"], "title": ["a", "no id", "b", "c\x00c"]}).write_parquet(
        source / "items" / "part.parquet")
    report = load_directory(store, source, 100, POLICY)
    assert (report.items, report.concepts, report.relations_counted) == (2, 0, 1)
    refused = pl.read_parquet(source / "_load" / "quarantine" / "*.parquet").sort("row_number")
    assert sorted(refused["reason"].to_list()) == [
        "invalid concept: aliases: holds a NUL character", "invalid item: item_id: missing",
        "invalid item: title: holds a NUL character"]
    assert store.counts() == {"nodes": 2, "relations": 1}


def test_a_graph_nothing_was_written_to_reads_as_empty(falkordb_url: str) -> None:
    with FalkorDBStore(falkordb_url, "never-written") as store:
        assert store.review_queue(CurationStatus.PROPOSED, 10) == []
        assert list(store.pages(cypher.CURATED_LABELS, {})) == []


def _decision(store: GraphStore) -> dict[str, Any]:
    rows = store._read("MATCH ()-[r]->() RETURN r.decided_by AS decided_by, r.critic_score AS critic_score, "
                       "r.decision_threshold AS decision_threshold, r.proposed_type AS proposed_type, "
                       "r.support AS support", {})
    assert len(rows) == 1
    return rows[0]


def test_the_decision_follows_the_latest_refine_and_outlives_loads_without_one(store: GraphStore,
                                                                                tmp_path: Path) -> None:
    first = _relation("A", RelationType.COMPLEMENTS, "B", "run1", decided_by="critic-a", critic_score=0.9,
                      decision_threshold=0.5, proposed_type="SUBSTITUTES")
    load_directory(store, _write_input(tmp_path / "a", [first], items=["A", "B"]), 100, POLICY)
    assert _decision(store) == {"decided_by": "critic-a", "critic_score": 0.9, "decision_threshold": 0.5,
                                "proposed_type": "SUBSTITUTES", "support": 3}
    # the same evidence judged by a newer critic: the decision moves (all four, nulls too), support does not
    rescored = {**first, "run_id": "run2", "decided_by": "critic-b", "critic_score": 0.3,
                "decision_threshold": 0.6, "proposed_type": None}
    load_directory(store, _write_input(tmp_path / "b", [rescored], items=[]), 100, POLICY)
    after = {"decided_by": "critic-b", "critic_score": 0.3, "decision_threshold": 0.6, "proposed_type": None}
    assert _decision(store) == {**after, "support": 3}
    # new evidence without a decision, from a file written before the decision columns existed
    undecided = _relation("A", RelationType.COMPLEMENTS, "B", "run3")
    source = _write_input(tmp_path / "c", [undecided], items=[])
    load_directory(store, source, 100, POLICY)
    assert _decision(store) == {**after, "support": 6}
    edge = _edges(store, tmp_path / "s1")
    assert edge.select("critic_score", "decided_by", "proposed_type").row(0) == (0.3, "critic-b", None)
    (source / "_load").rename(tmp_path / "old-state")  # a full re-send of the same input
    load_directory(store, source, 100, POLICY)
    assert _edges(store, tmp_path / "s2").equals(edge)


def test_review_queue_puts_what_teaches_the_critic_most_first(store: GraphStore, tmp_path: Path) -> None:
    scored = {"B": (10, 0.5), "C": (40, 0.95), "D": (5, 0.45), "E": (4, 0.25), "F": (4, 0.75), "G": (9, 0.0)}
    unscored = {"H": 100, "I": 7}
    relations = [_relation("A", RelationType.COMPLEMENTS, tail, "run1", support=support, critic_score=score,
                           decided_by="critic-a", decision_threshold=0.5)
                 for tail, (support, score) in scored.items()]
    relations += [_relation("A", RelationType.COMPLEMENTS, tail, "run1", support=support)
                  for tail, support in unscored.items()]
    load_directory(store, _write_input(tmp_path / "a", relations, items=list("ABCDEFGHI")), 100, POLICY)
    queue = store.review_queue(CurationStatus.PROPOSED, 20)
    tie = sorted(relation_id("A", RelationType.COMPLEMENTS, tail) for tail in "EF")  # 0.5 * 4 each: by id
    # uncertainty x support: B 10, D 4.5, C 4, E and F 2, G 0; then the unscored by support: H, I
    expected = [relation_id("A", RelationType.COMPLEMENTS, tail) for tail in "BDC"] + tie + [
        relation_id("A", RelationType.COMPLEMENTS, tail) for tail in "GHI"]
    assert [row["id"] for row in queue] == expected
    assert (queue[0]["critic_score"], queue[0]["decided_by"]) == (0.5, "critic-a")
    assert (queue[-1]["critic_score"], queue[-1]["decided_by"]) == (None, None)
    assert [row["id"] for row in store.review_queue(CurationStatus.PROPOSED, 2)] == expected[:2]


def test_a_graph_is_claimed_for_one_dataset_and_refuses_another_unless_shared_or_cleared(
        store: GraphStore, tmp_path: Path) -> None:
    from kg.errors import GraphHoldsOtherDataset
    from kg.schema import DatasetMark

    synthetic = DatasetMark(key="synth-seed7-00000000", description="synthetic data (seed 7)")
    retail = DatasetMark(key="online-retail-11111111", description="online-retail files /data/retail")
    assert store.datasets() == [] and store.counts() == {"nodes": 0, "relations": 0}
    assert store.claim(synthetic) == "new"
    assert store.counts() == {"nodes": 0, "relations": 0}  # the mark is no knowledge
    assert store.claim(synthetic) == "same" and store.datasets() == [synthetic]
    load_directory(store, _write_input(tmp_path / "in", [_relation("A", RelationType.CO_PURCHASED, "B", "r1")],
                                       ["A", "B"]), 10, POLICY)
    with pytest.raises(GraphHoldsOtherDataset) as refused:
        store.claim(retail)
    assert str(refused.value).startswith(f"{store.name}: holds synthetic data (seed 7), not online-retail files")
    assert "--clear-graph" in str(refused.value) and "graph.shared" in str(refused.value)
    assert store.counts() == {"nodes": 2, "relations": 1}  # refused: nothing changed
    assert store.claim(retail, shared=True) == "shared" and store.datasets() == [synthetic, retail]
    assert store.claim(DatasetMark(key="x", description="x"), clear=True) == "cleared"
    assert store.counts() == {"nodes": 0, "relations": 0} and [m.key for m in store.datasets()] == ["x"]


def test_a_graph_loaded_before_datasets_were_marked_is_adopted(store: GraphStore, tmp_path: Path) -> None:
    from kg.schema import DatasetMark

    load_directory(store, _write_input(tmp_path / "in", [_relation("A", RelationType.CO_PURCHASED, "B", "r1")],
                                       ["A", "B"]), 10, POLICY)
    assert store.claim(DatasetMark(key="k", description="d")) == "adopted"
    assert store.counts() == {"nodes": 2, "relations": 1}


def test_falkordb_lists_its_graphs_and_refuses_to_be_a_plain_redis(falkordb_url: str, redis_url: str) -> None:
    from kg.errors import StoreUnavailable
    from kg.schema import DatasetMark

    with FalkorDBStore(falkordb_url, "listed-graph") as store:
        store.clear()
        store.claim(DatasetMark(key="k", description="d"))
        assert "listed-graph" in store.graphs()
        store.clear()
    with pytest.raises(StoreUnavailable, match="answers, but is not FalkorDB"), FalkorDBStore(redis_url, "g"):
        pass
