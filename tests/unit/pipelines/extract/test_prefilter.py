"""The pre-filter labels obvious variants and nothing else: the word rule, and the learned detector."""

import pytest

from pipelines.extract.prefilter import PREFILTER_VERSION, base_title, variant_answer
from pipelines.refine.titles import TitleModel
from pipelines.refine.variants import VariantDetector


@pytest.mark.parametrize(("title", "base"), [
    ("Meadowlark Essential Camping Lantern, Forest Green", "meadowlark essential camping lantern"),
    ("Bluestem Compact Tent Stakes, Pack of 25", "bluestem compact tent stakes"),
    ("Harbor Lane Running Socks, XL", "harbor lane running socks"),
    ("RAIN MAC PINK", "rain mac"),
    ("Coffee Beans 500 g", "coffee beans"),
    (None, ""),
])
def test_base_title_drops_colour_size_and_pack_words(title: str | None, base: str) -> None:
    assert base_title(title) == base


def item(title: str, category: str = "Camping", price: float = 10.0) -> dict[str, object]:
    return {"title": title, "category": category, "price": price}


# (a, b, variant?): the word rule's cases, which the learned detector must decide the same way.
WORD_RULE_CASES = [
    (item("Lantern, Red"), item("Lantern, Blue", price=12.0), True),
    (item("Lantern, Red"), item("Tent, Red"), False),
    (item("Lantern, Red"), item("Lantern, Blue", category="Garden"), False),
    (item("Stakes, Pack of 5"), item("Stakes, Bulk 200", price=140.0), False),
    (item("Red"), item("Blue"), False),  # nothing left to compare
]


@pytest.mark.parametrize(("a", "b", "variant"), WORD_RULE_CASES)
def test_variants_need_equal_base_titles_same_category_and_close_prices(
        a: dict[str, object], b: dict[str, object], variant: bool) -> None:
    answer = variant_answer(a, b, price_ratio=2.5)
    assert (answer is not None) is variant
    if answer is not None:
        assert answer.relation == "variant" and "pre-filter" in answer.rationale


@pytest.mark.parametrize(("a", "b", "variant"), WORD_RULE_CASES)
def test_the_learned_detector_still_decides_the_word_rule_cases(
        a: dict[str, object], b: dict[str, object], variant: bool) -> None:
    catalog = TitleModel.fit(str(row["title"]) for case in WORD_RULE_CASES for row in case[:2])
    verdict = VariantDetector(catalog, price_ratio=2.5).verdict(a, b)
    assert verdict.is_variant is variant
    assert (verdict.is_variant and verdict.confident) is variant  # what the pre-filter answers
    if variant:
        assert "equal without colour/size/pack words" in verdict.reason


def test_answers_changed_so_the_version_did() -> None:
    assert PREFILTER_VERSION == "prefilter.v2"
