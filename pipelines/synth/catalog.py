"""Build the synthetic catalog (items) and the ground-truth relations it implies.

Items are laid out on a regular grid, item index = (type * lines + line) * variants + variant,
so the behaviour generator can pick variants, substitutes and complements with array
arithmetic instead of lookups.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pyarrow as pa

from kg.arrow_schema import arrow_schema_of
from kg.schema import GroundTruthRelation, Item
from pipelines.synth.knowledge import (
    BRANDS,
    COMMONSENSE_RELATIONS,
    COMPLEMENT_TYPES,
    PRODUCT_TYPES,
    SERIES,
    VARIANT_VALUES,
)


@dataclass(frozen=True)
class Catalog:
    """The item grid plus the tables written beside the events."""

    n_types: int
    lines_per_type: int
    variants_per_line: int
    item_ids: pa.Array  # string, indexed by grid position
    items: pa.Table
    ground_truth: pa.Table
    # complements[t] lists the complement type indices of type t, padded with -1.
    complements: np.ndarray
    type_domain: np.ndarray  # domain index per type
    n_domains: int

    def item_index(self, type_idx: np.ndarray, line: np.ndarray, variant: np.ndarray) -> np.ndarray:
        """Grid position of (type, line, variant), vectorized."""
        index: np.ndarray = (type_idx * self.lines_per_type + line) * self.variants_per_line + variant
        return index


def _line_names(rng: np.random.Generator, n_types: int, lines: int) -> list[list[tuple[str, str]]]:
    """(brand, series) per line of each type; distinct within a type."""
    pairs = [(b, s) for b in BRANDS for s in SERIES]
    names = []
    for _ in range(n_types):
        chosen = rng.choice(len(pairs), size=lines, replace=False)
        names.append([pairs[i] for i in chosen])
    return names


def build_catalog(seed: int, lines_per_type: int, variants_per_line: int) -> Catalog:
    """Deterministic catalog for a seed: same arguments, same items and ground truth."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    types = PRODUCT_TYPES
    line_names = _line_names(rng, len(types), lines_per_type)
    rows: list[dict[str, object]] = []
    for t, ptype in enumerate(types):
        values = VARIANT_VALUES[ptype.variant_axis][:variants_per_line]
        for line, (brand, series) in enumerate(line_names[t]):
            line_price = ptype.base_price * float(rng.uniform(0.7, 1.4))
            for variant, (value, multiplier) in enumerate(values):
                index = (t * lines_per_type + line) * variants_per_line + variant
                rows.append({
                    "item_id": f"P{index:06d}",
                    "title": f"{brand} {series} {ptype.noun}, {value}",
                    "text": f"The {series} {ptype.noun.lower()} from {brand}, {value.lower()}. "
                    f"Made for {ptype.used_for}.",
                    "category": ptype.category,
                    "brand": brand,
                    "price": round(line_price * multiplier, 2),
                })
    items = pa.Table.from_pylist(rows, schema=arrow_schema_of(Item))
    item_ids = items.column("item_id").combine_chunks()
    key_to_index = {p.key: i for i, p in enumerate(types)}
    domains = sorted({p.category.split(" > ")[0] for p in types})
    type_domain = np.array([domains.index(p.category.split(" > ")[0]) for p in types])
    complement_lists: list[list[int]] = [[] for _ in types]
    for a, b in COMPLEMENT_TYPES:
        complement_lists[key_to_index[a]].append(key_to_index[b])
        complement_lists[key_to_index[b]].append(key_to_index[a])
    width = max(len(c) for c in complement_lists)
    complements = np.full((len(types), width), -1, dtype=np.int64)
    for t, comps in enumerate(complement_lists):
        complements[t, : len(comps)] = comps
    truth = _ground_truth(
        item_ids.to_pylist(), lines_per_type, variants_per_line,
        [(key_to_index[a], key_to_index[b]) for a, b in COMPLEMENT_TYPES],
    )
    return Catalog(len(types), lines_per_type, variants_per_line, item_ids, items, truth,
                   complements, type_domain, len(domains))


def _items_of_type(item_ids: list[str], t: int, per_type: int) -> list[str]:
    return item_ids[t * per_type : (t + 1) * per_type]


def _ground_truth(
    item_ids: list[str], lines_per_type: int, variants_per_line: int,
    complement_types: list[tuple[int, int]],
) -> pa.Table:
    """Every relation the generator built in: item-item pairs (head < tail) and item-concept."""
    per_type = lines_per_type * variants_per_line
    rows: list[dict[str, str]] = []

    def add(head: str, relation: str, tail: str, kind: str) -> None:
        rows.append({"head": head, "relation": relation, "tail": tail, "tail_kind": kind})

    for t, ptype in enumerate(PRODUCT_TYPES):
        ids = _items_of_type(item_ids, t, per_type)
        for a, b in combinations(range(per_type), 2):
            same_line = a // variants_per_line == b // variants_per_line
            add(ids[a], "variant_of" if same_line else "substitute", ids[b], "item")
        for item in ids:
            for relation in COMMONSENSE_RELATIONS:
                add(item, relation, getattr(ptype, relation), "concept")
    for ta, tb in complement_types:
        for a_item in _items_of_type(item_ids, ta, per_type):
            for other in _items_of_type(item_ids, tb, per_type):
                low, high = sorted((a_item, other))
                add(low, "complement", high, "item")
    return pa.Table.from_pylist(rows, schema=arrow_schema_of(GroundTruthRelation))
