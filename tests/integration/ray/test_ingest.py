"""Ingest on a real local Ray cluster: counts add up, bad input is quarantined, re-runs are safe."""

import gzip
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from kg.errors import InputDataError, NoValidRows
from pipelines.config import IngestSection, SynthSection
from pipelines.ingest.job import run_ingest
from pipelines.outputs import MARKER
from pipelines.synth.job import generate
from tests._support.data import shared_data

pytestmark = pytest.mark.usefixtures("ray_cluster")


def _quarantine(out: Path, table: str) -> pl.DataFrame:
    path = out / "quarantine" / table
    return pl.read_parquet(path) if any(path.glob("*.parquet")) else pl.DataFrame()


def test_synthetic_log_every_row_lands_once_and_rerun_is_identical(tmp_path: Path) -> None:
    synth = generate(SynthSection(events=20_000, corrupt_fraction=0.02), tmp_path / "raw")
    settings = IngestSection(format="parquet", events_path=str(synth.events_dir),
                             items_path=str(synth.items_path))
    out = tmp_path / "ingest"
    report = run_ingest(settings, out)
    assert report.rows["events"] + report.rows["quarantined_events"] == 20_000
    assert report.rows["items"] == synth.items and report.rows["quarantined_items"] == 0
    reasons = report.bad_rows
    assert set(reasons) == {"events: missing user_id", "events: missing item_id", "events: missing ts",
                            "events: unknown item_id", "events: unknown event_type"}
    assert sum(reasons.values()) == report.rows["quarantined_events"]
    quarantined = _quarantine(out, "events")
    unknown = quarantined.filter(pl.col("reason") == "unknown item_id 'UNKNOWN-ITEM'")
    assert unknown.height == reasons["events: unknown item_id"]
    assert '"item_id":"UNKNOWN-ITEM"' in unknown["raw"][0]
    assert (out / MARKER).exists()
    events = pl.read_parquet(out / "events")
    assert events.null_count().select("user_id", "item_id", "ts").sum_horizontal().item() == 0

    again = run_ingest(settings, out)
    assert again.rows == report.rows
    assert pl.read_parquet(out / "events").sort("session_id", "ts", "item_id").equals(
        events.sort("session_id", "ts", "item_id"))


def test_a_broken_file_does_not_stop_the_others(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.csv").write_text("user_id,item_id,event_type,ts\nu1,i1,view,2026-01-01T00:00:00Z\n"
                               "u2,i2,view,2026-01-01T00:01:00Z,surplus\n")
    with gzip.open(raw / "b.jsonl.gz", "wt") as f:
        f.write(json.dumps({"user_id": "u3", "item_id": "i3", "event_type": "purchase", "ts": 1767225600})
                + "\n{broken\n")
    (raw / "c.parquet").write_bytes(b"not parquet at all")
    out = tmp_path / "out"
    report = run_ingest(IngestSection(events_path=str(raw)), out)
    assert report.rows["events"] == 2
    assert report.rows["quarantined_events"] == 3
    quarantined = _quarantine(out, "events").sort("source")
    assert quarantined["source"].to_list() == [str(raw / "a.csv"), str(raw / "b.jsonl.gz"),
                                               str(raw / "c.parquet")]
    assert quarantined["reason"][2].startswith("unreadable parquet file")
    assert quarantined["row_number"].to_list() == [1, 1, None]


def test_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="no such file"):
        run_ingest(IngestSection(events_path=str(tmp_path / "none")), tmp_path / "out")


@pytest.mark.shared_data
def test_online_retail_lines_are_all_accounted_for(tmp_path: Path) -> None:
    source = shared_data("online_retail/online_retail.parquet")
    report = run_ingest(IngestSection(format="online-retail", events_path=str(source)), tmp_path)
    assert report.rows["events"] + report.rows["quarantined_events"] == 541_909
    assert report.bad_rows["events: cancellation invoice"] == 9_288
    assert report.bad_rows["events: missing CustomerID"] > 130_000
    assert report.bad_rows["events: non-product stock code"] > 2_000
    items = pl.read_parquet(tmp_path / "items")
    assert items["item_id"].n_unique() == items.height == report.rows["items"]
    heart = items.filter(pl.col("item_id") == "85123A").row(0, named=True)
    assert heart["title"] == "WHITE HANGING HEART T-LIGHT HOLDER" and heart["price"] > 0
    sessions = pl.read_parquet(tmp_path / "events", columns=["session_id"])["session_id"]
    assert not sessions.str.starts_with("C").any()


@pytest.mark.shared_data
def test_amazon_metadata_and_reviews(tmp_path: Path) -> None:
    meta = shared_data("amazon_magazine_2018/meta_Magazine_Subscriptions.json.gz")
    asins = pl.read_ndjson(meta, infer_schema_length=None)["asin"].unique().sort().head(3).to_list()
    reviews = tmp_path / "reviews.json"
    lines = [{"overall": 5.0, "reviewerID": f"R{i}", "asin": a, "unixReviewTime": 1_500_000_000 + i}
             for i, a in enumerate(asins)] + [{"overall": 1.0, "reviewerID": "R9", "asin": "NOT-AN-ASIN",
                                               "unixReviewTime": 1_500_000_000}]
    reviews.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    report = run_ingest(IngestSection(format="amazon", events_path=str(reviews), items_path=str(meta)),
                        tmp_path / "out")
    assert report.rows["item_rows_read"] == 3_385
    assert report.rows["items"] == 2_320  # the source repeats asins; they are merged
    assert report.rows["events"] == 3
    assert report.bad_rows == {"events: unknown item_id": 1}
    items = pq.read_table(tmp_path / "out" / "items").to_pylist()
    assert not any(i["title"] and "<span" in i["title"] for i in items)
    assert sum(1 for i in items if i["category"] and i["category"].startswith("Magazine")) > 1_800
    links = pl.read_parquet(tmp_path / "out" / "links")
    assert links.height == report.rows["links"] == links.unique().height == 15_098
    assert set(links["kind"]) == {"also_bought", "also_viewed"}
    assert set(links["a"]) | set(links["b"]) <= {i["item_id"] for i in items}


def test_amazon_2014_literal_metadata_a_catalog_alone(tmp_path: Path) -> None:
    meta = tmp_path / "meta_Toys_and_Games.json.gz"
    lines = ["{'asin': 'A1', 'title': \"Girls' Ballet Tutu\", 'price': 3.17, 'related': {'also_bought': ['A2', 'ZZ'], "
             "'also_viewed': ['A3'], 'bought_together': ['A2'], 'buy_after_viewing': ['A1']}, "
             "'salesRank': {'Toys & Games': 211836}, 'categories': [['Toys & Games', 'Dress Up']]}",
             "{'asin': 'A2', 'description': '[Paperback] brackets are text here', 'related': {'also_viewed': ['A1']}}",
             "{'asin': 'A3', 'related': ['A1']}",  # the wrong type: refused, its links with it
             "{'asin': 'A4', 'related': {'also_bought': ['A3']}}"]
    with gzip.open(meta, "wt") as f:
        f.write("\n".join(lines) + "\n")
    out = tmp_path / "out"
    report = run_ingest(IngestSection(format="amazon", items_path=str(meta)), out)
    assert (report.rows["items"], report.rows["quarantined_items"], report.rows["events"]) == (3, 1, 0)
    assert report.bad_rows == {"items: wrong type in related": 1}
    links = pl.read_parquet(out / "links").sort("a", "kind").rows()
    assert links == [("A1", "A2", "also_bought"), ("A1", "A2", "bought_together"), ("A2", "A1", "also_viewed")]
    assert pl.read_parquet(out / "events").height == 0 and (out / MARKER).exists()


def test_a_truncated_gzip_gives_every_complete_line_and_one_row_for_its_end(tmp_path: Path) -> None:
    lines = [json.dumps({"user_id": f"u{n}", "item_id": "i", "ts": 1_767_225_600 + n}) for n in range(40_000)]
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    source = tmp_path / "events.jsonl.gz"
    source.write_bytes(whole[: len(whole) // 2])
    report = run_ingest(IngestSection(events_path=str(source)), tmp_path / "out")
    users = pl.read_parquet(tmp_path / "out" / "events")["user_id"]
    n = report.rows["events"]
    assert n > 10_000 and sorted(users, key=lambda u: int(u[1:])) == [f"u{i}" for i in range(n)]
    [end] = _quarantine(tmp_path / "out", "events").rows(named=True)
    assert report.rows["quarantined_events"] == 1 and end["row_number"] == n
    assert end["reason"].startswith(f"file ends early: after {n:,} complete lines")
    assert lines[n].startswith(end["raw"])


def test_a_table_without_one_valid_row_is_one_clear_line_from_the_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    meta = tmp_path / "meta.json"
    meta.write_text('{"title": "no asin"}\n{"asin": ["B1"]}\n{"asin": ""}\nnot json\n')
    events = tmp_path / "reviews.json"
    events.write_text('{"reviewerID": "A1", "asin": "B1", "unixReviewTime": 1500000000}\n')
    handlers = logging.getLogger().handlers[:]
    try:
        result = CliRunner().invoke(app, ["ingest", "--format", "amazon", "--events", str(events), "--items",
                                          str(meta), "--out", str(tmp_path / "out")], terminal_width=400)
    finally:  # the command logs to the runner's stream, closed once it returns: later tests must not
        logging.getLogger().handlers[:] = handlers
    assert result.exit_code == 2, result.output
    quarantine = tmp_path / "out" / "quarantine" / "items"
    assert "Traceback" not in result.output and "ArrowInvalid" not in result.output
    assert (f"error: {meta}: no valid items rows: 4 read, every one quarantined (top reasons: missing asin: 2; "
            f"asin is a JSON list or object, not a value: 1; line is not valid JSON: 1); the rows and their reasons "
            f"are in {quarantine}") in " ".join(result.output.split())
    assert _quarantine(tmp_path / "out", "items").height == 4


def test_a_file_the_adapter_cannot_map_is_quarantined_row_by_row_and_no_valid_row_stops_the_stage(
        tmp_path: Path) -> None:
    source = tmp_path / "not_retail.csv"
    source.write_text("InvoiceNo,StockCode\n536365,85123A\n536366,71053\n")
    with pytest.raises(NoValidRows) as raised:
        run_ingest(IngestSection(format="online-retail", events_path=str(source)), tmp_path / "out")
    error = raised.value
    assert (error.table, error.rows_read, error.reasons) == ("events", 2, {"cannot map rows": 2})
    assert str(error) == (f"{source}: no valid events rows: 2 read, every one quarantined (top reasons: "
                          f"cannot map rows: 2); the rows and their reasons are in {tmp_path / 'out' / 'quarantine' / 'events'}")
    assert not (tmp_path / "out" / MARKER).exists()
    refused = _quarantine(tmp_path / "out", "events")
    assert refused["reason"][0].startswith("cannot map rows: not an Online Retail table")
    assert json.loads(refused.sort("row_number")["raw"][1]) == {"InvoiceNo": "536366", "StockCode": "71053"}


def test_an_increment_leaves_the_history_files_unread_and_keeps_the_same_events(tmp_path: Path) -> None:
    synth = generate(SynthSection(events=6_000, seed=3), tmp_path / "raw")
    events = pl.read_parquet(synth.events_dir)
    last = events["ts"].max()
    assert isinstance(last, datetime)
    since = last.replace(hour=0, minute=0, second=0, microsecond=0)
    log_dir = tmp_path / "log"  # a daily drop: the history and the new day, each a file of its own
    log_dir.mkdir()
    events.filter(pl.col("ts") < since).write_parquet(log_dir / "history.parquet")
    events.filter(pl.col("ts") >= since).write_parquet(log_dir / "day.parquet")
    settings = IngestSection(format="parquet", events_path=str(log_dir), items_path=str(synth.items_path))
    report = run_ingest(settings, tmp_path / "increment", since=since)
    assert report.details["event_files_left_unread"] == 1
    kept = pl.read_parquet(tmp_path / "increment" / "events")
    whole = run_ingest(IngestSection(format="parquet", events_path=str(synth.events_dir),
                                     items_path=str(synth.items_path)), tmp_path / "whole")
    assert whole.details["event_files_left_unread"] == 0
    expected = pl.read_parquet(tmp_path / "whole" / "events").filter(pl.col("ts") >= since)
    assert kept.sort(kept.columns).equals(expected.sort(expected.columns))

    with pytest.raises(InputDataError, match="no valid event at or after --since") as error:
        run_ingest(settings, tmp_path / "nothing_new", since=last + timedelta(days=1))
    assert error.value.path == str(log_dir) and not (tmp_path / "nothing_new").exists()
