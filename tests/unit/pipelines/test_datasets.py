"""One graph per dataset: the name a config's graph gets, and what makes two datasets one."""

import os
from pathlib import Path

import pytest

from pipelines.config import IngestSection, SynthSection, load_settings
from pipelines.datasets import dataset_of


def test_the_synthetic_catalog_decides_the_dataset_not_the_number_of_events() -> None:
    default = dataset_of("synth", SynthSection(), IngestSection())
    assert default.key == "synth-seed7-5c47ff54"  # stable across runs, machines and releases
    assert dataset_of("synth", SynthSection(events=1000, days=3), IngestSection()) == default
    assert dataset_of("synth", SynthSection(seed=8), IngestSection()).key.startswith("synth-seed8-")
    assert dataset_of("synth", SynthSection(lines_per_type=5), IngestSection()).key != default.key
    assert default.description == "synthetic data (seed 7; 4 product lines x 3 variants per type)"


def test_files_are_the_same_dataset_from_any_working_directory(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shop").mkdir()
    absolute = dataset_of("files", SynthSection(), IngestSection(format="online-retail",
                                                                 events_path=str(tmp_path / "shop" / "x.parquet")))
    monkeypatch.chdir(tmp_path / "shop")
    relative = dataset_of("files", SynthSection(), IngestSection(format="online-retail", events_path="x.parquet"))
    assert relative == absolute and absolute.key.startswith("online-retail-x-")
    other = dataset_of("files", SynthSection(), IngestSection(format="parquet", events_path="x.parquet"))
    assert other.key != absolute.key  # another reading of the same file: another dataset
    uri = dataset_of("files", SynthSection(), IngestSection(events_path="s3://bucket/Events 2026/"))
    assert uri.key.startswith("files-events-2026-") and "s3://bucket/Events 2026" in uri.description


def test_settings_name_the_graph_after_the_dataset_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("KGREC_")]:
        monkeypatch.delenv(key)
    assert load_settings().graph.graph_name == "synth-seed7-5c47ff54"
    named = load_settings(overrides={"graph": {"graph_name": "shared"}})
    assert named.graph.graph_name == "shared" and named.dataset.key == "synth-seed7-5c47ff54"
    files = load_settings(overrides={"run": {"source": "files"}, "ingest": {"events_path": "s3://b/e"}})
    assert files.graph.graph_name == files.dataset.key and files.graph.graph_name.startswith("files-e-")
