"""Tests that need an LLM server over HTTP: llama.cpp with SmolLM2 for real, or the scripted chat server.

Also a small synthetic log, ingested and mined once per session, for the extraction tests.
"""

from pathlib import Path

import pytest

from pipelines.candidates.job import run_candidates
from pipelines.config import CandidatesSection, IngestSection, SynthSection
from pipelines.ingest.job import run_ingest
from pipelines.synth.job import generate
from tests._support.markers import mark_directory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "llm")


@pytest.fixture(scope="session")
def mined(tmp_path_factory: pytest.TempPathFactory, ray_cluster: None) -> Path:
    """A run-like directory with raw/ (and ground truth), ingest/ and candidates/."""
    root = tmp_path_factory.mktemp("mined")
    synth = generate(SynthSection(events=20_000, seed=5), root / "raw")
    run_ingest(IngestSection(format="parquet", events_path=str(synth.events_dir),
                             items_path=str(synth.items_path)), root / "ingest")
    run_candidates(CandidatesSection(llm_budget=200), root / "ingest", root / "candidates")
    return root
