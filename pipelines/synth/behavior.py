"""Vectorized generation of user sessions that follow the catalog's known structure.

A session has a mission: one product type from the user's current domain of interest
(which drifts once, at a per-user time). Around the anchor item it holds, each with its own
probability: a purchase of the anchor, a look at another variant of it, a look at a
substitute, one or two complements (often bought), and a random item as noise. Variants and
substitutes co-occur with the anchor just as complements do, so co-occurrence alone cannot
tell them apart, which is the point of the LLM stage.

Everything is numpy over whole chunks: 10M events take seconds, not hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kg.arrow_schema import TIMESTAMP, arrow_schema_of
from kg.schema import Event
from pipelines.synth.catalog import Catalog
from pipelines.synth.knowledge import PRODUCT_TYPES

START = datetime(2026, 1, 1, tzinfo=UTC)

# (event type, probability that the slot happens) in session order.
_SLOTS: tuple[tuple[str, float], ...] = (
    ("anchor_view", 1.0),
    ("anchor_purchase", 0.55),
    ("variant_view", 0.35),
    ("substitute_view", 0.30),
    ("complement", 0.60),
    ("complement", 0.30),
    ("noise_view", 0.30),
)
_EXPECTED_SESSION_LEN = sum(p for _, p in _SLOTS)
_QUERY_PROBABILITY = 0.3
_COMPLEMENT_PURCHASE_PROBABILITY = 0.6


def _query_templates() -> list[list[str]]:
    """Search phrasings per product type: what a shopper with that mission might type."""
    return [
        [t.noun.lower(), f"{t.noun.lower()} for {t.used_for}", f"{t.is_a} for {t.used_for}",
         f"best {t.noun.lower()}"]
        for t in PRODUCT_TYPES
    ]


@dataclass(frozen=True)
class Users:
    """Per-user traits, indexed by user number."""

    cumulative_activity: np.ndarray  # for inverse-CDF sampling of who shops
    home_domain: np.ndarray
    drift_domain: np.ndarray
    drift_at: np.ndarray  # fraction of the period; > 1 means never
    preferred_line: np.ndarray


def make_users(n_users: int, catalog: Catalog, seed: int) -> Users:
    """Deterministic user population for a seed."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    activity = rng.pareto(1.5, n_users) + 0.1
    cumulative = np.cumsum(activity)
    drifts = rng.random(n_users) < 0.5
    return Users(
        cumulative_activity=cumulative / cumulative[-1],
        home_domain=rng.integers(0, catalog.n_domains, n_users),
        drift_domain=rng.integers(0, catalog.n_domains, n_users),
        drift_at=np.where(drifts, rng.uniform(0.3, 0.9, n_users), 2.0),
        preferred_line=rng.integers(0, catalog.lines_per_type, n_users),
    )


def _types_by_domain(catalog: Catalog) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(catalog.type_domain, minlength=catalog.n_domains)
    table = np.full((catalog.n_domains, counts.max()), -1, dtype=np.int64)
    for d in range(catalog.n_domains):
        members = np.flatnonzero(catalog.type_domain == d)
        table[d, : len(members)] = members
    return table, counts


def _pick_from_padded(rng: np.random.Generator, table: np.ndarray, counts: np.ndarray,
                      rows: np.ndarray) -> np.ndarray:
    """For each row index, a uniform pick among that row's valid (non-padding) entries."""
    column = (rng.random(len(rows)) * counts[rows]).astype(np.int64)
    picked: np.ndarray = table[rows, column]
    return picked


def generate_chunk(catalog: Catalog, users: Users, n_events: int, days: int,
                   seed: int, chunk: int) -> pa.Table:
    """Exactly `n_events` events for chunk number `chunk`; deterministic per (seed, chunk)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2, chunk]))
    n_sessions = int(n_events / _EXPECTED_SESSION_LEN * 1.25) + 16
    while True:
        table = _sessions(rng, catalog, users, n_sessions, days, chunk)
        if table.num_rows >= n_events:
            return table.slice(0, n_events)
        n_sessions *= 2  # rare: an unlucky draw produced short sessions


@dataclass(frozen=True)
class _Missions:
    """Who shops, when and for what: one entry per session, shared by all its slots."""

    user: np.ndarray
    when: np.ndarray  # fraction of the period
    mission: np.ndarray  # product type
    line: np.ndarray
    variant: np.ndarray


@dataclass(frozen=True)
class _Slots:
    """What each slot of each session holds, as (sessions, slots) arrays, before absent slots go."""

    present: np.ndarray
    items: np.ndarray
    purchases: np.ndarray
    ts: np.ndarray
    has_query: np.ndarray
    query_idx: np.ndarray  # (sessions,): index into the flattened query templates


def _sessions(rng: np.random.Generator, catalog: Catalog, users: Users, n: int, days: int,
              chunk: int) -> pa.Table:
    """`n` sessions as event rows (absent slots dropped), session ids offset by `chunk`.

    The steps draw from `rng` in a fixed order: missions, slot items, purchases, presence,
    times, queries. That order is part of the determinism contract (same seed, same data, byte
    for byte): moving a draw changes every event after it.
    """
    missions = _draw_missions(rng, catalog, users, n)
    items = _slot_items(rng, catalog, users, missions)
    purchases = _slot_purchases(rng, n)
    present = np.stack([rng.random(n) < p for _, p in _SLOTS], axis=1)  # (n, slots)
    ts = _slot_times(rng, missions.when, days)
    query_idx, has_query = _session_queries(rng, missions.mission)
    slots = _Slots(present=present, items=items, purchases=purchases, ts=ts,
                   has_query=has_query, query_idx=query_idx)
    return _event_table(catalog, missions.user, slots, chunk)


def _draw_missions(rng: np.random.Generator, catalog: Catalog, users: Users, n: int) -> _Missions:
    """Pick each session's user (by activity), time, product type and anchor line and variant.

    The mission's type comes from the user's domain at that time (home, or drift once past
    the user's drift point); half the time the line is the user's preferred one.
    """
    user = np.searchsorted(users.cumulative_activity, rng.random(n))
    user = np.minimum(user, len(users.cumulative_activity) - 1)
    when = rng.random(n)
    domain = np.where(when >= users.drift_at[user], users.drift_domain[user],
                      users.home_domain[user])
    type_table, type_counts = _types_by_domain(catalog)
    mission = _pick_from_padded(rng, type_table, type_counts, domain)
    line = np.where(rng.random(n) < 0.5, users.preferred_line[user],
                    rng.integers(0, catalog.lines_per_type, n))
    variant = rng.integers(0, catalog.variants_per_line, n)
    return _Missions(user=user, when=when, mission=mission, line=line, variant=variant)


def _slot_items(rng: np.random.Generator, catalog: Catalog, users: Users,
                missions: _Missions) -> np.ndarray:
    """Item per slot, shape (sessions, slots), in `_SLOTS` order.

    Anchor twice (view, purchase), another variant of it, the same variant of another line
    (a substitute), two complements, and a uniformly random item as noise.
    """
    lines, variants = catalog.lines_per_type, catalog.variants_per_line
    n = len(missions.mission)
    other_variant = (missions.variant + 1 + rng.integers(0, variants - 1, n)) % variants
    other_line = (missions.line + 1 + rng.integers(0, lines - 1, n)) % lines
    anchor = catalog.item_index(missions.mission, missions.line, missions.variant)
    slot_items = [
        anchor,
        anchor,
        catalog.item_index(missions.mission, missions.line, other_variant),
        catalog.item_index(missions.mission, other_line, missions.variant),
        _complement_item(rng, catalog, users, missions),
        _complement_item(rng, catalog, users, missions),
        rng.integers(0, len(catalog.item_ids), n),
    ]
    return np.stack(slot_items, axis=1)


def _complement_item(rng: np.random.Generator, catalog: Catalog, users: Users,
                     missions: _Missions) -> np.ndarray:
    """One complement per session: a complement type of the mission, in a line the user may prefer."""
    n = len(missions.mission)
    comp_counts = (catalog.complements >= 0).sum(axis=1)
    ctype = _pick_from_padded(rng, catalog.complements, comp_counts, missions.mission)
    cline = np.where(rng.random(n) < 0.5, users.preferred_line[missions.user],
                     rng.integers(0, catalog.lines_per_type, n))
    return catalog.item_index(ctype, cline, rng.integers(0, catalog.variants_per_line, n))


def _slot_purchases(rng: np.random.Generator, n: int) -> np.ndarray:
    """Whether each slot is a purchase, (sessions, slots): the anchor's always, complements often."""
    purchase = [
        np.zeros(n, bool),
        np.ones(n, bool),
        np.zeros(n, bool),
        np.zeros(n, bool),
        rng.random(n) < _COMPLEMENT_PURCHASE_PROBABILITY,
        rng.random(n) < _COMPLEMENT_PURCHASE_PROBABILITY,
        np.zeros(n, bool),
    ]
    return np.stack(purchase, axis=1)


def _slot_times(rng: np.random.Generator, when: np.ndarray, days: int) -> np.ndarray:
    """Epoch milliseconds per slot, (sessions, slots): a minute apart, jittered, in slot order."""
    n = len(when)
    offsets = np.arange(len(_SLOTS)) * 60_000 + rng.integers(0, 50_000, (n, len(_SLOTS)))
    start_ms = int(START.timestamp() * 1000)
    session_ms = start_ms + (when * days * 86_400_000).astype(np.int64)
    ts: np.ndarray = session_ms[:, None] + offsets
    return ts


def _session_queries(rng: np.random.Generator, mission: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A search phrasing per session for its mission, and which slots carry it (the first, sometimes).

    Returns the index into the flattened `_query_templates()` per session, and a (sessions,
    slots) mask.
    """
    n = len(mission)
    per_type = len(_query_templates()[0])
    query_idx = mission * per_type + rng.integers(0, per_type, n)
    has_query = np.zeros((n, len(_SLOTS)), bool)
    has_query[:, 0] = rng.random(n) < _QUERY_PROBABILITY
    return query_idx, has_query


def _event_table(catalog: Catalog, user: np.ndarray, slots: _Slots, chunk: int) -> pa.Table:
    """The present slots as `Event` rows, session by session in slot order; draws nothing.

    Session ids are `s<number + chunk * 10M>` so chunks never collide; user ids are `u<number>`.
    """
    n = len(user)
    flat_templates = [q for per_type in _query_templates() for q in per_type]
    mask = slots.present.ravel()
    session_of_row = np.repeat(np.arange(n), len(_SLOTS))[mask]
    event_type = np.where(slots.purchases.ravel()[mask], "purchase", "view")
    query_rows = slots.has_query.ravel()[mask]
    queries = pa.array(flat_templates).take(pa.array(slots.query_idx[session_of_row]))
    queries = pc.if_else(pa.array(query_rows), queries, pa.scalar(None, pa.string()))
    session_ids = pc.binary_join_element_wise(
        "s", pa.array(session_of_row + chunk * 10_000_000).cast(pa.string()), ""
    )
    user_ids = pc.binary_join_element_wise("u", pa.array(user[session_of_row]).cast(pa.string()), "")
    return pa.Table.from_arrays(
        [
            user_ids,
            catalog.item_ids.take(pa.array(slots.items.ravel()[mask])),
            pa.array(event_type),
            pa.array(slots.ts.ravel()[mask]).cast(TIMESTAMP),
            session_ids,
            queries,
        ],
        schema=arrow_schema_of(Event),
    )


def corrupt(table: pa.Table, fraction: float, seed: int, chunk: int) -> pa.Table:
    """Break a share of rows the ways real logs break, so quarantine has work to do.

    Kinds, in equal shares: user_id missing, item_id missing, ts missing, an item id that is
    not in the catalog, an event type nobody defined.
    """
    if fraction <= 0:
        return table
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3, chunk]))
    broken = rng.random(table.num_rows) < fraction
    kind = rng.integers(0, 5, table.num_rows)
    columns = {name: table.column(name) for name in table.column_names}

    def spoil(name: str, k: int, value: pa.Scalar) -> None:
        where = pa.array(broken & (kind == k))
        columns[name] = pc.if_else(where, value, columns[name])

    spoil("user_id", 0, pa.scalar(None, pa.string()))
    spoil("item_id", 1, pa.scalar(None, pa.string()))
    spoil("ts", 2, pa.scalar(None, TIMESTAMP))
    spoil("item_id", 3, pa.scalar("UNKNOWN-ITEM"))
    spoil("event_type", 4, pa.scalar("teleport"))
    raw_schema = pa.schema([field.with_nullable(True) for field in table.schema])
    return pa.table(columns, schema=raw_schema)
