"""An incremental refine sends the graph only what changed since the previous refine output.

Every refine output keeps `held/`: the relations the graph holds from it and the outputs before
it, with their cumulative values (what a full run over the same events would send). An
increment (`kgrec refine --previous DIR`) computes its relations whole as usual, then keeps in
`relations/` only what the graph lacks:

- behavioural relations (CO_PURCHASED from counts): a new pair as it is; a pair whose support,
  first/last seen, confidence or lift moved, with the support it *added* (the graph's MERGE adds
  a new batch's support to the edge's and takes the newest confidence and lift); a pair whose
  values are the same is not sent;
- extracted relations: a row whose evidence (its answer's key) or decision the graph has not
  seen; answers asked again hit the answer cache and carry the same key, so they are not sent.

Loaded after the previous output, the increment leaves each relation with the support, times,
confidence and lift of one full run over the same events. A relation the graph holds stays: a
pair that falls out of its items' top k after an increment keeps its older evidence (a full run
would not have loaded it).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from kg.arrow_schema import conform
from kg.cypher import DECISION_FIELDS
from kg.errors import StageOutputError
from kg.schema import Relation
from pipelines.outputs import require_complete, write_table
from pipelines.refine.graph_input import BEHAVIOUR_MODEL

HELD = "held"
BEHAVIOUR_VALUES = ("support", "first_seen", "last_seen", "confidence", "lift", "confidence_ab",
                    "confidence_ba")
IS_BEHAVIOUR = pl.col("model") == BEHAVIOUR_MODEL


def keep_changes(out_dir: Path, previous: Path | None) -> dict[str, int]:
    """Rewrite `out_dir/relations` to what the graph lacks after `previous`; write `out_dir/held`.

    Returns the rows sent and left out. Without `previous` everything is sent.

    Raises:
        StageOutputError: `previous` is not a finished refine output with `held/`.
    """
    if previous is not None:
        require_held(previous)
    current = pl.read_parquet(out_dir / "relations")
    if previous is None:
        write_table(conform(current.to_arrow(), Relation), out_dir / HELD)
        return {"relations_sent": current.height, "relations_unchanged": 0}
    require_held(previous)
    held = pl.read_parquet(previous / HELD)
    send = pl.concat([_behaviour_changes(current.filter(IS_BEHAVIOUR), held.filter(IS_BEHAVIOUR)),
                      _new_knowledge(current.filter(~IS_BEHAVIOUR), held.filter(~IS_BEHAVIOUR))],
                     how="vertical_relaxed").sort("id", "evidence_id")
    kept = pl.concat([held.filter(IS_BEHAVIOUR).join(current.filter(IS_BEHAVIOUR), on="id", how="anti"),
                      held.filter(~IS_BEHAVIOUR).join(current, on=["id", "evidence_id"], how="anti")],
                     how="vertical_relaxed")
    write_table(conform(pl.concat([current, kept], how="vertical_relaxed").to_arrow(), Relation),
                out_dir / HELD)
    relations = out_dir / "relations"
    for part in relations.glob("*.parquet"):
        part.unlink()
    pq.write_table(conform(send.to_arrow(), Relation), relations / "part-00000.parquet")
    return {"relations_sent": send.height, "relations_unchanged": current.height - send.height}


def require_held(previous: Path) -> None:
    """Refuse a `--previous` that is not a finished refine output with `held/`.

    Raises:
        StageOutputError: naming what it is instead, or that it predates incremental runs.
    """
    require_complete(previous, "refine", "--previous")
    if not (previous / HELD).is_dir():
        raise StageOutputError(str(previous), f"holds no {HELD}/ (refine outputs have it since incremental "
                               "runs); run `kgrec refine` on it again, then load it")


def _behaviour_changes(current: pl.DataFrame, held: pl.DataFrame) -> pl.DataFrame:
    """New pairs whole; pairs whose values moved, with the support added since; not the others."""
    before = held.select("id", *(pl.col(c).alias(f"{c}_held") for c in BEHAVIOUR_VALUES))
    joined = current.join(before, on="id", how="left")
    moved = pl.any_horizontal(
        *(pl.col(c).ne_missing(pl.col(f"{c}_held")) for c in BEHAVIOUR_VALUES))
    return joined.filter(pl.col("support_held").is_null() | moved).with_columns(
        (pl.col("support") - pl.col("support_held").fill_null(0)).alias("support"),
    ).drop(*(f"{c}_held" for c in BEHAVIOUR_VALUES))


def _new_knowledge(current: pl.DataFrame, held: pl.DataFrame) -> pl.DataFrame:
    """Extracted rows whose evidence or decision the graph has not been sent."""
    keys = ["id", "evidence_id", *DECISION_FIELDS]
    return current.join(held.select(keys), on=keys, how="anti", nulls_equal=True)
