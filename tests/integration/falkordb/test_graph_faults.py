"""The embedded store's lifecycle and the loader under faults: restarts, a server killed mid-load."""

import json
import os
import signal
from pathlib import Path

import polars as pl
import pytest

from kg.backends.falkordb import server as falkordb_server
from kg.backends.falkordb.store import FalkorDBStore
from kg.errors import StoreUnavailable
from kg.load import RetryPolicy, load_directory
from kg.schema import RelationType, relation_id


def _input(directory: Path, n_items: int, run_id: str = "run1") -> Path:
    items = [f"I{i:05d}" for i in range(n_items)]
    (directory / "items").mkdir(parents=True)
    (directory / "relations").mkdir()
    pl.DataFrame({"item_id": items, "title": items, "category": None, "brand": None},
                 schema_overrides={"category": pl.String, "brand": pl.String}).write_parquet(
        directory / "items" / "part.parquet")
    heads, tails = items[:-1], items[1:]
    pl.DataFrame({
        "id": [relation_id(h, RelationType.CO_PURCHASED, t) for h, t in zip(heads, tails, strict=True)],
        "head": heads, "type": RelationType.CO_PURCHASED.value, "tail": tails, "tail_text": None,
        "confidence": 0.5, "support": 2, "lift": 3.0, "first_seen": None, "last_seen": None,
        "model": "cooccurrence", "prompt_version": "n/a", "rationale": None, "run_id": run_id,
        "evidence_id": f"ev-{run_id}",
    }, schema_overrides={"tail_text": pl.String, "first_seen": pl.Datetime("ms", "UTC"),
                         "last_seen": pl.Datetime("ms", "UTC"), "rationale": pl.String}
    ).write_parquet(directory / "relations" / "part.parquet")
    return directory


def test_start_status_stop_and_data_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert falkordb_server.status(state) is None
    info = falkordb_server.start(state)
    assert falkordb_server.start(state) == info  # already running: the same server
    with FalkorDBStore(info.url, "g") as store:
        load_directory(store, _input(tmp_path / "in", 50), 1000, RetryPolicy())
    assert falkordb_server.stop(state) and falkordb_server.status(state) is None
    assert not falkordb_server.stop(state)
    again = falkordb_server.start(state)
    try:
        with FalkorDBStore(again.url, "g") as store:
            assert store.counts() == {"nodes": 50, "relations": 49}
    finally:
        falkordb_server.stop(state)


def test_server_killed_mid_load_then_resumed_without_duplicates(tmp_path: Path) -> None:
    state = tmp_path / "state"
    info = falkordb_server.start(state)
    source = _input(tmp_path / "in", 1_001)  # 1,000 relations in 10 batches of 100
    batches_seen = 0

    def kill_after_four_batches(rows: int) -> None:
        nonlocal batches_seen
        batches_seen += 1
        if batches_seen == 4:
            os.kill(falkordb_server.status(state).pid, signal.SIGKILL)

    try:
        identity = f"embedded:{state}:g"
        lease_s = 2.0  # the killed load's hold on the graph lapses this long after its last write
        with (FalkorDBStore(info.url, "g", identity=identity, lease_s=lease_s) as store,
              pytest.raises(StoreUnavailable) as failure):
            load_directory(store, source, 100, RetryPolicy(max_retries=2, backoff_s=0.05),
                           kill_after_four_batches)
        assert "failed after 3 tries" in str(failure.value)
        done = json.loads((source / "_load" / "state.json").read_text())["batches_done"]
        # Four batches reported; the fifth was in flight (written while the fourth was
        # checked) and is recorded too when its write beat the kill.
        assert done in (4, 5)

        info = falkordb_server.start(state)  # same data directory: the AOF replays
        with FalkorDBStore(info.url, "g", identity=identity, lease_s=lease_s) as store:
            report = load_directory(store, source, 100, RetryPolicy())
            assert report.resumed_after_batch == done
            # The batch in flight at the kill may have gone in without being recorded as done:
            # re-sent, its evidence is not counted again.
            assert report.relations_counted in ((9 - done) * 100, (10 - done) * 100)
            assert store.counts() == {"nodes": 1_001, "relations": 1_000}
            supports = store._read("MATCH ()-[r:CO_PURCHASED]->() RETURN DISTINCT r.support AS s", {})
            assert supports == [{"s": 2}]  # no batch counted twice
    finally:
        falkordb_server.stop(state)
