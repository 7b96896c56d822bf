"""Row mapping of each source format: canonical values for good rows, a reason for bad ones."""

from datetime import UTC, datetime

import polars as pl
import pyarrow as pa

from pipelines.config import IngestSection
from pipelines.ingest import generic, online_retail
from pipelines.ingest.chunks import NESTED, ROW_COLUMN
from pipelines.ingest.staging import RAW, REASON, staged_schema


def _raw(columns: dict[str, list[object]]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    return pl.DataFrame({**columns, ROW_COLUMN: list(range(n))}, strict=False)


def _rows(table: pa.Table) -> list[dict[str, object]]:
    return table.to_pylist()


def test_generic_events_reasons_name_column_and_value() -> None:
    raw = _raw({
        "user_id": ["u1", " ", "u3", "u4", "u5", "u6"],
        "item_id": ["i1", "i2", None, "i4", "i5", "i6"],
        "event_type": ["VIEW", "view", "view", "teleport", "view", "purchase"],
        "ts": ["2026-01-02T03:04:05Z", "2026-01-01", "2026-01-01", "2026-01-01", "yesterday", None],
    })
    table = generic.stage_events(raw, "f.csv", IngestSection())
    assert table.schema == staged_schema("events")
    reasons = table.column(REASON).to_pylist()
    assert reasons == [None, "missing user_id", "missing item_id", "unknown event_type 'teleport'",
                       "unparseable ts 'yesterday'", "missing ts"]
    good = _rows(table)[0]
    assert good["event_type"] == "view"
    assert good["ts"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert good[RAW] is None
    assert '"ts":"yesterday"' in _rows(table)[4][RAW]


def test_timestamps_in_many_forms_become_utc() -> None:
    raw = _raw({"user_id": ["u"] * 5, "item_id": ["i"] * 5,
                "ts": ["1767225600", "2026-01-01 00:00:00", "2026-01-01T01:00:00+01:00",
                       "2026-07-01 12:00", "2026-01-01T00:00:00.250"]})
    settings = IngestSection(source_timezone="Europe/London")
    times = generic.stage_events(raw, "f", settings).column("ts").to_pylist()
    assert times[0] == datetime(2026, 1, 1, tzinfo=UTC)  # epoch seconds
    assert times[1] == datetime(2026, 1, 1, tzinfo=UTC)  # London is UTC in winter
    assert times[2] == datetime(2026, 1, 1, tzinfo=UTC)  # explicit offset honoured
    assert times[3] == datetime(2026, 7, 1, 11, 0, tzinfo=UTC)  # British summer time
    assert times[4] == datetime(2026, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC)


def test_generic_column_mapping_default_event_type_and_query_normalization() -> None:
    raw = _raw({"customer": ["c1"], "sku": ["s1"], "when": [1_767_225_600_000],
                "q": ["  Camping   TENT "]})
    settings = IngestSection(columns={"user_id": "customer", "item_id": "sku", "ts": "when",
                                      "query": "q"}, ts_unit="ms")
    row = _rows(generic.stage_events(raw, "f", settings))[0]
    assert (row["user_id"], row["item_id"], row["event_type"], row["query"]) == (
        "c1", "s1", "view", "camping tent")
    assert row["ts"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert row[REASON] is None


def test_generic_items_parse_prices_and_refuse_missing_ids() -> None:
    raw = _raw({"item_id": ["a", None], "title": ["Tent", "x"], "price": ["$1,234.50", "1"]})
    rows = _rows(generic.stage_items(raw, "items.csv", IngestSection()))
    assert rows[0]["price"] == 1234.5 and rows[0][REASON] is None and rows[0]["brand"] is None
    assert rows[1][REASON] == "missing item_id"


ONLINE_RETAIL = {
    "InvoiceNo": ["536365", "C536379", "536370", "536370", "536371", "536372", "536373", "536374"],
    "StockCode": ["85123a", "22086", "POST", "22326", "22327", "22328", "22329", "22330"],
    "Description": ["WHITE HANGING HEART T-LIGHT HOLDER", "PAPER CHAIN KIT", "POSTAGE",
                    "ROUND SNACK BOXES", "X", "Y", "Z", "W"],
    "Quantity": [6, -1, 3, 24, -12, 4, 4, 4],
    "InvoiceDate": ["2010-12-01 08:26:00", "2010-12-01 09:41:00", "2010-12-01 08:45:00",
                    "2010-12-01 08:45:00", "2010-12-01 08:50:00", "2010-12-01 09:00:00",
                    "2010-12-01 09:01:00", "not a date"],
    "UnitPrice": [2.55, 2.1, 18.0, 2.95, 1.0, 0.0, 1.0, 1.0],
    "CustomerID": [17850.0, 14527.0, 12583.0, 12583.0, 1.0, 2.0, None, 3.0],
    "Country": ["United Kingdom"] * 8,
}


def test_online_retail_lines_become_purchases_or_reasons() -> None:
    table = online_retail.stage_events(_raw(ONLINE_RETAIL), "or.parquet", IngestSection())
    assert table.column(REASON).to_pylist() == [
        None, "cancellation invoice", "non-product stock code 'POST'", None,
        "non-positive Quantity (return or adjustment)", "non-positive UnitPrice",
        "missing CustomerID", "unparseable InvoiceDate 'not a date'",
    ]
    first = _rows(table)[0]
    assert (first["user_id"], first["item_id"], first["event_type"], first["session_id"]) == (
        "17850", "85123A", "purchase", "536365")
    assert first["ts"] == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)  # GMT in December


def test_online_retail_guest_lines_kept_when_asked() -> None:
    table = online_retail.stage_events(_raw(ONLINE_RETAIL), "or", IngestSection(keep_guest_events=True))
    guest = _rows(table)[6]
    assert guest[REASON] is None and guest["user_id"] == "guest-536373"


def test_online_retail_items_only_from_valid_lines() -> None:
    table = online_retail.stage_items(_raw(ONLINE_RETAIL), "or", IngestSection())
    assert table.column("item_id").to_pylist() == ["85123A", "22326"]
    assert table.column("price").to_pylist() == [2.55, 2.95]


def test_times_outside_1970_2100_are_refused_and_huge_epochs_do_not_wrap() -> None:
    raw = _raw({"user_id": ["u"] * 5, "item_id": ["i"] * 5,
                "ts": ["9223372036854775807", "99999999999999999", "1969-07-20 20:17:00", "2100-01-01", "0"]})
    reasons = generic.stage_events(raw, "f", IngestSection()).column(REASON).to_pylist()
    assert reasons[:4] == ["ts outside 1970-2100 '9223372036854775807'", "ts outside 1970-2100 '99999999999999999'",
                           "ts outside 1970-2100 '1969-07-20 20:17:00'", "ts outside 1970-2100 '2100-01-01'"]
    assert reasons[4] == "unparseable ts '0'"  # a bare 0 is no epoch text (9 to 19 digits)
    ints = _raw({"user_id": ["u"] * 2, "item_id": ["i"] * 2, "ts": [9_223_372_036_854_775_807, 1_767_225_600]})
    assert generic.stage_events(ints, "f", IngestSection()).column(REASON).to_pylist() == [
        "ts outside 1970-2100 '9223372036854775807'", None]


def test_prices_are_read_only_when_they_are_prices() -> None:
    raw = _raw({"item_id": [f"i{n}" for n in range(8)],
                "price": ["$1,234.50", "EUR 12", "12.99", "nan", "inf", "2 for $10", "-3", "1e400"]})
    assert generic.stage_items(raw, "f", IngestSection()).column("price").to_pylist() == [
        1234.5, 12.0, 12.99, None, None, None, None, None]


def test_online_retail_refuses_numbers_that_are_not_finite() -> None:
    lines = {k: v[:1] * 3 for k, v in ONLINE_RETAIL.items()}
    lines["Quantity"], lines["UnitPrice"] = ["nan", "6", "6"], ["2.55", "inf", "1e400"]
    table = online_retail.stage_events(_raw(lines), "or.csv", IngestSection())
    assert table.column(REASON).to_pylist() == ["non-positive Quantity (return or adjustment)",
                                                "non-positive UnitPrice", "non-positive UnitPrice"]


def test_a_nul_character_in_a_canonical_text_refuses_the_row_naming_the_column() -> None:
    raw = _raw({"user_id": ["u\x00", "u2"], "item_id": ["i1", "i\x002"], "ts": ["2026-01-01"] * 2})
    assert generic.stage_events(raw, "f", IngestSection()).column(REASON).to_pylist() == [
        "NUL character in user_id", "NUL character in item_id"]


def test_json_lists_or_objects_where_a_value_belongs_are_refused() -> None:
    raw = _raw({"user_id": ['["u1"]', "u2", "[u3]"], "item_id": ["i1", '{"id": 2}', "i3"],
                "ts": ["2026-01-01"] * 3}).with_columns(
        pl.Series(NESTED, [["user_id"], ["item_id"], []], pl.List(pl.String)))
    table = generic.stage_events(raw, "f.jsonl", IngestSection())
    assert table.column(REASON).to_pylist() == ["user_id is a JSON list or object, not a value",
                                                "item_id is a JSON list or object, not a value", None]
    assert table.column("user_id").to_pylist()[2] == "[u3]"  # a string that merely looks like a list
    assert NESTED not in table.column(RAW).to_pylist()[0]


def test_a_reason_quotes_a_huge_value_cut_short_and_raw_keeps_it_whole() -> None:
    raw = _raw({"user_id": ["u"], "item_id": ["i"], "ts": ["x" * 1_000_000]})
    row = _rows(generic.stage_events(raw, "f", IngestSection()))[0]
    assert row[REASON] == f"unparseable ts '{'x' * 77}...'"
    assert len(str(row[RAW])) > 1_000_000
