"""Product types: category where it is one, a shelf split by head noun phrase, title compounds, IS_A."""

import polars as pl

from kg.schema import PRODUCT_TYPE, concept_id
from pipelines.refine.config import ProductTypeRules
from pipelines.refine.product_types import assign_types
from pipelines.refine.titles import TitleModel
from pipelines.synth.catalog import build_catalog
from pipelines.synth.knowledge import PRODUCT_TYPES

RULES = ProductTypeRules(min_items=2)


def _items(rows: list[tuple[str, str | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"item_id": pl.String, "title": pl.String, "category": pl.String},
                        orient="row")


def _types(items: pl.DataFrame, is_a: pl.DataFrame | None = None) -> dict[str, tuple[str, str]]:
    typed = assign_types(items, TitleModel.fit(items["title"].to_list()), RULES, is_a)
    return {row["item_id"]: (row["type_text"], row["source"]) for row in typed.iter_rows(named=True)}


def test_a_category_of_one_kind_of_product_is_the_type() -> None:
    # magazine titles are names: no shared head noun, so the category's last level is the type
    items = _items([("m1", "Fine Homebuilding", "Magazines > Trade > Construction"),
                    ("m2", "Concrete Quarterly", "Magazines > Trade > Construction"),
                    ("m3", "The Architect's Journal", "Magazines > Trade > Construction")])
    assert set(_types(items).values()) == {("construction", "category")}


def test_a_category_that_is_a_shelf_of_types_is_split_by_head_noun_phrase() -> None:
    items = _items([("t1", "Northpeak Dome Tent, Small", "Outdoors > Camping"),
                    ("t2", "Northpeak Dome Tent, Large", "Outdoors > Camping"),
                    ("t3", "Redcliff Dome Tent, Small", "Outdoors > Camping"),
                    ("s1", "Northpeak Tent Stakes, Pack of 10", "Outdoors > Camping"),
                    ("s2", "Redcliff Tent Stakes, Pack of 25", "Outdoors > Camping"),
                    ("x1", "Camp Chair", "Outdoors > Camping")])
    types = _types(items)
    assert types["t1"] == types["t2"] == types["t3"] == ("dome tent", "title")
    assert types["s1"] == types["s2"] == ("tent stakes", "title")
    assert types["x1"] == ("camping", "category")  # a phrase too rare to split off keeps the shelf's level


def test_without_a_category_a_rare_title_phrase_gives_way_to_the_items_is_a() -> None:
    items = _items([("a", "RED RETROSPOT LUNCH BAG", None), ("b", "PINK POLKADOT LUNCH BAG", None),
                    ("c", "VINTAGE DOILY DOORSTOP", None), ("d", None, None)])
    is_a = pl.DataFrame({"item_id": ["c", "d"], "text": ["door stop", "gift"]})
    types = _types(items, is_a)
    assert types["a"] == types["b"] == ("lunch bag", "title")
    assert types["c"] == ("door stop", "is_a")
    assert types["d"] == ("gift", "is_a")  # no title at all: IS_A is all there is
    assert _types(items)["c"] == ("doorstop", "title")  # no IS_A: the rare phrase still types it


def test_type_ids_are_product_type_concepts() -> None:
    items = _items([("a", "Lunch Bag Red", None), ("b", "Lunch Bag Blue", None)])
    typed = assign_types(items, TitleModel.fit(items["title"].to_list()), RULES)
    assert typed["type_id"].to_list() == [concept_id(PRODUCT_TYPE, "lunch bag")] * 2


def test_synthetic_items_map_to_their_true_product_types() -> None:
    catalog = build_catalog(seed=0, lines_per_type=4, variants_per_line=3)
    items = pl.from_arrow(catalog.items)
    assert isinstance(items, pl.DataFrame)
    truth = [PRODUCT_TYPES[n // 12].key for n in range(items.height)]
    typed = assign_types(items, TitleModel.fit(items["title"].to_list()), ProductTypeRules()).with_columns(
        pl.Series("truth", truth))
    # purity: each found type holds one true type; a true type is split at most into a few found ones
    assert typed.group_by("type_id").agg(pl.col("truth").n_unique())["truth"].max() == 1
    assert typed["type_id"].n_unique() <= len(PRODUCT_TYPES) + 5
