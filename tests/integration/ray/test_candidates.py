"""Candidate mining on a real local Ray cluster, checked against the single-process reference."""

from pathlib import Path

import polars as pl
import pytest

from kg.errors import StageOutputError
from pipelines.candidates.job import run_candidates
from pipelines.candidates.mining import mine_locally
from pipelines.config import CandidatesSection, IngestSection, SynthSection
from pipelines.ingest.job import run_ingest
from pipelines.synth.job import generate
from tests._support.data import shared_data

pytestmark = pytest.mark.usefixtures("ray_cluster")


@pytest.fixture(scope="module")
def synth_ingest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    synth = generate(SynthSection(events=40_000, seed=11), root / "raw")
    run_ingest(IngestSection(format="parquet", events_path=str(synth.events_dir),
                             items_path=str(synth.items_path)), root / "ingest")
    return root


@pytest.mark.parametrize("basket_by", ["session", "user_window"])
def test_ray_plan_equals_single_process_reference(synth_ingest: Path, basket_by: str) -> None:
    # Several partitions per shuffle, so baskets, items and queries really are spread out.
    config = CandidatesSection(basket_by=basket_by, window_seconds=3_600, shuffle_partitions=5,
                               top_k_per_item=5, llm_budget=300, max_basket_items=4)
    out = synth_ingest / f"candidates-{basket_by}"
    report = run_candidates(config, synth_ingest / "ingest", out)
    reference = mine_locally(pl.read_parquet(synth_ingest / "ingest" / "events"), config)
    for table, expected in (("pairs", reference.pairs), ("llm_queue", reference.llm_queue),
                            ("query_items", reference.query_items)):
        mined = pl.read_parquet(out / table)
        keys = ["query", "item_id"] if table == "query_items" else ["item_a", "item_b"]
        assert mined.sort(keys).equals(pl.from_arrow(expected).sort(keys)), table
        assert report.rows[table] == mined.height
    assert report.rows["llm_queue"] == 300
    assert report.details["baskets"] == reference.n_baskets
    assert report.details["capped_baskets"] == reference.capped_baskets > 0


def test_rerun_rewrites_outputs_without_duplicates(synth_ingest: Path) -> None:
    config = CandidatesSection(shuffle_partitions=3)
    out = synth_ingest / "rerun"
    first = run_candidates(config, synth_ingest / "ingest", out)
    second = run_candidates(config, synth_ingest / "ingest", out)
    assert first.rows == second.rows
    assert pl.read_parquet(out / "pairs").height == first.rows["pairs"]


def test_synthetic_structure_shows_in_mined_pairs(synth_ingest: Path) -> None:
    """Known complements, variants and substitutes all surface, with lift well above 1."""
    out = synth_ingest / "structure"
    run_candidates(CandidatesSection(), synth_ingest / "ingest", out)
    pairs = pl.read_parquet(out / "pairs")
    truth = pl.read_parquet(synth_ingest / "raw" / "ground_truth.parquet").filter(
        pl.col("tail_kind") == "item")
    found = pairs.join(truth, left_on=["item_a", "item_b"], right_on=["head", "tail"], how="left")
    by_kind = found.group_by("relation").agg(pl.len(), pl.col("lift").median()).sort("relation")
    kinds = {r["relation"]: r for r in by_kind.iter_rows(named=True)}
    for kind in ("complement", "substitute", "variant_of"):
        assert kinds[kind]["len"] > 50 and kinds[kind]["lift"] > 2, kinds
    # Unrelated pairs (noise) exist but are a minority of what is kept.
    assert kinds[None]["len"] < pairs.height / 2


def test_needs_a_finished_ingest(tmp_path: Path) -> None:
    (tmp_path / "ingest" / "events").mkdir(parents=True)
    with pytest.raises(StageOutputError, match="incomplete"):
        run_candidates(CandidatesSection(), tmp_path / "ingest", tmp_path / "out")


@pytest.mark.shared_data
def test_online_retail_complements_beside_variants(tmp_path: Path) -> None:
    """Looked at by hand: the highest-lift pairs are colour variants; complements sit beside them."""
    source = shared_data("online_retail/online_retail.parquet")
    run_ingest(IngestSection(format="online-retail", events_path=str(source)), tmp_path / "ingest")
    run_candidates(CandidatesSection(min_pair_count=3), tmp_path / "ingest", tmp_path / "cand")
    pairs = pl.read_parquet(tmp_path / "cand" / "pairs")
    queue = pl.read_parquet(tmp_path / "cand" / "llm_queue")

    def pair(a: str, b: str) -> dict[str, object]:
        rows = pairs.filter((pl.col("item_a") == a) & (pl.col("item_b") == b))
        assert rows.height == 1, f"pair {a}-{b} was not mined"
        return rows.row(0, named=True)

    # Paper cups and paper plates of one design: each is the other's best partner.
    for cups, plates in (("21086", "21094"), ("21088", "21096"), ("21084", "21090")):
        row = pair(cups, plates)
        assert (row["rank_a"], row["rank_b"]) == (1, 1) and row["n_ab"] >= 50
    # Bicycle clips and a puncture repair kit; disposable wooden cutlery and wooden plates.
    assert pair("23498", "23552")["rank_a"] == 1
    assert pair("23124", "23125")["lift"] > 300
    # The top of the lift ranking (well-supported pairs) is colour variants of one mug.
    top = pairs.filter(pl.col("n_ab") >= 10).sort("lift", descending=True).head(5)
    assert {"37489A", "37489B", "37489D"} <= set(top["item_a"]) | set(top["item_b"])
    # The score spends the LLM budget on well-supported complements early.
    queued = {(r["item_a"], r["item_b"]): r["llm_rank"] for r in queue.iter_rows(named=True)}
    assert queued[("21086", "21094")] <= 100 and queued[("23498", "23552")] <= 200
