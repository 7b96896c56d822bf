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
