"""Labels a critic learns from: labels files (`a,b,label`) and curators' decisions (`kgrec curate export`).

Both become one table of (a, b, kind, positive) rows, pairs unordered (`a < b`). A labels
file's label is exclusive: `complement` is a positive for the complement kind and a negative
for the substitute and variant kinds; `unrelated` is a negative for all three. A curator's
decision speaks of one kind only: an accepted `COMPLEMENTS` relation is a complement positive, a
rejected one a complement negative, and says nothing of the other kinds.

Refused, with the file, line and reason: unknown label names, files of neither layout, and a
pair labeled two ways (in one file or across files). Ids not in the catalog are counted and
dropped, not refused: labels outlive catalogs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from kg.errors import InputDataError, reading
from kg.schema import RelationType

KINDS = ("complement", "substitute", "variant")
LABELS = (*KINDS, "unrelated")
# Curated relation types a critic learns from, by kind.
RELATION_KINDS = {RelationType.COMPLEMENTS.value: "complement", RelationType.SUBSTITUTES.value: "substitute",
                  RelationType.VARIANT_OF.value: "variant"}
KIND_RELATIONS = {kind: RelationType(relation) for relation, kind in RELATION_KINDS.items()}
LABEL_SCHEMA = {"a": pl.String, "b": pl.String, "kind": pl.String, "positive": pl.Boolean,
                "source": pl.String}


@dataclass
class LabelSet:
    """Labels as (a, b, kind, positive, source) rows, and what reading them left out."""

    rows: pl.DataFrame
    unknown_ids: int = 0  # labels naming an item the catalog lacks (dropped)
    ignored: dict[str, int] = field(default_factory=dict)  # curated rows of other types, by type

    def pairs(self) -> pl.DataFrame:
        """The distinct labeled pairs (a, b), sorted."""
        return self.rows.select("a", "b").unique().sort("a", "b")

    def of_kind(self, kind: str) -> pl.DataFrame:
        """(a, b, positive) for one kind, sorted by pair."""
        return self.rows.filter(pl.col("kind") == kind).select("a", "b", "positive").sort("a", "b")


def read_labels(paths: Sequence[Path], catalog: Iterable[str] | None = None) -> LabelSet:
    """Every file in `paths` read and checked; `catalog` (item ids), when given, drops unknown ids.

    Raises:
        InputDataError: a file is missing or of neither layout, a label is unknown, or a pair is
            labeled two ways; the message names the file and line.
    """
    frames, ignored = [], Counter[str]()
    for path in paths:
        frame, skipped = _read_one(path)
        frames.append(frame)
        ignored.update(skipped)
    rows = pl.concat(frames) if frames else pl.DataFrame(schema={**LABEL_SCHEMA, "line": pl.Int64})
    return _checked(rows, catalog, dict(ignored))


def labels_from_table(table: pl.DataFrame, source: str, catalog: Iterable[str] | None = None) -> LabelSet:
    """Labels made by code rather than read from a file (a, b, label rows), checked like a file's.

    For label tables built from a synthetic ground truth or from weak signals (co-view and
    co-purchase links): they get the same exclusive-label reading, the same refusals (`source`
    and the 1-based row stand in for file and line) and the same dropping of unknown ids.

    Raises:
        InputDataError: `table` lacks a, b or label, a label is unknown, or a pair is labeled two ways.
    """
    if not {"a", "b", "label"} <= set(table.columns):
        raise InputDataError(source, f"needs columns a, b, label; has {', '.join(table.columns)}")
    numbered = table.with_row_index("line", offset=1).with_columns(pl.col("line").cast(pl.Int64))
    return _checked(_from_labels_file(numbered, source), catalog, {})


def _checked(rows: pl.DataFrame, catalog: Iterable[str] | None, ignored: dict[str, int]) -> LabelSet:
    """Conflicts refused, then ids missing from `catalog` (when given) counted and dropped."""
    _refuse_conflicts(rows)
    unknown = 0
    if catalog is not None:
        known = pl.Series(list(catalog), dtype=pl.String).implode()
        keep = pl.col("a").is_in(known) & pl.col("b").is_in(known)
        unknown = rows.filter(~keep).select("a", "b").unique().height
        rows = rows.filter(keep)
    return LabelSet(rows.select(*LABEL_SCHEMA).unique(maintain_order=True), unknown, ignored)


def _read_one(path: Path) -> tuple[pl.DataFrame, dict[str, int]]:
    """One file's rows, with `line` (1-based, the header is line 1) for messages; skipped rows by type."""
    if not path.is_file():
        raise InputDataError(str(path), "no such labels file; pass a labels CSV (a, b, label) or a `kgrec "
                             "curate export` file as --labels")
    with reading(path, "labels (a CSV a, b, label, or a `kgrec curate export` file)",
                 "fix the file or pass another --labels"):
        table = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, infer_schema=False)
    table = table.with_row_index("line", offset=2).with_columns(pl.col("line").cast(pl.Int64))
    columns = set(table.columns)
    if {"a", "b", "label"} <= columns:
        return _from_labels_file(table, str(path)), {}
    if {"type", "head", "tail", "status"} <= columns:
        return _from_curated(table, path)
    raise InputDataError(str(path), "needs columns a, b, label (a labels file) or type, head, tail, status "
                         f"(`kgrec curate export`); has {', '.join(sorted(columns - {'line'}))}")


def _from_labels_file(table: pl.DataFrame, source: str) -> pl.DataFrame:
    labeled = table.with_columns(pl.col("label").cast(pl.String).str.strip_chars().str.to_lowercase())
    bad = labeled.filter(~pl.col("label").is_in(LABELS) | pl.col("label").is_null())
    if bad.height:
        where = ", ".join(f"line {r['line']}: {r['label']!r}" for r in bad.head(5).iter_rows(named=True))
        raise InputDataError(source, f"unknown labels ({where}); use {', '.join(LABELS)}")
    pairs = labeled.select(*_ordered("a", "b"), "label", "line")
    rows = pairs.join(pl.DataFrame({"kind": list(KINDS)}), how="cross").with_columns(
        (pl.col("kind") == pl.col("label")).alias("positive"))
    return rows.select("a", "b", "kind", "positive", pl.lit(source).alias("source"), "line")


def _from_curated(table: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, dict[str, int]]:
    """Decided relations of the critic's kinds; other types (CO_PURCHASED, concepts) are counted."""
    decided = table.filter(pl.col("status").is_in(["accepted", "rejected"]))
    ours = pl.col("type").is_in(list(RELATION_KINDS))
    skipped = dict(decided.filter(~ours).group_by("type").len().sort("type").iter_rows())
    rows = decided.filter(ours).select(
        *_ordered("head", "tail"), pl.col("type").replace_strict(RELATION_KINDS).alias("kind"),
        (pl.col("status") == "accepted").alias("positive"), pl.lit(str(path)).alias("source"), "line")
    return rows, skipped


def _ordered(first: str, second: str) -> list[pl.Expr]:
    a, b = pl.col(first).cast(pl.String).str.strip_chars(), pl.col(second).cast(pl.String).str.strip_chars()
    return [pl.min_horizontal(a, b).alias("a"), pl.max_horizontal(a, b).alias("b")]


def _refuse_conflicts(rows: pl.DataFrame) -> None:
    """A pair and kind labeled both positive and negative anywhere is refused, naming both places."""
    conflicts = (rows.group_by("a", "b", "kind").agg(pl.col("positive").n_unique().alias("ways"),
                                                 pl.col("source"), pl.col("line"), pl.col("positive"))
                 .filter(pl.col("ways") > 1).sort("a", "b", "kind"))
    if conflicts.height:
        first = conflicts.row(0, named=True)
        where = "; ".join(f"{source} line {line} ({'yes' if positive else 'no'})" for source, line, positive
                          in zip(first["source"], first["line"], first["positive"], strict=True))
        raise InputDataError(first["source"][0], f"pair ({first['a']}, {first['b']}) is labeled two ways "
                             f"for {first['kind']}: {where} ({conflicts.height} such pair(s) and kind(s))")
