"""Canonical concepts: commonsense tails filtered, then merged with their paraphrases.

An LLM writes each tail of a commonsense relation as free text, and exact normalized text used to
be the concept id, so `making photos with the use of a camera` and `making pictures from a camera`
were two concepts, and a reply cut mid-sentence (`... designed for taking pictures. this [`) a
third. Here:

- **Refused tails** (`refuse_reason`): empty, cut off (it hit the answer's length cap, ends in a
  dangling word such as `the` or `this`, or leaves a bracket or quote open), too long to be a
  concept (more than `MAX_WORDS` words), not a phrase (a file name, a URL, mostly symbols), or a
  repeat of the item's own title (all its words are title words: `ironbark, medium` for an
  `Ironbark ... Medium` item). Each reason is counted; refused relations are written aside.
- **Clustering** (`canonicalize`), per concept kind, by leader clustering on all-MiniLM-L6-v2
  embeddings: concepts that exist already lead, then new tails in order of mentions; a tail joins
  the most similar leader when their cosine is at least the threshold, else it leads a cluster of
  its own. Membership is judged against the leader alone, never against another member, so a chain
  of weak links (A near B, B near C) cannot pull C into A's cluster: every member is within the
  threshold of its canonical text. The leader's text is the canonical name; the others are aliases.
- **Stable ids**: an existing concept keeps its id and text; a new tail similar to it joins it as an
  alias, and each such merge is returned as a row (`merges`), never a silent re-keying. Existing
  concepts never merge with each other: a curator's split stays split, and a curator's merge
  (`existing_concepts`) makes the merged text lead under the survivor's id.

Work per kind is (tails x leaders) cosines in one matrix product: bounded by the items asked for
commonsense (`extract.max_items`), not by the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from kg.schema import RelationType, concept_id, concept_text, relation_id
from pipelines.extract.answers import MAX_TAIL_CHARS

# Texts -> unit vectors, one row per text.
Embed = Callable[[list[str]], np.ndarray]
MAX_WORDS = 8
DANGLING = frozenset({"a", "an", "the", "of", "for", "with", "and", "or", "to", "in", "on", "at", "by",
                      "from", "this", "that", "these", "is", "are", "as", "its"})
_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"))
_NOT_A_PHRASE = re.compile(r"https?:|www\.|\.(jpe?g|png|gif|html?|pdf)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")


def refuse_reason(phrase: str, title: str | None) -> str | None:
    """Why the tail `phrase` of an item titled `title` is not a concept, or None when it is one."""
    text = concept_text(phrase)
    if not text:
        return "empty"
    words = text.split()
    if (len(phrase.strip()) >= MAX_TAIL_CHARS - 1 or words[-1] in DANGLING or phrase.count('"') % 2
            or any(text.count(left) != text.count(right) for left, right in _PAIRS)):
        return "cut off"
    if len(words) > MAX_WORDS:
        return "too long"
    if _NOT_A_PHRASE.search(text) or sum(c.isalpha() for c in text) < 0.6 * len(text.replace(" ", "")):
        return "not a phrase"
    tokens = set(_WORD.findall(text))
    if title and tokens and tokens <= set(_WORD.findall(title.lower())):
        return "repeats the title"
    return None


@dataclass(frozen=True)
class Canonical:
    """Where each (kind, text) tail went, the concepts that result, and the merges into existing ones."""

    mapping: pl.DataFrame  # kind, text, concept_id, similarity (to the canonical text)
    concepts: pl.DataFrame  # id, text, kind, aliases (this run's aliases only; the store unions them)
    merges: pl.DataFrame  # kind, text, concept_id, similarity: new tails that joined an existing concept


def canonicalize(tails: pl.DataFrame, existing: pl.DataFrame, embed: Embed, threshold: float) -> Canonical:
    """Cluster `tails` (kind, text, mentions; text normalized) around `existing` concepts (id, kind, text).

    Raises nothing for empty inputs: no tails, no concepts.
    """
    mapped, merged = [], []
    for kind in sorted(set(tails["kind"].to_list())):
        old = existing.filter(pl.col("kind") == kind).sort("id")
        asked = tails.filter(pl.col("kind") == kind)
        new = (asked.filter(~pl.col("text").is_in(old["text"].implode()))
               .sort(["mentions", "text"], descending=[True, False]))
        leaders = _leaders(old["text"].to_list(), new["text"].to_list(), embed, threshold)
        old_ids = dict(zip(old["text"].to_list(), old["id"].to_list(), strict=True))
        for text, (leader, similarity) in leaders.items():
            cid = old_ids.get(leader) or concept_id(kind, leader)
            mapped.append((kind, text, cid, similarity))
            if leader in old_ids and text != leader:
                merged.append((kind, text, cid, similarity))
        seen = set(asked["text"].to_list())
        mapped += [(kind, text, cid, 1.0) for text, cid in old_ids.items() if text in seen]
    schema = {"kind": pl.String, "text": pl.String, "concept_id": pl.String, "similarity": pl.Float64}
    mapping = pl.DataFrame(mapped, schema=schema, orient="row").unique(["kind", "text"], keep="first")
    return Canonical(mapping=mapping, concepts=_concepts(mapping, existing),
                     merges=pl.DataFrame(merged, schema=schema, orient="row"))


def _leaders(old: list[str], new: list[str], embed: Embed, threshold: float) -> dict[str, tuple[str, float]]:
    """Each new text's leader (itself when it leads) and its cosine to it; old texts always lead."""
    if not new:
        return {}
    vectors = embed([*old, *new])
    leaders: list[int] = list(range(len(old)))
    found: dict[str, tuple[str, float]] = {}
    texts = [*old, *new]
    for index in range(len(old), len(texts)):
        if leaders:
            cosines = vectors[leaders] @ vectors[index]
            best = int(np.argmax(cosines))
            if cosines[best] >= threshold:
                found[texts[index]] = (texts[leaders[best]], float(cosines[best]))
                continue
        leaders.append(index)
        found[texts[index]] = (texts[index], 1.0)
    return found


def existing_concepts(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    """The graph's concepts as `canonicalize` reads them: id, kind, text, canonical.

    `rows` hold id, kind, text, merged_into (`kg.cypher.CONCEPTS`). A concept a curator merged
    into another (`kgrec curate merge-concepts`) becomes its survivor's text, not a concept of its
    own: its text then leads its cluster under the survivor's id, so the merge holds in every later
    run. Chains of merges are followed to their end.
    """
    merged_into = {str(row["id"]): row["merged_into"] for row in rows if row.get("merged_into")}

    def survivor(concept: str) -> str:
        seen = {concept}
        while (nxt := merged_into.get(concept)) is not None and nxt not in seen:
            seen.add(concept := nxt)
        return concept

    frame = [(survivor(str(row["id"])), row["kind"], row["text"], not row.get("merged_into")) for row in rows]
    return pl.DataFrame(frame, schema={"id": pl.String, "kind": pl.String, "text": pl.String,
                                       "canonical": pl.Boolean}, orient="row")


def _concepts(mapping: pl.DataFrame, existing: pl.DataFrame) -> pl.DataFrame:
    """One row per concept the mapping reaches: canonical text, kind, this run's other phrasings."""
    own = existing.filter(pl.col("canonical")) if "canonical" in existing.columns else existing
    known = dict(zip(own["id"].to_list(), own["text"].to_list(), strict=True))
    rows = []
    for (cid, kind), group in mapping.group_by(["concept_id", "kind"], maintain_order=True):
        text = known.get(str(cid), str(cid).split(":", 1)[1])
        rows.append((cid, text, kind, sorted(t for t in group["text"].to_list() if t != text)))
    return pl.DataFrame(rows, schema={"id": pl.String, "text": pl.String, "kind": pl.String,
                                      "aliases": pl.List(pl.String)}, orient="row").sort("id")


@dataclass(frozen=True)
class CanonicalRelations:
    """Commonsense relations re-pointed at canonical concepts, the refused ones, and the concepts."""

    relations: pl.DataFrame  # the `relations` columns; tails are canonical concept ids
    refused: pl.DataFrame  # the `relations` columns and `reason`
    canonical: Canonical


def canonical_relations(relations: pl.DataFrame, titles: pl.DataFrame, existing: pl.DataFrame, embed: Embed,
                        threshold: float) -> CanonicalRelations:
    """Filter and canonicalize commonsense `relations` (tail `kind:text`, `tail_text` as phrased).

    `titles` has item_id and title (for the repeats-the-title test); `existing` the concepts the
    graph holds (id, kind, text). Relation ids follow the new tails; rows that become one relation
    with the same evidence are kept once.
    """
    columns = relations.columns
    frame = relations.join(titles.select(pl.col("item_id").alias("head"), "title"), on="head", how="left")
    reasons = [refuse_reason(phrase if phrase is not None else tail.split(":", 1)[-1], title)
               for phrase, tail, title in frame.select("tail_text", "tail", "title").iter_rows()]
    frame = frame.with_columns(pl.Series("reason", reasons, dtype=pl.String),
                               pl.col("tail").str.split_exact(":", 1).struct.field("field_0").alias("kind"),
                               pl.col("tail").str.split_exact(":", 1).struct.field("field_1").alias("text"))
    kept = frame.filter(pl.col("reason").is_null())
    tails = kept.group_by("kind", "text").agg(pl.len().cast(pl.Int64).alias("mentions"))
    canonical = canonicalize(tails, existing, embed, threshold)
    moved = kept.join(canonical.mapping.select("kind", "text", "concept_id"), on=["kind", "text"], how="left")
    ids = [relation_id(head, RelationType(kind), tail)
           for head, kind, tail in moved.select("head", "type", "concept_id").iter_rows()]
    moved = moved.with_columns(pl.Series("id", ids, dtype=pl.String), pl.col("concept_id").alias("tail"))
    return CanonicalRelations(
        relations=moved.select(columns).unique(["id", "evidence_id"], keep="first", maintain_order=True),
        refused=frame.filter(pl.col("reason").is_not_null()).select(*columns, "reason"),
        canonical=canonical)
