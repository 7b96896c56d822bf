"""`kgrec data synth`: write a synthetic raw log, its catalog and its ground truth."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from pydantic import BaseModel

from pipelines.config import SynthSection
from pipelines.progress import progress_bar
from pipelines.synth.behavior import corrupt, generate_chunk, make_users
from pipelines.synth.catalog import build_catalog


class SynthOutput(BaseModel):
    """Where the generated data went and how much of it there is."""

    events_dir: Path
    items_path: Path
    ground_truth_path: Path
    events: int
    items: int
    users: int
    relations: int


def generate(settings: SynthSection, out_dir: Path) -> SynthOutput:
    """Write `events/part-*.parquet`, `items.parquet` and `ground_truth.parquet` under out_dir.

    Re-running with the same settings rewrites identical files (stale parts from a larger
    earlier run are removed), so the command is safe to repeat.
    """
    catalog = build_catalog(settings.seed, settings.lines_per_type, settings.variants_per_line)
    n_users = max(1, round(settings.events / settings.events_per_user))
    users = make_users(n_users, catalog, settings.seed)
    events_dir = out_dir / "events"
    events_dir.mkdir(parents=True, exist_ok=True)
    for stale in events_dir.glob("part-*.parquet"):
        stale.unlink()
    n_chunks = -(-settings.events // settings.chunk_events)
    with progress_bar("synth events", total=settings.events) as advance:
        for chunk in range(n_chunks):
            size = min(settings.chunk_events, settings.events - chunk * settings.chunk_events)
            table = generate_chunk(catalog, users, size, settings.days, settings.seed, chunk)
            table = corrupt(table, settings.corrupt_fraction, settings.seed, chunk)
            pq.write_table(table, events_dir / f"part-{chunk:05d}.parquet")
            advance(size)
    items_path = out_dir / "items.parquet"
    truth_path = out_dir / "ground_truth.parquet"
    pq.write_table(catalog.items, items_path)
    pq.write_table(catalog.ground_truth, truth_path)
    return SynthOutput(
        events_dir=events_dir, items_path=items_path, ground_truth_path=truth_path,
        events=settings.events, items=catalog.items.num_rows, users=n_users,
        relations=catalog.ground_truth.num_rows,
    )
