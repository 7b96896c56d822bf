"""Node text features: what an item is (title, category, brand) and what the graph knows about it.

Following DynLLM, an item's text carries its knowledge too: its strongest related items and
its concepts ("Related: ...; Concepts: ..."), so the sentence encoder folds the graph's
knowledge into the node feature. Users have no text (their features are zero and not stored).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from gnn.ids import IdMap
from gnn.stream import Snapshot
from gnn.text import TEXT_DIM, TextEncoder
from kg.schema import ITEM_RELATIONS


def _item_descriptions(snapshot: Snapshot) -> pl.DataFrame:
    """(id, text) from title, category and brand; null parts are left out."""
    return snapshot.items.select(
        "id", pl.concat_str([pl.col("title"), pl.col("category"), pl.col("brand")],
                            separator=". ", ignore_nulls=True).alias("text"))


def _labelled(column: str, label: str) -> pl.Expr:
    """'label: a, b, c' for a non-empty list column, else null."""
    return pl.when(pl.col(column).list.len() > 0).then(pl.lit(label) + pl.col(column).list.join(", "))


def _knowledge_text(snapshot: Snapshot, per_item: int) -> pl.DataFrame:
    """(id, knowledge): an item's `per_item` most confident related items and concepts, named.

    Item-item relations count for both ends (symmetric ones are stored once, head < tail).
    """
    names = pl.concat([snapshot.items.select("id", pl.col("title").alias("name")),
                       snapshot.concepts.select("id", pl.col("text").alias("name"))])
    edges = snapshot.relations.select("head", "tail", "type", "confidence")
    reverse = edges.filter(pl.col("type").is_in([r.value for r in ITEM_RELATIONS])).select(
        pl.col("tail").alias("head"), pl.col("head").alias("tail"), "type", "confidence")
    rel = pl.concat([edges, reverse]).join(  # neighbours without a name say nothing
        names.drop_nulls("name"), left_on="tail", right_on="id", how="inner").sort(
        ["head", "confidence", "tail"], descending=[False, True, False])
    top = rel.group_by("head", maintain_order=True).head(per_item)
    is_item = pl.col("type").is_in([r.value for r in ITEM_RELATIONS])
    grouped = top.group_by("head", maintain_order=True).agg(
        pl.col("name").filter(is_item).alias("related"), pl.col("name").filter(~is_item).alias("concepts"))
    return grouped.select(
        pl.col("head").alias("id"),
        pl.concat_str([_labelled("related", "Related: "), _labelled("concepts", "Concepts: ")],
                      separator=". ", ignore_nulls=True).alias("knowledge"))


def node_texts(snapshot: Snapshot, ids: IdMap, with_knowledge: bool, per_item: int) -> list[str]:
    """One text per item then per concept, in node order ("" where nothing is known)."""
    items = ids.frame("item").join(_item_descriptions(snapshot), on="id", how="left", maintain_order="left")
    if with_knowledge:
        items = items.join(_knowledge_text(snapshot, per_item), on="id", how="left",
                           maintain_order="left").with_columns(
            pl.concat_str(["text", "knowledge"], separator=". ", ignore_nulls=True).alias("text"))
    concepts = ids.frame("concept").join(snapshot.concepts.select("id", "text"), on="id", how="left",
                                         maintain_order="left")
    return [*items["text"].fill_null("").to_list(), *concepts["text"].fill_null("").to_list()]


def node_features(texts: list[str], encoder: TextEncoder) -> np.ndarray:
    """float32 `[len(texts), 384]`: the sentence embedding, or zeros for an empty text."""
    features = np.zeros((len(texts), TEXT_DIM), dtype=np.float32)
    present = [i for i, text in enumerate(texts) if text]
    if present:
        features[present] = encoder.encode([texts[i] for i in present])
    return features


def extend_features(trained_ids: IdMap, trained: np.ndarray, ids: IdMap, texts: list[str],
                    encoder: TextEncoder) -> np.ndarray:
    """Features for `ids` (a superset of `trained_ids`), rows as `node_texts(.., ids, ..)`.

    Nodes the model was trained with keep the exact rows it was trained on; only new nodes
    are encoded, so an export costs encoder time in proportion to what is new.
    """
    old_nodes = pl.concat([trained_ids.encode(kind, ids.frame(kind)["id"], strict=False)
                           for kind in ("item", "concept")])
    old_rows = (old_nodes - trained_ids.offset["item"]).fill_null(-1).to_numpy()
    features = np.empty((len(texts), trained.shape[1]), dtype=np.float32)
    known = old_rows >= 0
    features[known] = trained[old_rows[known]]
    new = np.flatnonzero(~known)
    features[new] = node_features([texts[i] for i in new], encoder)
    return features
