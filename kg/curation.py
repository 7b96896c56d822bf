"""Curation through the store: the review queue, decisions with their history, undo, relabel.

Every decision is one history entry on each relation it changes (`kg.cypher.HISTORY_FIELDS`),
under one decision id, with the curator's name and time; nothing is ever rewritten, so an
undo is a new entry restoring the status before, and a snapshot can read the status at any
past time. A relation's version is its number of entries: a decision sent with the version
a page showed is refused (`StaleRelationError`) once another decision came in between.

A relabel (COMPLEMENTS -> VARIANT_OF) cannot retype a relationship, and ids encode the type
(`kg.schema.relation_id`): it rejects the old relation and accepts the new type's, created
with the old one's evidence where the graph lacks it, both in one decision. A load never
writes curation fields, so the old one stays rejected and the new one accepted.
"""

from __future__ import annotations

import contextlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from kg import cypher, cypher_curation
from kg.errors import StaleRelationError, UnknownRelationError
from kg.schema import (
    ITEM_RELATIONS,
    SYMMETRIC_RELATIONS,
    CurationStatus,
    KgrecModel,
    RelationType,
    now_ms,
    relation_id,
    relation_type_of,
)

Row = dict[str, Any]  # as kg.store.Row
UNDO = "undo"  # the note that starts every undo entry (`LAST_DECISION` skips them)
QUEUE_MEMBERS_LIMIT = 100_000  # the most relations one bulk decision covers


class QueueFilter(KgrecModel):
    """Which relations the review queue shows; each filter is off when unset."""

    status: CurationStatus = Field(default=CurationStatus.PROPOSED, description="Curation status.")
    types: list[RelationType] | None = Field(default=None, description="Relation types.")
    model: str | None = Field(default=None, max_length=500, description="The model or rule that proposed it.")
    derived: bool | None = Field(default=None, description="True: only item relations derived from a "
                                 "product-type relation; false: only the others.")
    min_score: float | None = Field(default=None, ge=0, le=1,
                                    description="Lowest critic score (the confidence where none).")
    max_score: float | None = Field(default=None, ge=0, le=1,
                                    description="Highest critic score (the confidence where none).")
    search: str | None = Field(default=None, max_length=200, description="Text in either item's id or title.")

    def params(self) -> Row:
        """The queue statements' filter parameters (`kg.cypher.QUEUE_MATCH`)."""
        search = " ".join((self.search or "").lower().split()) or None
        return {"status": self.status.value, "types": [t.value for t in self.types] if self.types else None,
                "model": self.model or None, "derived": self.derived, "min_score": self.min_score,
                "max_score": self.max_score, "search": search}


class Receipt(KgrecModel):
    """What one decision changed: its id and the relations it wrote, in the order sent."""

    decision: str
    ids: list[str]


def status_at(history_status: Sequence[str], history_at: Sequence[int], at: int) -> CurationStatus:
    """A relation's status at epoch ms `at` from its history (`proposed` before its first entry).

    The rule `kg.cypher.STATUS_THEN` applies in the store, for one relation in Python.
    """
    then = [status for status, when in zip(history_status, history_at, strict=True) if when <= at]
    return CurationStatus(then[-1]) if then else CurationStatus.PROPOSED


def _by_type(ids: Sequence[str]) -> dict[RelationType, list[str]]:
    """Ids grouped by the type they encode; an id that encodes none is left out (reported unknown)."""
    grouped: dict[RelationType, list[str]] = {}
    for relation_id_ in ids:
        with contextlib.suppress(ValueError):
            grouped.setdefault(relation_type_of(relation_id_), []).append(relation_id_)
    return grouped


class CurationMethods(ABC):
    """The curation half of `kg.store.GraphStore`: statements from `kg.cypher`, sent through the backend."""

    @abstractmethod
    def _write(self, query: str, params: Row) -> list[Row]:
        """Run a write statement in one transaction; rows as dicts."""

    @abstractmethod
    def _read(self, query: str, params: Row) -> list[Row]:
        """Run a read-only statement; rows as dicts."""

    def review_queue(self, status: CurationStatus, limit: int, where: QueueFilter | None = None,
                     offset: int = 0) -> list[Row]:
        """Up to `limit` relations in `status` passing `where`, those whose label teaches most first.

        Relations the critic scored come first, by its uncertainty (1 - |2 * critic_score - 1|)
        times support, then the unscored by support; ties by id (`cypher.REVIEW_ORDER`). Rows
        hold the relation, its endpoints' titles, evidence, `critic_score`, `decided_by` and
        `version`; `offset` skips that many rows of the order (the next page).
        """
        params = (where or QueueFilter()).model_copy(update={"status": status}).params()
        return self._read(cypher.REVIEW_QUEUE, {**params, "skip": offset, "limit": limit})

    def queue_order(self, where: QueueFilter, limit: int) -> list[str]:
        """The ids of up to `limit` relations `where` selects, in the review queue's order.

        The whole order in one statement (ids only), for a caller that pages through it
        with `queue_rows` instead of reading and sorting every relation per page.
        """
        return [row["id"] for row in self._read(cypher.QUEUE_ORDER, {**where.params(), "limit": limit})]

    def queue_rows(self, ids: Sequence[str], where: QueueFilter) -> list[Row]:
        """The queue rows (as `review_queue`'s) of those of `ids` that `where` still selects, in `ids`' order.

        One indexed lookup per id; a relation decided or changed out of the filter since its
        id was listed is left out.
        """
        found: dict[str, Row] = {}
        for relation, members in _by_type(ids).items():
            rows = self._read(cypher_curation.queue_rows(relation), {**where.params(), "ids": members})
            found |= {row["id"]: row for row in rows}
        return [found[i] for i in ids if i in found]

    def queue_count(self, where: QueueFilter) -> int:
        """How many relations `where` selects."""
        rows = self._read(cypher_curation.QUEUE_COUNT, where.params())
        return int(rows[0]["relations"]) if rows else 0

    def queue_members(self, where: QueueFilter) -> list[Row]:
        """Ids and versions of the relations `where` selects (at most `QUEUE_MEMBERS_LIMIT`), by id."""
        return self._read(cypher_curation.QUEUE_MEMBERS, {**where.params(), "limit": QUEUE_MEMBERS_LIMIT})

    def relation_states(self, ids: Sequence[str]) -> dict[str, Row]:
        """Ends, status, version and history of each of `ids` the graph holds, by id."""
        found: dict[str, Row] = {}
        for relation, members in _by_type(ids).items():
            rows = self._read(cypher_curation.relation_states(relation), {"ids": members})
            found |= {row["id"]: row for row in rows}
        return found

    def _checked(self, versions: dict[str, int | None]) -> dict[str, Row]:
        """The states of `versions`' ids, refusing unknown ids and versions that moved on."""
        states = self.relation_states(list(versions))
        missing = [i for i in versions if i not in states]
        if missing:
            raise UnknownRelationError(missing)
        stale = {i: (v, states[i]["version"]) for i, v in versions.items()
                 if v is not None and states[i]["version"] != v}
        if stale:
            raise StaleRelationError(stale)
        return states

    def decide(self, versions: dict[str, int | None], status: CurationStatus, by: str,
               note: str = "") -> Receipt:
        """Set `status` on every relation in `versions` (id -> version seen, or None: unchecked), or on none.

        A decision on product-type relations (TYPE_COMPLEMENTS) reaches the item relations
        derived from them: rejecting withdraws the derived ones still proposed, accepting
        returns the withdrawn ones to proposed (`cypher.WITHDRAW_DERIVED`), as entries of
        the same decision, so an undo undoes both.

        Raises:
            UnknownRelationError: ids that name no relation; nothing is changed then.
            StaleRelationError: relations decided since their version was read; nothing is changed.
        """
        self._checked(versions)
        receipt = self._record({i: (status.value, v) for i, v in versions.items()}, by, note)
        if types := _by_type(receipt.ids).get(RelationType.TYPE_COMPLEMENTS):
            follow = cypher.WITHDRAW_DERIVED if status is CurationStatus.REJECTED else cypher.RESTORE_DERIVED
            self._write(follow, {"ids": types, "by": by, "now": now_ms(), "decision": receipt.decision,
                                 "note": f"derived from {', '.join(types)}"})
        return receipt

    def derived_relations(self, ids: Sequence[str]) -> list[Row]:
        """The item relations derived from the product-type relations `ids` (id, ends, derived_from, status).

        What rejecting those type relations withdraws (its `proposed` ones), shown before a decision.
        """
        return self._read(cypher.DERIVED_RELATIONS, {"ids": list(ids)})

    def _record(self, rows: dict[str, tuple[str, int | None]], by: str, note: str) -> Receipt:
        """Append one decision's entries (id -> (status, version)); a row whose version moved is skipped."""
        decision = uuid.uuid4().hex
        params: Row = {"by": by, "now": now_ms(), "decision": decision}
        written: set[str] = set()
        for relation, members in _by_type(list(rows)).items():
            batch = [{"id": i, "status": rows[i][0], "version": rows[i][1], "note": note} for i in members]
            written |= {r["id"] for r in self._write(cypher.set_status(relation), {**params, "rows": batch})}
        return Receipt(decision=decision, ids=[i for i in rows if i in written])

    def set_status(self, ids: Sequence[str], status: CurationStatus, by: str) -> list[str]:
        """Record a curator's decision on every id, or on none if any id is unknown (the CLI's accept/reject).

        Raises:
            UnknownRelationError: ids that name no relation, or are no relation ids at all (no
                type prefix); nothing is changed then.
        """
        return self.decide(dict.fromkeys(ids), status, by, note="cli").ids

    def relabel(self, old_id: str, version: int | None, new_type: RelationType, by: str) -> Receipt:
        """Reject `old_id` and accept the relation of `new_type` between the same items, as one decision.

        Raises:
            UnknownRelationError: `old_id` names no relation.
            StaleRelationError: it was decided since `version` was read.
            ValueError: `new_type` is its own type, or either type is not an item-item relation.
        """
        state = self._checked({old_id: version})[old_id]
        old_type = relation_type_of(old_id)
        if new_type == old_type or not {old_type, new_type} <= ITEM_RELATIONS:
            raise ValueError(f"cannot relabel {old_type.value} {old_id} as {new_type.value}: relabel one "
                             "item-item relation as another item-item type")
        head, tail = state["head"], state["tail"]
        if new_type in SYMMETRIC_RELATIONS and tail < head:
            head, tail = tail, head
        new_id, decision = relation_id(head, new_type, tail), uuid.uuid4().hex
        written = self._write(cypher_curation.relabel(old_type, new_type), {
            "id": old_id, "version": state["version"], "head": head, "tail": tail, "new_id": new_id,
            "by": by, "now": now_ms(), "decision": decision, "curator": "curator",
            "new_note": f"relabel from {old_id}", "old_note": f"relabel to {new_id}"})
        if not written:  # decided between the check and the write
            raise StaleRelationError({old_id: (state["version"], state["version"] + 1)})
        return Receipt(decision=decision, ids=[old_id, new_id])

    def last_decision(self, by: str) -> Receipt | None:
        """`by`'s latest decision that is not an undo and is still the latest on its relations."""
        found = self._read(cypher_curation.LAST_DECISION, {"by": by, "undo": UNDO})
        if not found or found[0]["decision"] is None:
            return None
        decision = found[0]["decision"]
        ids = [row["id"] for row in self._read(cypher_curation.DECISION_MEMBERS, {"decision": decision})]
        return Receipt(decision=decision, ids=ids)

    def undo(self, by: str) -> Receipt | None:
        """Undo `by`'s last decision (`last_decision`, returned): each relation gets its status before.

        A relation that decision created (a relabel's new relation) is deleted. The undo is
        itself a history entry, so the history still tells what happened; None when `by`
        has nothing to undo.
        """
        last = self.last_decision(by)
        if last is None:
            return None
        states = self.relation_states(last.ids)
        restore: dict[str, tuple[str, int | None]] = {}
        for relation_id_, state in states.items():
            if state["relabelled_from"] is not None and state["version"] == 1:
                self._write(cypher_curation.delete_relation(relation_type_of(relation_id_)),
                            {"id": relation_id_, "decision": last.decision})
                continue
            before = state["history_status"][-2] if state["version"] > 1 else CurationStatus.PROPOSED.value
            restore[relation_id_] = (before, state["version"])
        self._record(restore, by, f"{UNDO} {last.decision}")
        return last

    def relation_card(self, relation_id_: str) -> Row | None:
        """A relation with both ends and the co-purchase between its items (property maps), or None."""
        try:
            relation = relation_type_of(relation_id_)
        except ValueError:
            return None
        rows = self._read(cypher_curation.relation_card(relation), {"id": relation_id_})
        return {**rows[0], "type": relation.value} if rows else None

    def item(self, item_id: str) -> Row | None:
        """An item's properties, or None when the graph holds no such item."""
        rows = self._read(cypher_curation.ITEM, {"id": item_id})
        return dict(rows[0]["item"]) if rows else None

    def neighbourhood(self, item_id: str, limit: int) -> list[Row]:
        """Up to `limit` relations of an item either way, by type, strongest support first."""
        return self._read(cypher_curation.NEIGHBOURHOOD, {"id": item_id, "limit": limit})

    def progress(self) -> tuple[list[Row], list[Row]]:
        """Relations by (type, status), and decided relations by (curator, status)."""
        by_type = self._read(cypher_curation.PROGRESS_BY_TYPE, {})
        return by_type, self._read(cypher_curation.PROGRESS_BY_CURATOR, {})

    def sources(self) -> list[str]:
        """Every model or rule that proposed relations, sorted (the queue's source filter)."""
        return [row["model"] for row in self._read(cypher_curation.SOURCES, {}) if row["model"] is not None]
