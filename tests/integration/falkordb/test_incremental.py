"""An incremental run equals a full run: base + a few new days of events against all of them at once.

Real local Ray (ingest, candidates), real FalkorDB (graph load). The mined statistics must be
identical; the graph's relations identical in support, first/last seen, confidence and lift (their
`evidence_ids` list the batches that brought the evidence, so they differ by design).
"""

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from kg.backends.falkordb.store import FalkorDBStore
from kg.errors import InputDataError, StageOutputError
from kg.load import RetryPolicy, load_directory
from pipelines.candidates.job import run_candidates
from pipelines.candidates.mining import mine_locally
from pipelines.candidates.periods import label_for, read_periods
from pipelines.config import CandidatesSection, IngestSection, SynthSection
from pipelines.ingest.job import run_ingest
from pipelines.outputs import begin_stage, mark_complete, write_table
from pipelines.refine.config import RefineSection
from pipelines.refine.job import RefineContext, RefineInputs, run_refine
from pipelines.steps.refine import text_embedder
from pipelines.synth.job import generate

pytestmark = pytest.mark.usefixtures("ray_cluster")

# Day baskets and a midnight `since`: no basket spans it (pipelines.candidates.periods).
CONFIG = CandidatesSection(basket_by="user_window", window_seconds=86_400, shuffle_partitions=3,
                           min_pair_count=1, top_k_per_item=10_000, llm_budget=200)
RELATIONS = """MATCH (h:Item)-[r]->(t) WHERE r.id > $after RETURN r.id AS id, type(r) AS type, h.id AS head,
r.support AS support, r.first_seen AS first_seen, r.last_seen AS last_seen, r.confidence AS confidence,
r.lift AS lift ORDER BY id LIMIT $limit"""
POLICY = RetryPolicy(max_retries=1, backoff_s=0.01)


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    """Ingest outputs of all events, of those before `since`, and of those after (an increment)."""
    root = tmp_path_factory.mktemp("incremental")
    synth = generate(SynthSection(events=12_000, seed=5), root / "raw")
    events = pl.read_parquet(synth.events_dir)
    last = events["ts"].max()
    assert isinstance(last, datetime)
    since = (last - timedelta(days=4)).replace(hour=0, minute=0, second=0, microsecond=0)
    (root / "raw_base").mkdir()
    events.filter(pl.col("ts") < since).write_parquet(root / "raw_base" / "part-0.parquet")
    for name, path, start in (("full", synth.events_dir, None), ("base", root / "raw_base", None),
                              ("increment", synth.events_dir, since)):
        run_ingest(IngestSection(format="parquet", events_path=str(path), items_path=str(synth.items_path)),
                   root / f"ingest_{name}", since=start)
    return root, since


def split_since(root: Path) -> datetime:
    return datetime.fromisoformat((root / "since.txt").read_text())


@pytest.fixture(scope="module")
def candidates(split: tuple[Path, datetime]) -> Path:
    """Base and increment on Ray; the full run as the single-process reference (equal to Ray's:
    tests/integration/ray/test_candidates.py), written as a candidates output for refine."""
    root, since = split
    (root / "since.txt").write_text(since.isoformat())
    reference = mine_locally(pl.read_parquet(root / "ingest_full" / "events"), CONFIG)
    begin_stage(root / "cand_full", "candidates")
    for name in ("pairs", "llm_queue", "query_items"):
        write_table(getattr(reference, name), root / "cand_full" / name)
    mark_complete(root / "cand_full", {})
    run_candidates(CONFIG, root / "ingest_base", root / "cand_base")
    run_candidates(CONFIG, root / "ingest_increment", root / "cand_increment", since, root / "cand_base")
    return root


def test_increment_ingests_only_new_events(split: tuple[Path, datetime]) -> None:
    root, since = split
    increment = pl.read_parquet(root / "ingest_increment" / "events")
    full = pl.read_parquet(root / "ingest_full" / "events")
    assert 0 < increment.height < full.height / 5
    keys = list(full.columns)
    assert increment.sort(keys).equals(full.filter(pl.col("ts") >= since).sort(keys))


def test_base_plus_increment_mines_the_full_statistics(candidates: Path) -> None:
    for table, keys in (("pairs", ["item_a", "item_b"]), ("llm_queue", ["item_a", "item_b"]),
                        ("query_items", ["query", "item_id"])):
        merged = pl.read_parquet(candidates / "cand_increment" / table).sort(keys)
        full = pl.read_parquet(candidates / "cand_full" / table).sort(keys)
        assert merged.height > 0
        assert merged.equals(full), table
    labels = {p.name for p in (candidates / "cand_increment" / "counts" / "pairs").iterdir()}
    assert labels == {"period=base", f"period={label_for(split_since(candidates))}"}
    held = read_periods(candidates / "cand_increment")
    assert held.buckets == read_periods(candidates / "cand_base").buckets and held.buckets is not None
    for kind in ("pairs", "queries"):  # every period's counts lie in the output's buckets
        for period in (candidates / "cand_increment" / "counts" / kind).iterdir():
            seen = {int(b.name.split("=")[1]) for b in period.iterdir()}
            assert seen and seen <= set(range(held.buckets)), (kind, period.name)


def test_an_increment_refuses_counts_that_are_not_bucketed(candidates: Path, split: tuple[Path, datetime]) -> None:
    root, since = split
    old = root / "cand_unbucketed"
    shutil.copytree(root / "cand_base", old)
    held = read_periods(old)
    (old / "counts" / "periods.json").write_text(held.model_copy(update={"buckets": None}).model_dump_json())
    with pytest.raises(StageOutputError, match="not bucketed.*full `kgrec candidates`"):
        run_candidates(CONFIG, root / "ingest_increment", root / "cand_refused", since, old)


def test_an_increment_adds_to_a_base_of_no_events(split: tuple[Path, datetime]) -> None:
    """A full run over no events still chooses the buckets, so the first increment adds to it."""
    root, since = split
    begin_stage(root / "ingest_empty", "ingest")
    (root / "ingest_empty" / "events").mkdir()
    mark_complete(root / "ingest_empty", {})
    run_candidates(CONFIG, root / "ingest_empty", root / "cand_empty")
    assert read_periods(root / "cand_empty").buckets is not None
    run_candidates(CONFIG, root / "ingest_increment", root / "cand_after_empty", since, root / "cand_empty")
    reference = mine_locally(pl.read_parquet(root / "ingest_increment" / "events"), CONFIG)
    keys = ["item_a", "item_b"]
    mined = pl.read_parquet(root / "cand_after_empty" / "pairs").sort(keys)
    assert mined.height > 0
    assert mined.equals(pl.DataFrame(reference.pairs).sort(keys))


def test_an_increment_refuses_a_since_already_counted(candidates: Path, split: tuple[Path, datetime]) -> None:
    root, since = split
    with pytest.raises(InputDataError, match="counted twice"):
        run_candidates(CONFIG, root / "ingest_increment", root / "cand_again", since,
                       root / "cand_increment")


def _refine(root: Path, ingest: str, cand: str, out: str, previous: str | None = None) -> dict[str, int]:
    context = RefineContext(critic=None, curated=set(), rejected=set(), concepts=pl.DataFrame(), similarity=None,
                            embed=text_embedder(root / "text_cache"))
    inputs = RefineInputs(root / ingest, root / cand, None, root / previous if previous else None)
    return run_refine(RefineSection(), inputs, root / out, out, context).rows


def _graph(url: str, name: str, inputs: list[Path]) -> pl.DataFrame:
    with FalkorDBStore(url, name) as store:
        store.clear()
        for directory in inputs:
            load_directory(store, directory, 500, POLICY)
        return pl.DataFrame([row for page in store.pages(RELATIONS, {}) for row in page], orient="row")


def test_base_plus_increment_loads_the_full_graph(candidates: Path, falkordb_url: str) -> None:
    root = candidates
    _refine(root, "ingest_full", "cand_full", "refine_full")
    _refine(root, "ingest_base", "cand_base", "refine_base")
    sent = _refine(root, "ingest_increment", "cand_increment", "refine_increment", "refine_base")
    full = _graph(falkordb_url, "incr-full", [root / "refine_full"])
    incremental = _graph(falkordb_url, "incr-steps", [root / "refine_base", root / "refine_increment"])
    assert full.height > 0
    assert incremental.equals(full)
    assert sent["relations_sent"] + sent["relations_unchanged"] == full.height
    # The same increment refined again against itself: nothing changed, nothing is sent.
    again = _refine(root, "ingest_increment", "cand_increment", "refine_again", "refine_increment")
    assert again["relations_sent"] == 0 and again["relations_unchanged"] == full.height
