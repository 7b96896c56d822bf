"""The curation loop: `kgrec run` (the e2e tests' shared scripted run, on a copy of its graph),
curators decide, `curate export` trains a critic, the next refine uses it.

The LLM is a scripted OpenAI-compatible server that calls every pair a complement (as the small
local model nearly does); the curator's decisions come from the synthetic ground truth, i.e. the
labels are the truth the generator built into the data. What is checked is the machinery: the
critic trained from the export decides the next refine's relations, curated relations keep their
status and come through untouched, and the review queue is reordered by the critic's uncertainty.
The next refine is the stage command over the first run's outputs, then `graph load`: the stages
before it would recompute what the first run wrote (its answers come from the cache), and a whole
`kgrec run` took about 50 s more here (106 s against 57 s for the test).
"""

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from kg.config import GraphSection
from kg.factory import make_store
from kg.schema import CurationStatus
from pipelines.config import Settings, load_settings
from pipelines.manifest import RunDirectory
from pipelines.report import StageReport
from pipelines.summary import render
from tests._support.chat_server import ChatServer, Reply, answer_for
from tests._support.cli import kgrec
from tests._support.shared_runs import SharedRun, copy_of, scripted_config

KNOWLEDGE = ("COMPLEMENTS", "SUBSTITUTES", "VARIANT_OF")


@pytest.fixture
def llm() -> Iterator[ChatServer]:
    server = ChatServer(lambda body, n: Reply(answer_for(body)))
    yield server
    server.close()


def _queue(graph: GraphSection) -> list[dict[str, object]]:
    with make_store(graph) as store:
        return [r for r in store.review_queue(CurationStatus.PROPOSED, 10_000) if r["type"] in KNOWLEDGE]


def _truth(run_dir: Path) -> set[tuple[str, str, str]]:
    """(a, b, relation type) of the generator's item-item truth, unordered."""
    truth = pl.read_parquet(run_dir / "synth" / "ground_truth.parquet").filter(pl.col("tail_kind") == "item")
    types = {"complement": "COMPLEMENTS", "substitute": "SUBSTITUTES", "variant_of": "VARIANT_OF"}
    return {(min(h, t), max(h, t), types[r]) for h, r, t in truth.select("head", "relation", "tail").iter_rows()
            if r in types}


def _curate(queue: list[dict[str, object]], truth: set[tuple[str, str, str]], cwd: Path, config: Path) -> None:
    """Accept what the truth holds, reject the rest."""
    def true(r: dict[str, object]) -> bool:
        head, tail = str(r["head"]), str(r["tail"])
        return (min(head, tail), max(head, tail), str(r["type"])) in truth

    for verb, ids in (("accept", [str(r["id"]) for r in queue if true(r)]),
                      ("reject", [str(r["id"]) for r in queue if not true(r)])):
        assert len(ids) >= 3, f"too few to {verb}"
        done = kgrec("curate", verb, *ids, "--by", "tester", "--config", str(config), cwd=cwd)
        assert done.returncode == 0, done.stderr[-2000:]


def _rendered(refine: StageReport, directory: Path) -> str:
    """The run report's text for a run whose refine stage reported `refine`."""
    run = RunDirectory(directory, Settings(), run_id="r2")
    run.record(refine)
    return render(run)


def test_a_critic_trained_from_curated_labels_decides_the_next_refine_and_reorders_the_queue(
        tmp_path: Path, llm: ChatServer, scripted_run: SharedRun) -> None:
    config = scripted_config(tmp_path, llm.base_url)
    copy_of(scripted_run, tmp_path)  # the first run's graph and answers, this test's to change
    graph = load_settings(config).graph  # the dataset's own graph, as every command with the config finds it
    started = kgrec("graph", "start", "--config", str(config), cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    try:
        run1 = scripted_run.run_dir
        before = _queue(graph)
        assert all(r["critic_score"] is None for r in before)  # no critic yet: by support alone
        assert [r["support"] for r in before] == sorted((r["support"] for r in before), reverse=True)
        labelled = before[::2]  # every other relation: the rest is left for the critic to decide
        _curate(labelled, _truth(run1), tmp_path, config)
        curated = {str(r["id"]) for r in labelled}

        labels = tmp_path / "labels.csv"
        exported = kgrec("curate", "export", "--out", str(labels), "--config", str(config), cwd=tmp_path)
        assert exported.returncode == 0, exported.stderr
        trained = kgrec("refine", "train-critic", "--labels", str(labels), "--ingest", str(run1 / "ingest"),
                        "--candidates", str(run1 / "candidates"), "--extract", str(run1 / "extract"),
                        "--config", str(config), cwd=tmp_path)
        assert trained.returncode == 0, trained.stderr[-3000:]
        assert "complement:" in trained.stderr and "precision" in trained.stderr, trained.stderr

        refined = tmp_path / "refined"  # the critic is the newest under refine.critic_dir, as a run finds it
        second = kgrec("refine", "--ingest", str(run1 / "ingest"), "--candidates", str(run1 / "candidates"),
                       "--extract", str(run1 / "extract"), "--out", str(refined), "--config", str(config),
                       cwd=tmp_path)
        assert second.returncode == 0, second.stderr[-3000:]
        refine = StageReport.model_validate_json((refined / "_SUCCESS.json").read_text())
        assert str(refine.details["critic"]).startswith("critic-")
        assert refine.details["kept_by_curator"] == len(curated)  # every curated relation came through
        relations = pl.read_parquet(refined / "relations").filter(pl.col("type").is_in(KNOWLEDGE))
        by_critic = relations.filter(pl.col("decided_by") == refine.details["critic"])
        assert by_critic.height > 0 and by_critic["critic_score"].is_not_null().all()
        assert (by_critic["critic_score"] >= by_critic["decision_threshold"]).all()
        assert f"- critic: {refine.details['critic']}; kept by the critic {by_critic.height}" in _rendered(
            refine, tmp_path / "report")
        assert "queued pairs walked" in (run1 / "report.md").read_text()
        dropped = pl.read_parquet(refined / "dropped")
        assert dropped.height == refine.details["dropped_by_critic"]
        loaded = kgrec("graph", "load", "--in", str(refined), "--config", str(config), cwd=tmp_path)
        assert loaded.returncode == 0, loaded.stderr[-3000:]

        with make_store(graph) as store:  # the curators' decisions stand
            statuses = {r["id"]: r["status"] for page in store.pages(
                "MATCH ()-[r]->() WHERE r.id > $after RETURN r.id AS id, r.status AS status ORDER BY r.id "
                "LIMIT $limit", {}) for r in page}
        assert all(statuses[i] in ("accepted", "rejected") for i in curated)
        after = _queue(graph)
        scored = [r for r in after if r["critic_score"] is not None]
        assert scored, "the new run's proposals carry critic scores"
        priority = [(1 - abs(2 * float(r["critic_score"]) - 1)) * int(r["support"]) for r in scored]
        assert priority == sorted(priority, reverse=True)
        assert [r["id"] for r in after[:len(scored)]] == [r["id"] for r in scored]  # scored ones first
    finally:
        kgrec("graph", "stop", "--config", str(config), cwd=tmp_path)
