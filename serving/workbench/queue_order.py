"""The review queue's order, read once per filter and paged from memory.

Ordering the queue means reading and sorting every relation the filter selects (FalkorDB plans
it as a traversal of all relationships: 0.2 s a page at 100k relations on a quiet 2-core
machine, over a second on a loaded one, and growing with the graph), which is too slow to pay
on every page and after every decision. The workbench instead reads a filter's order as ids
(`GraphStore.queue_order`, in the background) and serves each page by looking its ids up
(`GraphStore.queue_rows`, an index lookup per id); until a filter's order is held, its pages
come from the queue statement itself.

The rows are always read live, so a cached order can only be late, never wrong: a relation
decided since (here, by another curator or another workbench) no longer passes the filter,
is left out of the page and forgotten, and the page fills up from the ids after it. What a
cached order misses until it is read again (every `refresh_s`, in the background, the old
order served meanwhile) is new relations and new scores from a pipeline run. Decisions keep
their own guard (versions), so nothing here can make a stale page overwrite a newer decision.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kg.curation import QueueFilter
from kg.store import GraphStore, Row

log = logging.getLogger(__name__)


@dataclass
class _Order:
    """One filter's ids in queue order, when they were read, and whether the read hit the cap."""

    ids: list[str]
    read_at: float = field(default_factory=time.monotonic)
    complete: bool = True


class QueueOrders:
    """Cached queue orders of the filters most recently used (at most `max_filters` of them)."""

    def __init__(self, store: GraphStore, refresh_s: float, limit: int, max_filters: int = 16) -> None:
        self._store = store
        self._refresh_s = refresh_s
        self._limit = limit
        self._max_filters = max_filters
        self._orders: OrderedDict[str, _Order] = OrderedDict()
        self._refreshing: set[str] = set()  # filters whose order a background read is fetching
        self._generation = 0  # bumped by `invalidate`: a read begun before it is not kept
        self._lock = threading.Lock()
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="queue-order")

    def page(self, where: QueueFilter, page: int, size: int) -> list[Row]:
        """Rows `page * size` to `(page + 1) * size` of the queue `where` selects, read live.

        A filter whose order is not held yet gets its page from the store's queue statement
        (one page, sorted there) while its order is read in the background.
        """
        order = self._order(where)
        start = page * size
        if order is None:
            first = self._store.review_queue(where.status, size, where, start)
            self._refresh_later(_key(where), where)  # after the page: the two would share the cores
            return first
        rows: list[Row] = []
        while len(rows) < size:
            ids = order.ids[start + len(rows):start + size]
            if not ids:
                break
            found = self._store.queue_rows(ids, where)
            gone = set(ids) - {row["id"] for row in found}
            if gone:  # decided (or changed out of the filter) since the order was read
                self.forget(gone)
                with self._lock:  # this order too, should a refresh or an undo have replaced it
                    order.ids = _without(order.ids, gone)
            rows += found
        if len(rows) < size and not order.complete:  # past the ids the order holds
            rows += self._store.review_queue(where.status, size - len(rows), where, start + len(rows))
        return rows

    def read_at(self, where: QueueFilter) -> float | None:
        """`time.monotonic()` when the order of `where` was read, or None when none is held."""
        with self._lock:
            order = self._orders.get(_key(where))
        return order.read_at if order else None

    def warm(self, where: QueueFilter) -> None:
        """Read the order of `where` in the background (the first page then needs no sort)."""
        self._refresh_later(_key(where), where)

    def forget(self, ids: set[str]) -> None:
        """Drop `ids` from every held order: decided, they leave every queue they were in."""
        with self._lock:
            for order in self._orders.values():
                order.ids = _without(order.ids, ids)

    def invalidate(self) -> None:
        """Drop every held order (an undo puts relations back): the next page reads afresh."""
        with self._lock:
            self._orders.clear()
            self._generation += 1

    def close(self) -> None:
        """Wait for a background read in flight; nothing is read after."""
        self._background.shutdown(wait=True, cancel_futures=True)

    def _order(self, where: QueueFilter) -> _Order | None:
        """The order held for `where` (None when none is), read again in the background when it is due."""
        key = _key(where)
        with self._lock:
            order = self._orders.get(key)
            if order is not None:
                self._orders.move_to_end(key)
        if order is not None and time.monotonic() - order.read_at > self._refresh_s:
            self._refresh_later(key, where)
        return order

    def _read(self, key: str, where: QueueFilter) -> None:
        with self._lock:
            generation = self._generation
        ids = self._store.queue_order(where, self._limit)
        order = _Order(ids, complete=len(ids) < self._limit)
        with self._lock:
            if generation != self._generation:  # an undo since the read began: keep none
                return
            self._orders[key] = order
            self._orders.move_to_end(key)
            while len(self._orders) > self._max_filters:
                self._orders.popitem(last=False)

    def _read_quietly(self, key: str, where: QueueFilter) -> None:
        """A background read: a failure is logged and the order held is kept (the next page retries)."""
        try:
            self._read(key, where)
        except Exception:
            log.exception("reading the review queue's order for %s failed; keeping the one held", key)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def _refresh_later(self, key: str, where: QueueFilter) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            with contextlib.suppress(RuntimeError):  # closing: no more reads
                self._background.submit(self._read_quietly, key, where)
                self._refreshing.add(key)


def _without(ids: list[str], gone: set[str]) -> list[str]:
    return [i for i in ids if i not in gone]


def _key(where: QueueFilter) -> str:
    return where.model_dump_json()
