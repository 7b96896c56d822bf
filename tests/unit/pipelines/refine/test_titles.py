"""Title structure learned from tiny hand-written catalogs: attribute values, head nouns, alignments."""

import random
import time

import pytest

from pipelines.refine.titles import (
    ATTRIBUTE_CUT,
    FEATURE_VERSION,
    FEATURES,
    NUMBER_PRIOR,
    PRIOR_WEIGHT,
    WORD_PRIOR,
    TitleModel,
    tokenize,
)
from tests.unit.pipelines.refine.catalogs import DESIGNS, GROCERY


@pytest.fixture(scope="module")
def designs() -> TitleModel:
    return TitleModel.fit(DESIGNS)


@pytest.fixture(scope="module")
def grocery() -> TitleModel:
    return TitleModel.fit(GROCERY)


@pytest.mark.parametrize(("title", "tokens", "head_len"), [
    ("HEART T-LIGHT HOLDER, Willie Winkie", ("heart", "t-light", "holder", "willie", "winkie"), 3),
    ("Poppy's Playhouse (Kitchen)", ("poppy's", "playhouse", "kitchen"), 2),
    ("Coffee Beans 1.5kg", ("coffee", "beans", "1.5kg"), 2),
    ("LUNCH BAG  BLACK SKULL.", ("lunch", "bag", "black", "skull"), 4),
    ("SET/6 RED SPOTTY - PAPER CUPS", ("set", "6", "red", "spotty", "paper", "cups"), 4),
    ("DOOR SIGN 4", ("door", "sign", "4"), 2),
    ("42", ("42",), 1),
    (" .. ", (), 0),
    (None, (), 0),
])
def test_tokenize_folds_case_keeps_words_and_numbers_and_marks_the_noun_segment(
        title: str | None, tokens: tuple[str, ...], head_len: int) -> None:
    got = tokenize(title)
    assert got.tokens == tokens and got.head_len == head_len


def test_attribute_values_are_learned_from_a_catalog_without_colour_words(designs: TitleModel) -> None:
    for value in ("thyme", "rosemary", "dolly", "girl", "spaceboy", "ocean", "vanilla", "4", "9"):
        assert designs.attribute_score(value) >= ATTRIBUTE_CUT, value
    for part in ("herb", "marker", "scent", "candle", "t-light", "holder", "enamel", "sign"):
        assert designs.attribute_score(part) < ATTRIBUTE_CUT, part
    # one title, a filler there: (1 + PRIOR_WEIGHT * WORD_PRIOR) / (1 + PRIOR_WEIGHT)
    assert designs.attribute_score("thyme") == pytest.approx((1 + PRIOR_WEIGHT * WORD_PRIOR) / (1 + PRIOR_WEIGHT))
    assert designs.attribute_score("never-seen") == WORD_PRIOR
    assert designs.attribute_score("37") == NUMBER_PRIOR


@pytest.mark.parametrize(("title", "noun"), [
    ("HERB MARKER THYME", "marker"), ("DOLLY GIRL PAPER CUPS", "cups"), ("SPACEBOY PAPER PLATES", "plates"),
    ("DOLLY GIRL BEAKER", "beaker"), ("SPACEBOY LUNCH BOX", "box"), ("ENAMEL METAL DOOR SIGN 9", "sign"),
    ("HANGING HEART T-LIGHT HOLDER", "holder"),
])
def test_head_nouns_are_learned_from_the_catalog(designs: TitleModel, title: str, noun: str) -> None:
    parsed = tokenize(title)
    head = designs.head(parsed)
    assert head is not None and parsed.tokens[head] == noun


def test_an_attribute_swap_beside_the_same_noun(designs: TitleModel) -> None:
    herbs = designs.align("HERB MARKER THYME", "HERB MARKER ROSEMARY")
    assert herbs.one_span and not herbs.insertion and herbs.position == "tail"
    assert herbs.differing() == [(("thyme",), ("rosemary",))]
    assert herbs.same_noun and herbs.noun_a == "marker" and not herbs.differs_in_noun
    assert herbs.span_attribute >= ATTRIBUTE_CUT and herbs.jaccard == pytest.approx(2 / 4)

    beakers = designs.align("DOLLY GIRL BEAKER", "SPACEBOY BEAKER")
    assert beakers.one_span and beakers.position == "head" and beakers.same_noun
    assert beakers.differing() == [(("dolly", "girl"), ("spaceboy",))]

    signs = designs.align("ENAMEL METAL DOOR SIGN 4", "ENAMEL METAL DOOR SIGN 9")
    assert signs.one_span and signs.span_numeric and signs.same_noun and signs.noun_a == "sign"


def test_slot_titles_count_the_catalog_titles_filling_the_pairs_template(designs: TitleModel) -> None:
    assert designs.align("HERB MARKER THYME", "HERB MARKER MINT").slot_titles == 4
    assert designs.align("ENAMEL METAL DOOR SIGN 4", "ENAMEL METAL DOOR SIGN 7").slot_titles == 3
    assert designs.align("DOLLY GIRL BEAKER", "SPACEBOY BEAKER").slot_titles == 2
    assert designs.align("HERB MARKER", "HERB MARKER THYME").slot_titles == 0  # an insertion
    assert designs.align("HERB POT THYME", "HERB POT MINT").slot_titles == 0  # a template never seen


def test_a_swap_of_the_product_noun_is_not_an_attribute_swap(designs: TitleModel) -> None:
    cups = designs.align("DOLLY GIRL PAPER CUPS", "DOLLY GIRL PAPER PLATES")
    assert cups.one_span and cups.position == "tail" and cups.differs_in_noun and not cups.same_noun
    assert (cups.noun_a, cups.noun_b) == ("cups", "plates")
    assert cups.shared_attribute >= ATTRIBUTE_CUT  # the shared design: a coordinated set
    box = designs.align("DOLLY GIRL BEAKER", "DOLLY GIRL LUNCH BOX")
    assert box.one_span and box.differs_in_noun and box.differing() == [(("beaker",), ("lunch", "box"))]


@pytest.mark.parametrize(("a", "b", "noun", "differs_in_noun"), [
    ("Organic Whole Milk 1L", "Organic Whole Milk 2L", "milk", False),
    ("Strawberry Jam 340g", "Raspberry Jam 340g", "jam", False),
    ("Cheddar Cheese Mild 400g", "Cheddar Cheese Mature 400g", "cheese", False),
    ("Salted Butter 250g", "Unsalted Butter 250g", "butter", False),
    ("Strawberry Jam 340g", "Strawberry Yogurt 500g", None, True),
    ("Tomato Ketchup 500ml", "Mayonnaise 500ml", None, True),
])
def test_a_grocery_catalog(grocery: TitleModel, a: str, b: str, noun: str | None, differs_in_noun: bool) -> None:
    alignment = grocery.align(a, b)
    assert alignment.differs_in_noun is differs_in_noun
    assert alignment.same_noun is (noun is not None)
    if noun is not None:
        assert alignment.noun_a == alignment.noun_b == noun


def test_the_first_segment_holds_the_noun() -> None:
    model = TitleModel.fit([f"{line} {noun}, {value}" for line in ("Meadowlark Essential", "Bluestem Compact")
                            for noun in ("Lantern", "Tent") for value in ("Forest Green", "Navy Blue", "Sand")])
    variant = model.align("Meadowlark Essential Lantern, Forest Green", "Meadowlark Essential Lantern, Sand")
    assert variant.one_span and variant.same_noun and variant.noun_a == "lantern"
    other = model.align("Meadowlark Essential Lantern, Sand", "Meadowlark Essential Tent, Sand")
    assert other.differs_in_noun and (other.noun_a, other.noun_b) == ("lantern", "tent")


def test_insertions_several_places_and_equal_titles(designs: TitleModel) -> None:
    inserted = designs.align("HERB MARKER", "HERB MARKER THYME")
    assert inserted.insertion and not inserted.one_span and inserted.position == "tail"
    several = designs.align("OCEAN SCENT CANDLE IN JEWELLED BOX", "VANILLA SCENT CANDLE IN TIN BOX")
    assert len(several.spans) == 2 and not several.one_span and several.position == "none"
    same = designs.align("Herb marker thyme", "HERB MARKER THYME!")
    assert same.spans == () and same.same_noun and same.jaccard == 1.0
    nothing = designs.align(None, "")
    assert nothing.spans == () and nothing.noun_a is None and not nothing.same_noun


def test_features_are_the_documented_ordered_set(designs: TitleModel) -> None:
    features = designs.align("HERB MARKER THYME", "HERB MARKER ROSEMARY").features()
    assert list(features) == list(FEATURES) and FEATURE_VERSION == "titles.v1"
    assert features["one_span"] == 1.0 and features["pos_tail"] == 1.0 and features["pos_head"] == 0.0
    assert features["span_tokens"] == 1.0 and features["overlap"] == pytest.approx(2 / 3)
    assert all(isinstance(value, float) for value in features.values())


def test_a_catalog_it_has_never_seen_still_aligns(designs: TitleModel) -> None:
    alignment = designs.align("Strawberry Jam 340g", "Raspberry Jam 340g")
    assert alignment.one_span and alignment.position == "head"
    assert alignment.span_attribute == WORD_PRIOR  # unseen tokens: the prior, no more


def test_fit_counts_distinct_titles_and_does_not_depend_on_order() -> None:
    assert TitleModel.fit(["Herb marker", "HERB MARKER!", None, "", "  "]).stats.titles == 1
    assert TitleModel.fit([]).stats.titles == 0
    shuffled = DESIGNS[::-1]
    a, b = TitleModel.fit(DESIGNS), TitleModel.fit(shuffled)
    tokens = {token for title in DESIGNS for token in tokenize(title).tokens}
    assert all(a.attribute_score(t) == b.attribute_score(t) and a.noun_score(t) == b.noun_score(t) for t in tokens)
    assert a.stats == b.stats


def test_fitting_50k_titles_takes_seconds() -> None:
    rng = random.Random(0)
    words = [f"w{i}" for i in range(3000)]
    titles = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 7))) + f" n{i % 200}" for i in range(50_000)]
    started = time.perf_counter()
    model = TitleModel.fit(titles)
    assert time.perf_counter() - started < 15.0  # 1.1-1.6 s measured on the 2-core dev machine
    assert model.stats.titles == 50_000 and model.stats.templates > 500_000
