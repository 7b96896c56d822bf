"""User-facing errors read as one line that says what to fix; their facts are fields too."""

from kg.errors import InputDataError, KgrecError, NoValidRows


def test_no_valid_rows_names_the_count_the_top_reasons_and_the_quarantine() -> None:
    reasons = {"missing asin": 2_500, "line is not valid JSON": 40, "a": 1, "b": 1, "c": 1, "d": 1}
    error = NoValidRows("meta.json", "items", 2_544, reasons, "out/quarantine/items")
    assert isinstance(error, InputDataError) and isinstance(error, KgrecError)
    assert str(error) == ("meta.json: no valid items rows: 2,544 read, every one quarantined (top reasons: "
                          "missing asin: 2,500; line is not valid JSON: 40; a: 1; b: 1; c: 1); the rows and "
                          "their reasons are in out/quarantine/items")
    assert "\n" not in str(error) and (error.table, error.rows_read, error.path) == ("items", 2_544, "meta.json")


def test_an_input_without_rows_says_so() -> None:
    assert str(NoValidRows("empty.csv", "events", 0, {}, "q")) == (
        "empty.csv: no events rows at all: the input holds no rows")
