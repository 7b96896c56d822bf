"""The title pre-filter labels obvious variants and nothing else."""

import pytest

from pipelines.extract.prefilter import base_title, variant_answer


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


def test_variants_need_equal_base_titles_same_category_and_close_prices() -> None:
    answer = variant_answer(item("Lantern, Red"), item("Lantern, Blue", price=12.0), price_ratio=2.5)
    assert answer is not None and answer.relation == "variant" and "pre-filter" in answer.rationale
    assert variant_answer(item("Lantern, Red"), item("Tent, Red"), 2.5) is None
    assert variant_answer(item("Lantern, Red"), item("Lantern, Blue", category="Garden"), 2.5) is None
    assert variant_answer(item("Stakes, Pack of 5"), item("Stakes, Bulk 200", price=140.0), 2.5) is None
    assert variant_answer(item("Red"), item("Blue"), 2.5) is None  # nothing left to compare
