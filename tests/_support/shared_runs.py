"""Runs of `kgrec run` that several end-to-end tests share (their fixtures: tests/e2e/conftest.py).

A full run costs about a minute here. Tests that only read what a run wrote share one; tests
that change its graph (curators' decisions) get a copy of the graph's data, so each starts from
the graph the run left and none sees another's decisions.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests._support.chat_server import ChatServer, Reply, answer_for
from tests._support.cli import kgrec, run_dir_of


@dataclass(frozen=True)
class SharedRun:
    """A finished `kgrec run`: its working directory, config, run directory and log."""

    root: Path  # the run's working directory: runs/, falkordb/, llm_cache/, text_cache/
    config: Path
    run_dir: Path
    log: str  # the command's stderr


def _run(root: Path, config: Path) -> SharedRun:
    result = kgrec("run", "--config", str(config), cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    return SharedRun(root, config, run_dir_of(result, root / "runs"), result.stderr)


def run_synthetic(root: Path) -> SharedRun:
    """Every stage, the CTR evaluation too, with the local LLM. `test_cli` checks its outputs,
    `test_graph_per_dataset` its log, and loads a second dataset beside its graph (in
    `root/falkordb`), which changes nothing the others read."""
    config = root / "small.yaml"
    config.write_text(yaml.safe_dump({
        "ray": {"num_cpus": 2, "object_store_memory_mb": 500, "progress_bars": False},
        "run": {"runs_dir": str(root / "runs")},
        "graph": {"state_dir": str(root / "falkordb")},
        "synth": {"events": 20_000, "corrupt_fraction": 0.01},
        "candidates": {"llm_budget": 50},
        "extract": {"max_pairs": 4, "max_items": 1, "max_type_pairs": 1,
                    "cache_dir": str(root / "llm_cache")},
        "gnn": {"max_events": 4000, "text_cache_dir": str(root / "text_cache")},
        "ctr": {"max_baskets": 500, "epochs": 1},
    }))
    return _run(root, config)


def scripted_config(root: Path, llm_url: str, **sections: dict[str, Any]) -> Path:
    """The curation tests' config: the scripted LLM at `llm_url`, every path under `root`;
    `sections` are merged over it. The dataset (and so the graph's name) is the same for any root."""
    config: dict[str, dict[str, Any]] = {
        "ray": {"num_cpus": 2, "object_store_memory_mb": 500, "progress_bars": False},
        "run": {"runs_dir": str(root / "runs"), "ctr": False},
        "graph": {"state_dir": str(root / "falkordb")},
        "synth": {"events": 20_000, "seed": 11},
        "candidates": {"llm_budget": 120},
        "extract": {"backend": "openai", "base_url": llm_url, "model": "scripted", "tasks": ["pair"],
                    "max_pairs": 120, "cache_dir": str(root / "llm_cache"), "retry_backoff_s": 0.01},
        "refine": {"critic_dir": str(root / "critics"), "min_labels": 3},
        "gnn": {"max_events": 2000, "epochs": 1, "text_cache_dir": str(root / "text_cache")},
    }
    for name, values in sections.items():
        config[name] = {**config.get(name, {}), **values}
    path = root / "kgrec.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_scripted(root: Path) -> SharedRun:
    """The curation tests' run: its LLM calls every pair a complement (as the small local model
    nearly does). The graph is stopped after it, its data on disk for `copy_of`."""
    llm = ChatServer(lambda body, n: Reply(answer_for(body)))
    config = scripted_config(root, llm.base_url)
    started = kgrec("graph", "start", "--config", str(config), cwd=root)
    assert started.returncode == 0, started.stderr
    try:
        return _run(root, config)
    finally:
        llm.close()
        kgrec("graph", "stop", "--config", str(config), cwd=root)


def copy_of(run: SharedRun, root: Path) -> None:
    """Give `root` (a `scripted_config` root) the run's graph data and answer and text caches."""
    for name in ("falkordb/data", "llm_cache", "text_cache"):
        if (run.root / name).exists():
            shutil.copytree(run.root / name, root / name)
