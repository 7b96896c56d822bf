"""What the workbench's pages show, built from the store's rows: plain values, escaped by the templates.

Nothing here writes HTML: the Jinja2 templates (autoescaped) do, so a title holding markup is
text on the page. The neighbourhood's layout is networkx's spring layout with a fixed seed
(the same graph is drawn the same way every time), scaled into the SVG's box.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import networkx as nx

from kg.curation import QueueFilter
from kg.schema import CurationStatus

Row = dict[str, Any]
LAYOUT_SEED = 7
WIDTH, HEIGHT, MARGIN = 760, 460, 60
HISTORY = ("history_status", "history_by", "history_at", "history_decision", "history_note")


def when(ms: int | None) -> str:
    """Epoch milliseconds as a UTC time for people; blank for none."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def history(relation: Row) -> list[Row]:
    """A relation's decisions, oldest first: status, curator, time, decision id and note."""
    lists = [relation.get(name) or [] for name in HISTORY]
    return [{"status": s, "by": b, "at": when(a), "decision": d, "note": n}
            for s, b, a, d, n in zip(*lists, strict=True)]


def card(found: Row) -> Row:
    """A relation card: the relation's fields, both items, the co-purchase evidence and the history."""
    relation = dict(found["relation"])
    co_purchase = dict(found["co_purchase"] or {})
    if co_purchase:  # the pair's confidences as the card reads it: from its head, and from its tail
        forward = found["co_purchase_forward"]
        co_purchase["tail_given_head"] = co_purchase.get("confidence_ab" if forward else "confidence_ba")
        co_purchase["head_given_tail"] = co_purchase.get("confidence_ba" if forward else "confidence_ab")
    return {
        "id": relation["id"], "type": found["type"], "relation": relation,
        "version": len(relation.get("history_at") or []),
        "head": dict(found["head"]), "tail": dict(found["tail"]),
        "tail_is_item": found["tail_label"] == "Item",
        "co_purchase": co_purchase, "first_seen": when(relation.get("first_seen")),
        "last_seen": when(relation.get("last_seen")), "history": history(relation),
    }


def filter_query(where: QueueFilter) -> list[tuple[str, str]]:
    """`where` as the queue page's query parameters (for links that keep the filter)."""
    pairs = [("status", where.status.value)] + [("type", t.value) for t in where.types or []]
    if where.derived is not None:
        pairs.append(("derived", "yes" if where.derived else "no"))
    for name in ("model", "min_score", "max_score", "search"):
        value = getattr(where, name)
        if value is not None:
            pairs.append((name, str(value)))
    return pairs


def progress_tables(by_type: list[Row], by_curator: list[Row]) -> tuple[list[Row], list[Row]]:
    """Done and remaining per relation type, and decisions per curator (rows sorted by name)."""
    types: dict[str, Row] = defaultdict(lambda: {"done": 0, "remaining": 0, "accepted": 0, "rejected": 0})
    for row in by_type:
        counts = types[row["type"]]
        done = row["status"] != CurationStatus.PROPOSED.value
        counts["done" if done else "remaining"] += row["relations"]
        if row["status"] in counts:
            counts[row["status"]] += row["relations"]
    curators: dict[str, Row] = defaultdict(lambda: {"accepted": 0, "rejected": 0, "other": 0})
    for row in by_curator:
        counts = curators[row["curator"]]
        counts[row["status"] if row["status"] in counts else "other"] += row["relations"]
    return ([{"type": name, **counts} for name, counts in sorted(types.items())],
            [{"curator": name, **counts} for name, counts in sorted(curators.items())])


def neighbourhood_drawing(item: Row, relations: list[Row]) -> Row:
    """Nodes and edges of an item's neighbourhood with positions in a WIDTH x HEIGHT box.

    Several relations between the same two nodes share one line; its label lists them. The
    centre item sits in the middle (its position fixed), the others where the layout puts them.
    """
    graph = nx.Graph()
    centre = item["id"]
    graph.add_node(centre)
    labels: dict[str, str] = {centre: item.get("title") or centre}
    edges: dict[str, list[Row]] = defaultdict(list)
    for relation in relations:
        graph.add_edge(centre, relation["other"])
        labels[relation["other"]] = relation["other_title"] or relation["other"]
        edges[relation["other"]].append(relation)
    positions = nx.spring_layout(graph, seed=LAYOUT_SEED, pos={centre: (0.0, 0.0)}, fixed=[centre]
                                 ) if len(graph) > 1 else {centre: (0.0, 0.0)}
    extent = max((max(abs(x), abs(y)) for x, y in positions.values()), default=1.0) or 1.0

    def place(node: str) -> tuple[float, float]:
        x, y = positions[node]
        return (round(WIDTH / 2 + x / extent * (WIDTH / 2 - MARGIN), 1),
                round(HEIGHT / 2 + y / extent * (HEIGHT / 2 - MARGIN), 1))

    nodes = [{"id": node, "label": labels[node], "centre": node == centre, "xy": place(node),
              "is_item": node == centre or edges[node][0]["other_label"] == "Item"} for node in graph.nodes]
    lines = [{"from": place(centre), "to": place(other),
              "label": "; ".join(_edge_label(r) for r in group), "relations": group}
             for other, group in edges.items()]
    return {"width": WIDTH, "height": HEIGHT, "nodes": nodes, "edges": lines}


def _edge_label(relation: Row) -> str:
    """A relation's type and evidence on its line, e.g. `CO_PURCHASED 12 baskets, lift 3.4`."""
    parts = [relation["type"]]
    if relation.get("support") is not None:
        parts.append(f"{relation['support']} baskets")
    if relation.get("lift") is not None:
        parts.append(f"lift {relation['lift']:.1f}")
    return " ".join(parts[:1]) + (" " + ", ".join(parts[1:]) if parts[1:] else "")


def by_type(relations: list[Row]) -> list[tuple[str, list[Row]]]:
    """An item's relations grouped by type, types in order."""
    grouped: dict[str, list[Row]] = defaultdict(list)
    for relation in relations:
        grouped[relation["type"]].append(relation)
    return sorted(grouped.items())
