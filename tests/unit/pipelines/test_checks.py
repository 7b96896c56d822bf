"""Typed values from text: what counts as an integer or a number, and what the reasons say."""

import polars as pl

from pipelines.ingest.checks import identifier, integer_checks, number_checks, refuse_duplicates
from pipelines.ingest.staging import REASON, first_reason


def test_integers_are_digits_only_and_ids_are_their_canonical_text() -> None:
    texts = ["+5", "007", " 12 ", "1.0", "1e3", "", None, "9" * 19, "-3"]
    frame = pl.DataFrame({"n": texts}).select(identifier("n"), first_reason(*integer_checks("n", 0, 100)))
    assert frame["n"].to_list() == ["5", "7", "12", None, None, None, None, None, "-3"]
    assert frame[REASON].to_list() == [
        None, None, None, "n is not an integer '1.0'", "n is not an integer '1e3'", "missing n", "missing n",
        "n is not an integer '" + "9" * 19 + "'", "n out of 0-100 '-3'"]


def test_numbers_are_finite_and_in_range_and_a_huge_value_is_shown_cut() -> None:
    texts = ["2.5", "nan", "inf", "-1", "", "x" * 100]
    reasons = pl.DataFrame({"d": texts}).select(first_reason(*number_checks("d", 0, 30)))[REASON].to_list()
    assert reasons == [None, "d is not a number 'nan'", "d is not a number 'inf'", "d out of 0-30 '-1'", None,
                       "d is not a number '" + "x" * 40 + "'"]


def test_the_first_good_row_of_a_key_wins() -> None:
    frame = pl.DataFrame({"k": ["a", "a", "b", "a", None], REASON: ["bad", None, None, None, None]})
    assert refuse_duplicates(frame, "k", "key")[REASON].to_list() == ["bad", None, None, "duplicate key 'a'", None]
