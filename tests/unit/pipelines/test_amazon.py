"""Amazon metadata and reviews in both releases (2014 literals, 2018 JSON), read as a real file is."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.config import IngestSection
from pipelines.ingest import amazon
from pipelines.ingest.adapters import ADAPTERS
from pipelines.ingest.chunks import Chunk, ReadFailure
from pipelines.ingest.sources import read_chunks
from pipelines.ingest.staging import LINKS, RAW, REASON

# McAuley's 2014 layout, as `str(dict)` wrote it: single quotes, double quotes where a value has one.
META_2014 = [
    "{'asin': '0000031852', 'title': \"Girls' Ballet Tutu\", 'price': 3.17, 'imUrl': "
    "'http://ecx.images-amazon.com/images/I/51fAmVkTbyL._SY300_.jpg', 'related': {'also_bought': "
    "['B00JHONN1S', '0000031895'], 'also_viewed': ['B002BZX8Z6'], 'bought_together': ['0000031895'], "
    "'buy_after_viewing': ['B00D2K1M3O']}, 'salesRank': {'Toys & Games': 211836}, 'brand': 'Coxlists', "
    "'categories': [['Clothing, Shoes & Jewelry', 'Girls', 'Clothing', 'Active'], ['Sports & Outdoors']]}",
    "{'asin': '0000031895', 'description': '[Paperback] A tutu, in brackets as sellers write them', "
    "'categories': [['Books']]}",
    "{'asin': 'B00JHONN1S', 'related': 'B002BZX8Z6'}",
    "{'asin': 'B002BZX8Z6', 'categories': {'Books': 1}}",
    "{'asin': 'B00D2K1M3O', 'related': {'also_bought': [1, 2]}}",
]
META_2018 = [
    {"asin": "B001", "title": "Reason Magazine", "description": ["Edited for people ", "who read."],
     "category": ["Magazine Subscriptions", "News"], "brand": "Reason", "price": "$12.99",
     "also_buy": ["B002", "B003"], "also_view": ["B002"], "rank": "1 in Magazines", "details": {"a": "b"}},
    {"asin": "B002", "title": '<span class="a-size-medium a-color-secondary"', "description": [],
     "category": [], "brand": "", "price": ".a-box-inner{background-color:#fff}", "also_buy": []},
    {"asin": "B003", "category": "Magazine Subscriptions"},
    {"asin": ["B004"]},
]


def _stage(path: Path, kind: str = "items") -> tuple[list[dict[str, object]], list[ReadFailure]]:
    fmt = ADAPTERS["amazon"].file_format
    assert fmt is not None
    rows: list[dict[str, object]] = []
    failures: list[ReadFailure] = []
    import polars as pl

    for part in read_chunks(str(path), fmt, 1000):
        if isinstance(part, ReadFailure):
            failures.append(part)
            continue
        assert isinstance(part, Chunk)
        raw = pl.from_arrow(part.table)
        assert isinstance(raw, pl.DataFrame)
        stage = amazon.stage_items if kind == "items" else amazon.stage_events
        table: pa.Table = stage(raw, str(path), IngestSection())
        rows += table.to_pylist()
    return rows, failures


def test_2014_metadata_literals_become_items_with_the_first_category_path_and_all_four_lists(
        tmp_path: Path) -> None:
    path = tmp_path / "meta_Toys.json"
    path.write_text("\n".join(META_2014) + "\n")
    rows, failures = _stage(path)
    assert not failures
    tutu = rows[0]
    assert (tutu["item_id"], tutu["title"], tutu["price"], tutu["brand"], tutu[REASON]) == (
        "0000031852", "Girls' Ballet Tutu", 3.17, "Coxlists", None)
    assert tutu["category"] == "Clothing, Shoes & Jewelry > Girls > Clothing > Active"
    assert tutu[LINKS] == [{"b": "B00JHONN1S", "kind": "also_bought"}, {"b": "0000031895", "kind": "also_bought"},
                           {"b": "B002BZX8Z6", "kind": "also_viewed"}, {"b": "0000031895", "kind": "bought_together"},
                           {"b": "B00D2K1M3O", "kind": "bought_after_viewing"}]
    book = rows[1]  # a 2014 description is a string: one that starts with '[' is still text
    assert book[REASON] is None and book["text"] == "[Paperback] A tutu, in brackets as sellers write them"
    assert [r[REASON] for r in rows[2:]] == [
        "wrong type in related: text where a list belongs ('B002BZX8Z6')",
        "wrong type in categories: the value: Input should be a valid array",
        "wrong type in related: .also_bought[0]: Input should be a valid string",
    ]
    assert rows[2][LINKS] == [] and json.loads(str(rows[2][RAW]))["related"] == "B002BZX8Z6"


def test_2018_metadata_json_becomes_items_with_links_html_and_css_treated_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "meta_Magazine_Subscriptions.json"
    path.write_text("\n".join(json.dumps(r) for r in META_2018) + "\n")
    rows, failures = _stage(path)
    assert not failures
    reason = rows[0]
    assert (reason["title"], reason["text"], reason["category"], reason["price"]) == (
        "Reason Magazine", "Edited for people who read.", "Magazine Subscriptions > News", 12.99)
    assert reason[LINKS] == [{"b": "B002", "kind": "also_bought"}, {"b": "B003", "kind": "also_bought"},
                             {"b": "B002", "kind": "also_viewed"}]
    html = rows[1]
    assert (html["title"], html["text"], html["category"], html["brand"], html["price"], html[REASON]) == (
        None, None, None, None, None, None)
    assert rows[2][REASON] == "wrong type in category: text where a list belongs ('Magazine Subscriptions')"
    assert rows[3][REASON] == "asin is a JSON list or object, not a value"


@pytest.mark.parametrize("line", [
    "{'reviewerID': 'A2SUAM1J3GNN3B', 'asin': '0000013714', 'reviewerName': 'J. McDonald', 'helpful': [2, 3], "
    "'reviewText': \"I bought this for my husband's mother.\", 'overall': 5.0, 'summary': 'Heavenly Highway Hymns', "
    "'unixReviewTime': 1252800000, 'reviewTime': '09 13, 2009'}",
    json.dumps({"reviewerID": "A2SUAM1J3GNN3B", "asin": "0000013714", "overall": 5.0, "unixReviewTime": 1252800000,
                "verified": True, "style": {"Format:": " Hardcover"}}),
])
def test_reviews_of_either_release_become_review_events(tmp_path: Path, line: str) -> None:
    import gzip

    path = tmp_path / "reviews.json.gz"
    second = "{'reviewerID': 'A1', 'asin': 'B1', 'unixReviewTime': 'soon'}"
    path.write_bytes(gzip.compress(f"{line}\n{second}\n".encode()))
    rows, failures = _stage(path, "events")
    assert (rows[0]["user_id"], rows[0]["item_id"], rows[0]["event_type"], rows[0][REASON]) == (
        "A2SUAM1J3GNN3B", "0000013714", "review", None)
    assert rows[0]["ts"] == datetime(2009, 9, 13, tzinfo=UTC)
    if line.startswith("{'"):  # a literal file: the second line is read, its time is not
        assert not failures and rows[1][REASON] == "unparseable unixReviewTime 'soon'"
    else:  # a JSON file: a literal line in it is not JSON
        assert len(rows) == 1 and failures[0].reason.startswith("line is not valid JSON")


def test_registered_with_per_file_syntax_and_links() -> None:
    adapter = ADAPTERS["amazon"]
    assert adapter.file_format == "jsonl_or_literal" and adapter.links
