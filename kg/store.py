"""One GraphStore interface over Neo4j and FalkorDB.

Backends implement how a statement is sent (`_write`, `_read`), how schema setup tolerates
what already exists, and which errors are worth retrying. Everything else (the statements,
batching, the curation rules) is shared here and in `kg.cypher`, so the two backends cannot
drift apart.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Literal, NamedTuple

import pyarrow as pa

from kg import cypher
from kg.arrow_schema import arrow_schema_of
from kg.curation import CurationMethods
from kg.cypher import Dialect
from kg.errors import ConceptCurationError, GraphHoldsOtherDataset
from kg.schema import (
    PRODUCT_TYPE,
    TYPE_RELATIONS,
    DatasetMark,
    Relation,
    RelationType,
    concept_id,
    concept_text,
    now_ms,
    relation_id,
)

Row = dict[str, Any]
Claim = Literal["same", "new", "adopted", "shared", "cleared"]

class WriteCount(NamedTuple):
    """Rows of a relation batch whose endpoints existed, and rows whose evidence was added."""

    matched: int
    written: int


# Validated relation rows as the loader hands them on (one column per Relation field), and
# one type's rows as the upsert statement reads them: no type (the statement names it), times
# as epoch milliseconds (both dialects' time format).
RELATION_ROWS = arrow_schema_of(Relation)
RELATION_PARAMS = pa.schema([f.with_type(pa.int64()) if f.name in ("first_seen", "last_seen") else f
                             for f in RELATION_ROWS if f.name != "type"])


ITEM_PARAMS = pa.schema([("id", pa.string()), ("title", pa.string()), ("category", pa.string()),
                         ("brand", pa.string()), ("price", pa.float64())])


def relation_params(rows: pa.Table) -> pa.Table:
    """`RELATION_ROWS` of one type as a `RELATION_PARAMS` table (what backends send)."""
    return rows.drop_columns(["type"]).cast(RELATION_PARAMS)


def param_rows(table: pa.Table) -> list[Row]:
    """A table's rows as parameter maps, nulls left out (a missing key reads as null)."""
    return [{k: v for k, v in row.items() if v is not None} for row in table.to_pylist()]


def write_count(result: list[Row]) -> WriteCount:
    """The (matched, written) counts an upsert statement returns."""
    if not result:
        return WriteCount(0, 0)
    return WriteCount(int(result[0]["matched"]), int(result[0]["written"] or 0))


class GraphStore(CurationMethods, ABC):
    """A connected knowledge-graph store. Use as a context manager, or connect()/close().

    Curation (the review queue, decisions and their history) comes from `CurationMethods`.
    """

    dialect: Dialect
    name: str  # for messages
    identity: str  # stable across restarts: keys the loader's resume state

    def __enter__(self) -> GraphStore:
        self.connect()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    @abstractmethod
    def connect(self) -> None:
        """Open connections; raises StoreUnavailable when the store cannot be reached."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def _write(self, query: str, params: Row) -> list[Row]:
        """Run a write statement in one transaction; rows as dicts."""

    @abstractmethod
    def _read(self, query: str, params: Row) -> list[Row]:
        """Run a read-only statement; rows as dicts."""

    @abstractmethod
    def _apply_schema(self, statement: str) -> None:
        """Run one schema statement, tolerating 'already exists'."""

    @abstractmethod
    def is_transient(self, error: BaseException) -> bool:
        """Whether retrying the same call may succeed (connection lost, deadlock, ...)."""

    @abstractmethod
    def clear(self) -> None:
        """Delete the whole graph (tests and benchmarks only)."""

    def ensure_schema(self, relation_indexes: bool = True) -> None:
        """Constraints and indexes; MERGE without them is a label scan.

        `relation_indexes=False` creates the node ones only (a first load, `begin_load`).
        """
        for statement in cypher.schema_statements(self.dialect, relation_indexes):
            self._apply_schema(statement)

    def begin_load(self) -> bool:
        """Start a load; True when it is a first load, one into a graph without relationships.

        A first load may create relationships its input has not sent before without looking
        for them (`prepare_create`) and builds the relationship indexes once at its end.
        Neo4j keeps its indexes up to date cheaply and MERGEs everything, so the base answer
        is no; `FalkorDBStore` says yes when it can, holding the graph for the load until
        `end_load`.
        """
        return False

    def end_load(self) -> None:  # noqa: B027 - most stores hold nothing for a load
        """End what `begin_load` started (safe to call when it started nothing)."""

    def graphs(self) -> list[str]:
        """Names of the graphs the store's server holds; none where the store is one graph (Neo4j)."""
        return []

    @abstractmethod
    def await_indexes(self) -> None:
        """Return once every index is populated and in use."""

    def upsert_items(self, rows: pa.Table) -> None:
        """MERGE items (an `ITEM_PARAMS` table) by id; their descriptive fields follow the latest load."""
        self._write(cypher.UPSERT_ITEMS, {"rows": param_rows(rows), "now": now_ms()})

    def upsert_concepts(self, rows: Sequence[Row]) -> None:
        """MERGE concepts by id, accumulating aliases; product types also get their `ProductType` label."""
        self._write(cypher.UPSERT_CONCEPTS, {"rows": list(rows), "now": now_ms()})
        if any(row.get("kind") == PRODUCT_TYPE for row in rows):
            self._write(cypher.LABEL_PRODUCT_TYPES, {})

    def prepare_upsert(self, relation: RelationType, rows: pa.Table, now: int) -> Callable[[], WriteCount]:
        """The MERGE of relations of one type (a `RELATION_PARAMS` table), made ready to send.

        Client work (encoding, endpoint lookups) is done here, so that a loader can do it while
        the previous batch is being written; the call returned sends, and is safe to repeat.
        See `cypher.upsert_relations` for what is written and counted. `now` (epoch ms) is what
        `written` counts by: a repeat counts the rows an earlier, unanswered try wrote.
        """
        statement, params = cypher.upsert_relations(relation), {"rows": param_rows(rows), "now": now}
        return lambda: write_count(self._write(statement, params))

    def prepare_create(self, relation: RelationType, rows: pa.Table, now: int) -> Callable[[], WriteCount]:
        """Relations of one type that the graph does not hold (a first load's new ids), made ready to send.

        The base sends the MERGE, which is right whatever the graph holds; a store with a
        faster way to add edges it knows are new overrides this. The call an override returns
        need not be safe to repeat: the loader re-sends a create that failed through the MERGE,
        with the same `now`.
        """
        return self.prepare_upsert(relation, rows, now)

    def upsert_relations(self, relation: RelationType, rows: pa.Table, now: int | None = None) -> WriteCount:
        """MERGE relations of one type whose endpoints exist (`prepare_upsert`, sent at once)."""
        return self.prepare_upsert(relation, rows, now or now_ms())()

    def missing(self, label: Literal["Item", "Concept"], ids: Sequence[str]) -> set[str]:
        """The subset of `ids` that are not nodes of `label`."""
        return {row["id"] for row in self._read(cypher.missing_nodes(label), {"ids": list(ids)})}

    def merge_concepts(self, into: str, merged: Sequence[str], by: str) -> int:
        """A curator's merge: `merged` concepts become aliases of `into`; their relations move to it.

        The merged nodes stay, marked `merged_into`, so every later refine maps their texts (and
        paraphrases of them) to `into`; returns the relations moved.

        Raises:
            ConceptCurationError: an id names no concept, the kinds differ, a concept is merged
                into itself or into one that is merged itself; nothing is changed then.
        """
        found = {row["id"]: row for row in self._read(cypher.CONCEPT_NODES, {"ids": [into, *merged]})}
        missing = [c for c in [into, *merged] if c not in found]
        if missing:
            raise ConceptCurationError(f"no such concept(s): {', '.join(missing)}")
        survivor = found[into]
        for concept in merged:
            if concept == into or found[concept]["kind"] != survivor["kind"] or survivor["merged_into"]:
                raise ConceptCurationError(
                    f"cannot merge {concept} into {into}: a concept merges into another of its kind "
                    f"({found[concept]['kind']} / {survivor['kind']}) that is not itself merged "
                    f"(into {survivor['merged_into'] or 'nothing'})")
        moved = 0
        for concept in merged:
            moved += self._move_relations(concept, into, None)
            self._write(cypher.MERGE_CONCEPT, {"from": concept, "to": into, "by": by, "now": now_ms()})
        return moved

    def split_concept(self, concept: str, alias: str, by: str) -> tuple[str, int]:
        """A curator's split: the alias `alias` of `concept` becomes a concept of its own.

        Relations whose tail was phrased as the alias move to the new concept, which later refines
        keep apart (a concept the graph holds never merges into another); returns its id and the
        relations moved.

        Raises:
            ConceptCurationError: no such concept, or `alias` is not one of its aliases, or a
                concept with that text exists already (merge into it instead).
        """
        found = self._read(cypher.CONCEPT_NODES, {"ids": [concept]})
        text = concept_text(alias)
        if not found or text not in (found[0]["aliases"] or []):
            raise ConceptCurationError(f"{concept} has no alias {alias!r}: "
                                       f"{found[0]['aliases'] if found else 'no such concept'}")
        new_id = concept_id(found[0]["kind"], text)
        if self._read(cypher.CONCEPT_NODES, {"ids": [new_id]}):
            raise ConceptCurationError(f"{new_id} exists already; merge into it instead")
        self._write(cypher.SPLIT_CONCEPT, {"from": concept, "to": new_id, "text": text, "by": by,
                                           "now": now_ms()})
        self._write(cypher.LABEL_PRODUCT_TYPES, {})
        return new_id, self._move_relations(concept, new_id, text)

    def _move_relations(self, old: str, new: str, phrased: str | None) -> int:
        """Move the relations at concept `old` to `new` (only those phrased `phrased`, when given).

        Relations between product types keep their ends ordered; one that would join a type to
        itself stays where it is.
        """
        moved = 0
        for relation in RelationType:
            if cypher.tail_label(relation) != "Concept":
                continue
            rows = [row for row in self._read(cypher.relations_at_concept(relation), {"id": old})
                    if phrased is None or concept_text(row["tail_text"] or "") == phrased]
            plan = []
            for row in rows:
                head, tail = (new if row[end] == old else row[end] for end in ("head", "tail"))
                if relation in TYPE_RELATIONS:
                    head, tail = min(head, tail), max(head, tail)
                if head != tail:
                    plan.append({"old": row["id"], "old_head": row["head"], "old_tail": row["tail"],
                                 "head": head, "tail": tail, "new": relation_id(head, relation, tail)})
            if plan:
                moved += int(self._write(cypher.move_relations(relation), {"rows": plan})[0]["moved"])
                if relation in TYPE_RELATIONS:
                    self._write(cypher.RENAME_DERIVED_FROM, {"rows": plan})
        return moved

    def pages(self, query: str, params: Row, page_size: int = 10_000) -> Iterator[list[Row]]:
        """Keyset-paginate a statement ordered by `id` with `$after` and `$limit`."""
        after = ""
        while True:
            rows = self._read(query, {**params, "after": after, "limit": page_size})
            if not rows:
                return
            yield rows
            after = rows[-1]["id"]

    def counts(self) -> Row:
        """Total nodes and relations."""
        rows = self._read(cypher.COUNTS, {})
        return rows[0] if rows else {"nodes": 0, "relations": 0}

    def datasets(self) -> list[DatasetMark]:
        """The datasets this graph holds (`Dataset` marks), first marked first; none for a new graph."""
        return [DatasetMark(key=row["key"], description=row["description"])
                for row in self._read(cypher.DATASETS, {})]

    def claim(self, dataset: DatasetMark, shared: bool = False, clear: bool = False) -> Claim:
        """Check, before anything is written, that this graph may take `dataset`, and mark it; what it found.

        'same': it holds `dataset` already. 'new': it was empty. 'adopted': it holds data no
        dataset marked (loaded before kgrec marked graphs), now taken to be `dataset`'s.
        'shared': it holds other datasets and `shared` lets it hold one more. 'cleared': it held
        another dataset and `clear` deleted all of it first.

        Raises:
            GraphHoldsOtherDataset: it holds another dataset, and neither `shared` nor `clear`
                is set; the message names the graph, both datasets and the three ways on.
        """
        held = self.datasets()
        outcome: Claim
        if any(mark.key == dataset.key for mark in held):
            return "same"
        if held and not shared:
            if not clear:
                raise GraphHoldsOtherDataset(self.name, (
                    f"holds {'; '.join(mark.description for mark in held)}, not {dataset.description}; "
                    "loading it would mix the two. Clear the graph with `kgrec run --clear-graph` "
                    "(deletes all it holds, curators' decisions too), leave graph.graph_name unset so "
                    "this dataset gets a graph of its own, or set graph.shared: true to keep both here"))
            self.clear()
            outcome = "cleared"
        else:
            outcome = "shared" if held else ("adopted" if self.counts()["nodes"] else "new")
        self._write(cypher.MARK_DATASET, {"key": dataset.key, "description": dataset.description,
                                          "now": now_ms()})
        return outcome
