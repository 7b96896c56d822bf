from pathlib import Path

from gnn.features import node_texts
from gnn.ids import IdMap
from gnn.stream import read_snapshot
from tests._support.gnn_data import write_snapshot


def test_item_text_carries_its_knowledge_from_both_ends_of_symmetric_relations(tmp_path: Path) -> None:
    snapshot = read_snapshot(write_snapshot(tmp_path))
    ids = IdMap(["u1"], [*snapshot.items["id"].to_list(), "i999"], snapshot.concepts["id"].to_list())
    texts = node_texts(snapshot, ids, with_knowledge=True, per_item=8)
    assert texts[0] == "mug model 0. group 0. Related: mug model 1, mug model 9. Concepts: for mug things"
    assert texts[40] == ""  # an item only the events know: no text, zero feature
    assert sorted(texts[41:]) == ["for lamp things", "for mug things", "for scarf things", "for tent things"]
    plain = node_texts(snapshot, ids, with_knowledge=False, per_item=8)
    assert plain[0] == "mug model 0. group 0"


def test_neighbours_without_a_name_add_no_knowledge_text(tmp_path: Path) -> None:
    import polars as pl

    snapshot = read_snapshot(write_snapshot(tmp_path))
    snapshot.items = snapshot.items.with_columns(pl.lit(None, pl.String).alias("title"),
                                                 pl.lit(None, pl.String).alias("category"))
    snapshot.concepts = snapshot.concepts.head(0)
    ids = IdMap(["u1"], snapshot.items["id"].to_list())
    # Untitled pages related to untitled pages (JODIE Wikipedia): nothing to say, no "Related: ".
    assert set(node_texts(snapshot, ids, with_knowledge=True, per_item=8)) == {""}


def test_training_without_any_text_uses_no_text_features(tmp_path: Path) -> None:
    import polars as pl

    from gnn.config import GnnSection
    from gnn.data import prepare
    from tests._support.gnn_data import write_events

    snap = write_snapshot(tmp_path / "snap")
    for name in ("items", "concepts"):
        table = pl.read_parquet(snap / f"{name}.parquet")
        column = "title" if name == "items" else "text"
        table.with_columns(pl.lit(None, pl.String).alias(column), *(
            [pl.lit(None, pl.String).alias("category")] if name == "items" else [])).write_parquet(
            snap / f"{name}.parquet")
    prepared = prepare(GnnSection(text_cache_dir=tmp_path / "cache"), write_events(tmp_path / "ingest", events=300),
                       snap, baseline=False)
    assert prepared.features is None
