"""Every adapter against files with over a thousand broken lines among good ones, on a real local Ray.

Each test writes seeded files (tests/_support/fuzz.py), ingests them and checks, exactly: every
good line arrives as its canonical row, every bad line is in the quarantine at its own row number,
and the two add up to the lines of the input. The counts are printed (run with -s to see them).
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.config import IngestSection
from pipelines.ingest.job import run_ingest
from pipelines.report import StageReport
from tests._support.fuzz import Mix, csv_line, dumps, line_breaks, literal, mixed, with_value

pytestmark = pytest.mark.usefixtures("ray_cluster")

GOOD, BAD = 2_500, 1_200
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _quarantine(out: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(out / "quarantine" / table)


def _check(report: StageReport, out: Path, table: str, mix: Mix, sources: dict[str, Mix] | None = None) -> None:
    """The quarantine holds exactly the bad rows, each at its own row number, and counts add up."""
    sources = sources or {"": mix}
    bad = {(name, row) for name, m in sources.items() for row in m.bad}
    quarantined = _quarantine(out, table)
    got = {(Path(s).name if len(sources) > 1 else "", r) for s, r in quarantined.select("source", "row_number").rows()}
    assert quarantined.height == len(bad) and got == bad
    good = sum(len(m.good) for m in sources.values())
    assert report.rows[f"quarantined_{table}"] == len(bad)
    assert good + len(bad) == sum(m.rows for m in sources.values())
    kinds = sorted({kind for m in sources.values() for kind in m.bad.values()})
    reasons = {r.removeprefix(f"{table}: "): n for r, n in report.bad_rows.items() if r.startswith(f"{table}: ")}
    print(f"\n{table}: {sum(m.rows for m in sources.values())} lines = {good} good + {len(bad)} quarantined; "
          f"{len(kinds)} kinds of damage; reasons {reasons}")


def _event(rng: Random, i: int) -> dict[str, Any]:
    ts = T0 + timedelta(seconds=37 * i)
    return {"user_id": f"u{i}", "item_id": f"i{i % 53}", "event_type": rng.choice(["view", "click", "purchase"]),
            "ts": rng.choice([int(ts.timestamp()), ts.isoformat().replace("+00:00", "Z")]),
            "query": "x" * 200_000 if i % 997 == 0 else rng.choice([None, "tent", "Camping  TENT", "é ü 漢字"]),
            "tags": ["nested", i], "_row": "a reserved name in the source"}


def _expected_event(i: int) -> tuple[str, datetime]:
    return f"u{i}", T0 + timedelta(seconds=37 * i)


EVENT_VALUES = {  # wrong types, huge values, missing and unknown values
    "user_id is a list": with_value(_event, "user_id", ["u"]),
    "item_id is an object": with_value(_event, "item_id", {"id": 1}),
    "ts is true": with_value(_event, "ts", True),
    "ts of 10**30": with_value(_event, "ts", 10**30),
    "ts is int64's maximum": with_value(_event, "ts", 2**63 - 1),
    "ts is 1e400": lambda rng, i: dumps(_event(rng, i)).replace(b'"ts": ', b'"ts": 1e400, "old": ', 1),
    "ts of a megabyte": with_value(_event, "ts", "9" * 1_000_000),
    "ts in 1969": with_value(_event, "ts", "1969-07-20T20:17:00Z"),
    "ts is a [": with_value(_event, "ts", "[2025-01-01"),
    "no user_id": with_value(_event, "user_id", ...),
    "a blank item_id": with_value(_event, "item_id", "   "),
    "a NUL in user_id": with_value(_event, "user_id", "u\x00"),
    "an unknown event_type": with_value(_event, "event_type", "teleport"),
}


def test_generic_jsonl(tmp_path: Path) -> None:
    mix = mixed(lambda rng, i: (dumps(_event(rng, i)), _expected_event(i)),
                {**line_breaks(_event, "user_id"), **EVENT_VALUES}, GOOD, BAD)
    out = tmp_path / "out"
    report = run_ingest(IngestSection(format="jsonl", events_path=str(mix.write(tmp_path / "events.jsonl"))), out)
    events = pl.read_parquet(out / "events")
    assert sorted(events.select("user_id", "ts").rows()) == sorted(mix.good.values())
    _check(report, out, "events", mix)


def _csv_event(rng: Random, i: int) -> tuple[list[str], tuple[str, datetime]]:
    user, ts = _expected_event(i)
    query = "q" * 1_000_000 if i % 1999 == 0 else rng.choice(["tent", 'tent, "large"', "é ü 漢字", ""])
    return [user, f"i{i % 53}", "view", str(int(ts.timestamp())), query], (user, ts)


def _csv_break(change: Any) -> Any:
    def maker(rng: Random, i: int) -> bytes:
        fields = _csv_event(rng, i)[0]
        fields[-1] = "plain"  # no quotes of its own in a line broken on purpose
        return change(fields)

    return maker


CSV_BREAKS = {
    "an unclosed quote": _csv_break(lambda f: b'"' + csv_line(*f)),
    "an escaped quote ending the line": _csv_break(lambda f: csv_line(*f[:-1]) + b',"q""'),
    "text after a closing quote": _csv_break(lambda f: b'"' + f[0].encode() + b'"x,' + csv_line(*f[1:])),
    "a field too many": _csv_break(lambda f: csv_line(*f, "extra")),
    "a field too few": _csv_break(lambda f: csv_line(*f[:-1])),
    "invalid UTF-8": _csv_break(lambda f: csv_line(*f).replace(b"u", b"u\xff", 1)),
    "a NUL in user_id": _csv_break(lambda f: csv_line(f[0] + "\x00", *f[1:])),
    "ts is text": _csv_break(lambda f: csv_line(*f[:3], "yesterday", f[4])),
    "ts of 30 digits": _csv_break(lambda f: csv_line(*f[:3], "1" * 30, f[4])),
    "ts of a megabyte": _csv_break(lambda f: csv_line(*f[:3], "9" * 1_000_000, f[4])),
    "ts is a [": _csv_break(lambda f: csv_line(*f[:3], "[", f[4])),
    "an unknown event_type": _csv_break(lambda f: csv_line(*f[:2], "teleport", *f[3:])),
    "an empty user_id": _csv_break(lambda f: csv_line("", *f[1:])),
    "a NULL user_id": _csv_break(lambda f: csv_line("NULL", *f[1:])),
}


def test_generic_csv(tmp_path: Path) -> None:
    mix = mixed(lambda rng, i: (csv_line(*(row := _csv_event(rng, i))[0]), row[1]), CSV_BREAKS, GOOD, BAD,
                header=b"user_id,item_id,event_type,ts,query")
    out = tmp_path / "out"
    report = run_ingest(IngestSection(events_path=str(mix.write(tmp_path / "events.csv"))), out)
    events = pl.read_parquet(out / "events")
    assert sorted(events.select("user_id", "ts").rows()) == sorted(mix.good.values())
    assert events.filter(pl.col("query").str.len_chars() > 100_000).height > 0  # a huge value is only big
    _check(report, out, "events", mix)


PARQUET_BAD = {"user_id": [None, "", "u\x00"], "item_id": [None, " "], "event_type": ["teleport", None],
               "ts": ["yesterday", "1969-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "9" * 10_000, "[", None]}


def test_generic_parquet_text_and_typed_columns(tmp_path: Path) -> None:
    rng, raw = Random(7), tmp_path / "raw"
    raw.mkdir()
    text, typed = Mix(), Mix()
    columns: dict[str, list[Any]] = {"user_id": [], "item_id": [], "event_type": [], "ts": []}
    for i in range(GOOD + BAD):
        user, ts = _expected_event(i)
        row = {"user_id": user, "item_id": f"i{i % 53}", "event_type": "view", "ts": ts.isoformat()}
        if rng.random() < BAD / (GOOD + BAD):
            column = rng.choice(sorted(PARQUET_BAD))
            row[column] = rng.choice(PARQUET_BAD[column])
            text.bad[i] = column
        else:
            text.good[i] = (user, ts)
        for name in columns:
            columns[name].append(row[name])
    pq.write_table(pa.table(columns), raw / "a.parquet")
    epochs = []
    for i in range(2_000):
        user, ts = _expected_event(10**6 + i)
        if i % 3 == 0:
            epochs.append(rng.choice([2**63 - 1, -1, 4_102_444_800, -(2**63)]))  # 0 is 1970-01-01: valid
            typed.bad[i] = "ts"
        else:
            epochs.append(int(ts.timestamp()))
            typed.good[i] = (user, ts)
    pq.write_table(pa.table({"user_id": [_expected_event(10**6 + i)[0] for i in range(2_000)],
                             "item_id": ["i"] * 2_000, "ts": pa.array(epochs, pa.int64())}), raw / "b.parquet")
    out = tmp_path / "out"
    report = run_ingest(IngestSection(events_path=str(raw)), out)
    events = pl.read_parquet(out / "events")
    assert sorted(events.select("user_id", "ts").rows()) == sorted([*text.good.values(), *typed.good.values()])
    _check(report, out, "events", text, {"a.parquet": text, "b.parquet": typed})


def _retail(rng: Random, i: int) -> list[str]:
    when = datetime(2011, 1 + i % 12, 1 + i % 28, 8 + i % 10, i % 60)
    return [f"{536_000 + i // 4}", f"{20_000 + i % 700}{rng.choice(['', 'A', 'B'])}",
            rng.choice(["WHITE HANGING HEART T-LIGHT HOLDER", 'SET 7 BABUSHKA NESTING BOXES, "RED"']),
            str(rng.randint(1, 24)), when.strftime("%Y-%m-%d %H:%M:%S"), f"{rng.randint(10, 999) / 100}",
            f"{rng.randint(12_346, 18_287)}.0", "United Kingdom"]


def _retail_break(column: int, value: Any) -> Any:
    def maker(rng: Random, i: int) -> bytes:
        fields = _retail(rng, i)
        fields[2] = "PLAIN"
        fields[column] = value(rng) if callable(value) else value
        return csv_line(*fields)

    return maker


RETAIL_BREAKS = {
    "an unclosed quote": lambda rng, i: b'"' + _retail_break(2, "PLAIN")(rng, i),
    "a field too many": lambda rng, i: _retail_break(2, "PLAIN")(rng, i) + b",extra",
    "invalid UTF-8": lambda rng, i: _retail_break(2, "PLAIN")(rng, i).replace(b"PLAIN", b"PL\xffAIN"),
    "a NUL in StockCode": _retail_break(1, "2\x000000"),
    "Quantity is text": _retail_break(3, lambda rng: rng.choice(["abc", "nan", "inf", "1e400", "-5", "0"])),
    "UnitPrice is not a price": _retail_break(5, lambda rng: rng.choice(["-1", "nan", "0", "free", "1e400"])),
    "InvoiceDate is not a date": _retail_break(4, lambda rng: rng.choice(["2011-13-45 10:00:00", "9" * 30, "["])),
    "a cancellation": _retail_break(0, "C536379"),
    "postage": _retail_break(1, "POST"),
    "no customer": _retail_break(6, ""),
}


def test_online_retail_csv(tmp_path: Path) -> None:
    def good(rng: Random, i: int) -> tuple[bytes, Any]:
        fields = _retail(rng, i)
        return csv_line(*fields), (fields[1].upper(), fields[0])

    mix = mixed(good, RETAIL_BREAKS, GOOD, BAD,
                header=b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country")
    out = tmp_path / "out"
    report = run_ingest(IngestSection(format="online-retail", events_path=str(mix.write(tmp_path / "r.csv"))), out)
    events = pl.read_parquet(out / "events")
    assert sorted(events.select("item_id", "session_id").rows()) == sorted(mix.good.values())
    assert report.rows["items"] == len({code for code, _ in mix.good.values()})
    assert report.rows["quarantined_items"] == 0  # a refused line is quarantined once, as an event
    _check(report, out, "events", mix)


def _movie(rng: Random, i: int) -> tuple[bytes, Any]:
    return csv_line(str(i), rng.choice([f"Movie {i} (1995)", f"American President, The {i} (1995)"]),
                    rng.choice(["Comedy|Drama", "(no genres listed)"])), str(i)


MOVIE_BREAKS = {
    "no movieId": lambda rng, i: csv_line("", "Movie (1995)", "Drama"),
    "an unclosed quote": lambda rng, i: b'"' + csv_line(str(10**6 + i), "Movie", "Drama"),
    "a field too many": lambda rng, i: csv_line(str(10**6 + i), "Movie", "Drama", "x"),
    "movieId is a NUL": lambda rng, i: csv_line(f"{10**6 + i}\x00", "Movie", "Drama"),
}


def _rating(rng: Random, i: int, movies: list[str]) -> list[str]:
    return [f"u{i}", rng.choice(movies), rng.choice(["4.0", "3.5", "5", "0.5"]), str(1_000_000_000 + 97 * i)]


def test_movielens_csv(tmp_path: Path) -> None:
    movies = mixed(_movie, MOVIE_BREAKS, GOOD, 1_000, header=b"movieId,title,genres")
    ids = sorted(movies.good.values())

    def breaking(column: int, value: Any) -> Any:
        def maker(rng: Random, i: int) -> bytes:
            fields = _rating(rng, i, ids)
            fields[column] = value(rng) if callable(value) else value
            return csv_line(*fields)

        return maker

    rating_breaks = {
        "rating is not a rating": breaking(2, lambda rng: rng.choice(["abc", "7", "nan", "0.4", "inf", ""])),
        "timestamp is not a time": breaking(3, lambda rng: rng.choice(["soon", "9" * 25, "-86400", "["])),
        "no userId": breaking(0, ""),
        "an unknown movie": breaking(1, "999999999"),
        "an unclosed quote": lambda rng, i: b'"' + breaking(0, "u")(rng, i),
        "invalid UTF-8": lambda rng, i: breaking(0, "u")(rng, i).replace(b"u", b"\xff", 1),
    }
    ratings = mixed(lambda rng, i: (csv_line(*_rating(rng, i, ids)), f"u{i}"), rating_breaks, GOOD, BAD,
                    header=b"userId,movieId,rating,timestamp")
    out = tmp_path / "out"
    report = run_ingest(IngestSection(format="movielens", events_path=str(ratings.write(tmp_path / "ratings.csv")),
                                      items_path=str(movies.write(tmp_path / "movies.csv"))), out)
    assert sorted(pl.read_parquet(out / "items")["item_id"].to_list()) == ids
    assert sorted(pl.read_parquet(out / "events")["user_id"].to_list()) == sorted(ratings.good.values())
    _check(report, out, "items", movies)
    _check(report, out, "events", ratings)


def _meta_2018(rng: Random, i: int) -> dict[str, Any]:
    return {"asin": f"B{i:07d}", "title": rng.choice([f"Magazine {i}", '<span class="a-size-medium"']),
            "description": rng.choice([["Edited for ", "readers."], [], "[Paperback] a string, as in 2014"]),
            "category": ["Magazine Subscriptions", rng.choice(["News", "Arts"])], "brand": "B",
            "price": rng.choice(["$12.99", "", ".a-box-inner{background-color:#fff}"]),
            "also_buy": [f"B{rng.randrange(GOOD + BAD):07d}" for _ in range(3)] + ["B9999999", f"B{i:07d}"],
            "also_view": [f"B{rng.randrange(GOOD + BAD):07d}"], "details": {"Publisher:": "P"}, "rank": [1]}


def _meta_2014(rng: Random, i: int) -> dict[str, Any]:
    return {"asin": f"B{i:07d}", "title": rng.choice([f"Girls' Tutu {i}", "Tutu"]), "price": 3.17,
            "imUrl": "http://ecx.images-amazon.com/images/I/51fAmVkTbyL._SY300_.jpg",
            "related": {kind: [f"B{rng.randrange(GOOD + BAD):07d}", "B9999999"] for kind in
                        ("also_bought", "also_viewed", "bought_together", "buy_after_viewing")},
            "salesRank": {"Toys & Games": 211836}, "description": "[Paperback] in brackets, as sellers write",
            "categories": [["Clothing, Shoes & Jewelry", "Girls"], ["Sports & Outdoors"]]}


def _review(rng: Random, i: int, asins: list[str]) -> dict[str, Any]:
    return {"reviewerID": f"A{i}", "asin": rng.choice(asins), "overall": 5.0, "helpful": [0, 0],
            "reviewText": "I bought this for my husband's mother.", "unixReviewTime": 1_252_800_000 + i}


@pytest.mark.parametrize("release", ["2018", "2014"])
def test_amazon_metadata_and_reviews(tmp_path: Path, release: str) -> None:
    make, encode = (_meta_2018, dumps) if release == "2018" else (_meta_2014, literal)
    fields = ({"category is a mapping": with_value(make, "category", {"a": 1}, encode),
               "also_buy holds numbers": with_value(make, "also_buy", [1, 2], encode),
               "description is a mapping": with_value(make, "description", {"a": "b"}, encode)}
              if release == "2018" else
              {"related is text": with_value(make, "related", "B0000001", encode),
               "categories hold numbers": with_value(make, "categories", [[1]], encode),
               "a related list holds lists": with_value(make, "related", {"also_bought": [["B1"]]}, encode),
               "code, not a literal": lambda rng, i: b"__import__('os').system('touch PWNED')",
               "a set": with_value(make, "salesRank", {1, 2}, encode)})
    meta = mixed(lambda rng, i: (encode(make(rng, i)), f"B{i:07d}"), {
        **line_breaks(make, "asin", encode), **fields,
        "asin is a list": with_value(make, "asin", ["B1"], encode),
        "no asin": with_value(make, "asin", ..., encode),
        "a NUL in the asin": with_value(make, "asin", "B\x00", encode),
    }, GOOD, BAD, first=(encode({**make(Random(0), 0), "asin": "B-first"}), "B-first"))
    asins = sorted(meta.good.values())

    def review(rng: Random, i: int) -> dict[str, Any]:
        return _review(rng, i, asins)

    reviews = mixed(lambda rng, i: (encode(review(rng, i)), f"A{i}"), {
        **line_breaks(review, "reviewerID", encode),
        "an unknown asin": with_value(review, "asin", "B9999999", encode),
        "a time of 10**30": with_value(review, "unixReviewTime", 10**30, encode),
        "no reviewerID": with_value(review, "reviewerID", ..., encode),
    }, GOOD, BAD, first=(encode(review(Random(0), -1)), "A-1"))
    out = tmp_path / "out"
    report = run_ingest(IngestSection(format="amazon", events_path=str(reviews.write(tmp_path / "reviews.json")),
                                      items_path=str(meta.write(tmp_path / "meta.json"))), out)
    items = pl.read_parquet(out / "items")
    assert sorted(items["item_id"].to_list()) == asins and report.rows["items"] == len(asins)
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()
    assert sorted(pl.read_parquet(out / "events")["user_id"].to_list()) == sorted(reviews.good.values())
    _check(report, out, "items", meta)
    _check(report, out, "events", reviews)
    links = pl.read_parquet(out / "links")
    known = set(asins)
    assert links.height == report.rows["links"] == links.unique().height > GOOD
    assert set(links["a"]) <= known and set(links["b"]) <= known and not (links["a"] == links["b"]).any()
    kinds = {"also_bought", "also_viewed"} | ({"bought_together", "bought_after_viewing"} if release == "2014" else set())
    assert set(links["kind"]) == kinds
    print(f"links: {links.height} between items ({release})")
