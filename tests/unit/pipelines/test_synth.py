"""The synthetic generator: exact sizes, determinism, and the structure it promises."""

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipelines.config import SynthSection
from pipelines.synth.job import generate


def _events(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "events")


def test_exact_count_and_byte_identical_reruns(tmp_path: Path) -> None:
    settings = SynthSection(events=12_345, seed=3, chunk_events=5_000)
    first = generate(settings, tmp_path / "a")
    generate(settings, tmp_path / "b")
    assert first.events == 12_345 == _events(tmp_path / "a").height
    assert sorted(p.name for p in (tmp_path / "a" / "events").iterdir()) == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    for name in ("events/part-00002.parquet", "items.parquet", "ground_truth.parquet"):
        assert pq.read_table(tmp_path / "a" / name).equals(pq.read_table(tmp_path / "b" / name))
    other = generate(SynthSection(events=12_345, seed=4, chunk_events=5_000), tmp_path / "c")
    assert not _events(tmp_path / "c").equals(_events(tmp_path / "a"))
    assert other.items == first.items


def test_rerun_into_same_dir_removes_stale_parts(tmp_path: Path) -> None:
    generate(SynthSection(events=3_000, chunk_events=1_000), tmp_path)
    generate(SynthSection(events=1_500, chunk_events=1_000), tmp_path)
    assert _events(tmp_path).height == 1_500


def test_ground_truth_covers_every_relation_kind(tmp_path: Path) -> None:
    out = generate(SynthSection(events=1_000, lines_per_type=3, variants_per_line=2), tmp_path)
    truth = pl.read_parquet(out.ground_truth_path)
    kinds = dict(truth.group_by("relation").len().iter_rows())
    assert set(kinds) == {"complement", "substitute", "variant_of", "used_for", "used_by", "used_in",
                          "capable_of", "is_a"}
    assert kinds["variant_of"] == out.items // 2  # one pair per 2-variant line
    items = pl.read_parquet(out.items_path)
    tent = items.filter(pl.col("item_id") == "P000000").row(0, named=True)
    assert "Dome Tent" in tent["title"] and tent["category"] == "Outdoors > Camping"
    used_for = truth.filter((pl.col("head") == "P000000") & (pl.col("relation") == "used_for"))
    assert used_for["tail"].to_list() == ["camping"]


def test_variants_substitutes_and_complements_all_co_occur(tmp_path: Path) -> None:
    """Co-occurrence cannot separate the relation kinds: every kind shows up in sessions."""
    out = generate(SynthSection(events=50_000), tmp_path)
    events = _events(tmp_path).select("session_id", "item_id").unique()
    pairs = events.join(events, on="session_id").filter(pl.col("item_id") < pl.col("item_id_right"))
    truth = pl.read_parquet(out.ground_truth_path).filter(pl.col("tail_kind") == "item")
    seen = pairs.join(truth, left_on=["item_id", "item_id_right"], right_on=["head", "tail"])
    counts = dict(seen.group_by("relation").len().iter_rows())
    assert all(counts.get(kind, 0) > 500 for kind in ("complement", "substitute", "variant_of")), counts


def test_corruption_breaks_about_the_asked_share(tmp_path: Path) -> None:
    generate(SynthSection(events=100_000, corrupt_fraction=0.01), tmp_path)
    events = _events(tmp_path)
    broken = events.filter(
        pl.col("user_id").is_null() | pl.col("item_id").is_null() | pl.col("ts").is_null()
        | (pl.col("item_id") == "UNKNOWN-ITEM") | (pl.col("event_type") == "teleport")
    ).height
    assert 800 < broken < 1200
