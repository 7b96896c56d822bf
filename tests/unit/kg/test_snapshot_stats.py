"""Graph statistics of a snapshot, on a graph small enough to count by hand."""

from kg.snapshot import graph_statistics


def test_statistics_by_hand() -> None:
    edges = [
        {"head": "a", "tail": "b", "type": "COMPLEMENTS"},
        {"head": "a", "tail": "c", "type": "CO_PURCHASED"},
        {"head": "a", "tail": "function:camping", "type": "USED_FOR"},
        {"head": "b", "tail": "function:camping", "type": "USED_FOR"},
        {"head": "x", "tail": "y", "type": "VARIANT_OF"},
    ]
    stats = graph_statistics(edges)
    assert (stats["nodes"], stats["edges"], stats["components"], stats["largest_component"]) == (6, 5, 2, 4)
    assert stats["degree_max"] == 3 and stats["degree_histogram"] == {"1": 3, "2-3": 3}
    assert stats["top_concepts"] == [("function:camping", 2)]
    assert stats["relations_by_type"]["USED_FOR"] == 2
