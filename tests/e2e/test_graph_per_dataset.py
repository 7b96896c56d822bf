"""One graph per dataset: `kgrec run` on synthetic data (the e2e tests' shared run), then on other
files, never mixes the two.

Also what a run's log looks like in a file (one line per stage start and end, none of Ray
Data's progress lines, no token-authentication notice), and how the curation commands find a
run's graph afterwards.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml

from tests._support.chat_server import ChatServer, Reply, answer_for
from tests._support.cli import kgrec, run_dir_of
from tests._support.shared_runs import SharedRun

STAGES = ("synth", "ingest", "candidates", "extract", "refine", "graph_load", "snapshot", "train", "embed_export",
          "ctr")


def _small(tmp_path: Path, llm_url: str, **sections: dict[str, Any]) -> Path:
    """A config for a run on files, small enough for about half a minute; `sections` are merged
    over it. Its LLM is the scripted server at `llm_url`: the shared run used the local model."""
    config: dict[str, dict[str, Any]] = {
        "ray": {"num_cpus": 2, "object_store_memory_mb": 500, "progress_bars": False},
        "run": {"runs_dir": str(tmp_path / "runs"), "ctr": False},
        "graph": {"state_dir": str(tmp_path / "falkordb")},
        "candidates": {"llm_budget": 4},
        "extract": {"backend": "openai", "base_url": llm_url, "model": "scripted", "max_pairs": 1, "max_items": 1,
                    "cache_dir": str(tmp_path / "llm_cache"), "retry_backoff_s": 0.01},
        "gnn": {"max_events": 1500, "text_cache_dir": str(tmp_path / "text_cache")},
    }
    for name, values in sections.items():
        config[name] = {**config.get(name, {}), **values}
    path = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _shop(directory: Path) -> tuple[Path, Path]:
    """A tiny shop of its own: 12 items (ids shop-*), 200 sessions of 3 items over 40 days."""
    rng = np.random.default_rng(1)
    directory.mkdir()
    items = [f"shop-{i:02d}" for i in range(12)]
    start, rows = datetime(2026, 1, 1, tzinfo=UTC), []
    for session in range(200):
        group = rng.integers(0, 4)
        for n, item in enumerate(rng.choice(items[group * 3:group * 3 + 3], 3, replace=False)):
            rows.append({"user_id": f"u{session % 50}", "item_id": str(item), "event_type": "purchase",
                         "ts": start + timedelta(hours=int(session) * 5, minutes=n),
                         "session_id": f"s{session}"})
    pl.DataFrame(rows).write_parquet(directory / "events.parquet")
    pl.DataFrame({"item_id": items, "title": [f"shop thing {i}" for i in range(12)],
                  "category": [f"c{i // 3}" for i in range(12)]}).write_parquet(directory / "items.parquet")
    return directory / "events.parquet", directory / "items.parquet"


def _graph_name(config: Path, cwd: Path) -> str:
    shown = kgrec("config", "show", "--json", "-c", str(config), cwd=cwd)
    assert shown.returncode == 0, shown.stderr
    return str(json.loads(shown.stdout)["graph"]["graph_name"])


def _run(config: Path, cwd: Path) -> tuple[Path, str]:
    result = kgrec("run", "-c", str(config), cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir_of(result, cwd / "runs"), result.stderr


@pytest.fixture
def llm() -> Iterator[ChatServer]:
    server = ChatServer(lambda body, n: Reply(answer_for(body)))
    yield server
    server.close()


def test_a_second_dataset_gets_a_graph_of_its_own_and_a_named_shared_graph_is_refused(
        synthetic_run: SharedRun, llm: ChatServer) -> None:
    tmp_path, synthetic, first, log = (synthetic_run.root, synthetic_run.config, synthetic_run.run_dir,
                                       synthetic_run.log)
    # the log: a start and an end line per stage, Ray's own chatter left out
    for stage in STAGES:
        assert f"INFO {stage}: started" in log and f"INFO {stage}: done in " in log, stage
    assert "logging_progress" not in log and "Tasks: " not in log
    assert "Token authentication is enabled" not in log and "token authentication on" in log

    events, items = _shop(tmp_path / "shop")
    files = _small(tmp_path, llm.base_url, run={"source": "files"},
                   ingest={"format": "parquet", "events_path": str(events), "items_path": str(items)})
    names = _graph_name(synthetic, tmp_path), _graph_name(files, tmp_path)
    assert names[0].startswith("synth-seed7-") and names[1].startswith("parquet-events-") and len(set(names)) == 2
    second, _ = _run(files, tmp_path)

    before = pl.read_parquet(first / "snapshot" / "items.parquet")["id"].to_list()
    after = pl.read_parquet(second / "snapshot" / "items.parquet")["id"].to_list()
    relations = pl.read_parquet(second / "snapshot" / "relations.parquet")
    earlier = pl.read_parquet(first / "snapshot" / "relations.parquet")
    assert before and all(i.startswith("P") for i in before)
    assert after and all(i.startswith("shop-") for i in after)
    assert relations.height and set(relations["head"]) <= set(after)
    items_related = relations.filter(pl.col("type").is_in(["CO_PURCHASED", "COMPLEMENTS", "SUBSTITUTES",
                                                           "VARIANT_OF"]))
    assert items_related.height and set(items_related["tail"]) <= set(after)
    assert earlier.height and not set(earlier["id"]) & set(relations["id"])
    report = (second / "report.md").read_text()
    assert f"graph '{names[1]}', holding parquet files {events} with items {items}" in report

    # the second dataset into the first's graph, named: refused before any work
    shared = _small(tmp_path, llm.base_url, run={"source": "files"}, graph={"graph_name": names[0]},
                    ingest={"format": "parquet", "events_path": str(events), "items_path": str(items)})
    refused = kgrec("run", "-c", str(shared), cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    message = refused.stderr[refused.stderr.rindex("error:"):]
    assert f"graph '{names[0]}': holds synthetic data (seed 7" in message and "--clear-graph" in message
    assert "ray: started" not in refused.stderr

    # curation finds each run's graph: by the same config, or by name from `graph status`
    env = {"KGREC_GRAPH__STATE_DIR": str(tmp_path / "falkordb"), "COLUMNS": "200"}
    assert kgrec("graph", "start", cwd=tmp_path, env=env).returncode == 0
    try:
        status = kgrec("graph", "status", "-c", str(synthetic), cwd=tmp_path)
        assert status.returncode == 0, status.stderr
        listed = status.stdout.splitlines()
        assert any(line.startswith(f"* {names[0]}: synthetic data") for line in listed)
        assert any(line.startswith(f"  {names[1]}: parquet files") for line in listed)
        queue = kgrec("curate", "list", "--graph", names[1], "--limit", "50", cwd=tmp_path, env=env)
        assert queue.returncode == 0 and "shop thing" in queue.stderr and "P0" not in queue.stderr
    finally:
        kgrec("graph", "stop", cwd=tmp_path, env=env)
