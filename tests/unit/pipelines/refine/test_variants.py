"""The variant detector: title structure, prices, categories, brands, text similarity, the word rule."""

import math
from typing import Any

import pytest

from pipelines.refine.titles import FEATURES, PRIOR_WEIGHT, WORD_PRIOR, TitleModel
from pipelines.refine.variants import (
    BIAS,
    CONFIDENT_THRESHOLD,
    MAX_REASON_CHARS,
    TEXT_PIVOT,
    VARIANT_THRESHOLD,
    W_ATTRIBUTE,
    W_OVERLAP,
    W_PRICE_IN,
    W_SAME_NOUN,
    W_TEXT,
    VariantDetector,
)
from tests.unit.pipelines.refine.catalogs import DESIGNS


@pytest.fixture(scope="module")
def detector() -> VariantDetector:
    return VariantDetector(TitleModel.fit(DESIGNS), price_ratio=2.5)


def item(title: str, price: float | None = 2.0, **kw: Any) -> dict[str, Any]:
    return {"title": title, "price": price, **kw}


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_the_score_is_the_documented_sum_of_log_odds(detector: VariantDetector) -> None:
    verdict = detector.verdict(item("HERB MARKER THYME"), item("HERB MARKER ROSEMARY", 2.2))
    token = (1 + PRIOR_WEIGHT * WORD_PRIOR) / (1 + PRIOR_WEIGHT)  # thyme, rosemary: one title each
    assert verdict.signals["span_attribute"] == pytest.approx(token) and verdict.signals["slot_titles"] == 4
    evidence = 1 - (1 - token) * (1 - (4 - 2) / 4)  # four herbs fill `herb marker *`
    logit = BIAS + W_ATTRIBUTE * evidence + W_SAME_NOUN + W_OVERLAP * (2 / 3 - 0.5) + W_PRICE_IN
    assert verdict.signals["logit"] == pytest.approx(logit) and verdict.score == pytest.approx(sigmoid(logit))
    assert verdict.is_variant and verdict.confident and "4 titles fill the slot" in verdict.reason
    assert list(verdict.signals)[:len(FEATURES)] == list(FEATURES)
    assert verdict.signals["price_within"] == 1.0 and "category_same" not in verdict.signals


def test_a_slot_of_two_titles_is_not_enough_alone_but_text_similarity_can_confirm(
        detector: VariantDetector) -> None:
    alone = detector.verdict(item("DOLLY GIRL BEAKER"), item("SPACEBOY BEAKER"))
    assert alone.signals["slot_titles"] == 2 and alone.is_variant and not alone.confident
    agreed = detector.verdict(item("DOLLY GIRL BEAKER"), item("SPACEBOY BEAKER"), text_similarity=0.9)
    assert agreed.signals["logit"] == pytest.approx(alone.signals["logit"] + W_TEXT * (0.9 - TEXT_PIVOT))
    assert agreed.is_variant and agreed.confident and "text similarity 0.90" in agreed.reason


@pytest.mark.parametrize(("a", "b"), [
    ("ENAMEL METAL DOOR SIGN 4", "ENAMEL METAL DOOR SIGN 9"),
    ("OCEAN SCENT CANDLE IN JEWELLED BOX", "VANILLA SCENT CANDLE IN JEWELLED BOX"),
])
def test_confident_variants_without_colour_words(detector: VariantDetector, a: str, b: str) -> None:
    verdict = detector.verdict(item(a), item(b))
    assert verdict.is_variant and verdict.confident and not verdict.complement_candidate
    assert verdict.reason.startswith("variant (") and "titles differ only in" in verdict.reason
    assert "same product noun" in verdict.reason and len(verdict.reason) <= MAX_REASON_CHARS


@pytest.mark.parametrize(("a", "b"), [
    ("DOLLY GIRL PAPER CUPS", "DOLLY GIRL PAPER PLATES"),
    ("DOLLY GIRL BEAKER", "DOLLY GIRL LUNCH BOX"),
])
def test_a_coordinated_set_is_no_variant_but_a_complement_candidate(detector: VariantDetector, a: str,
                                                                    b: str) -> None:
    verdict = detector.verdict(item(a), item(b))
    assert not verdict.is_variant and verdict.confident and verdict.complement_candidate
    assert verdict.score < 1 - CONFIDENT_THRESHOLD and "product noun differs" in verdict.reason


@pytest.mark.parametrize(("b", "words"), [
    (item("ENAMEL METAL DOOR SIGN 9", 20.0), "prices 10.0x apart"),
    (item("ENAMEL METAL DOOR SIGN 9", category="Kitchen"), "category differs"),
    (item("ENAMEL METAL DOOR SIGN 9", brand="Other"), "brand differs"),
])
def test_price_category_and_brand_disagreement_overrule_the_titles(detector: VariantDetector,
                                                                  b: dict[str, Any], words: str) -> None:
    a = item("ENAMEL METAL DOOR SIGN 4", category="Garden", brand="Acme")
    verdict = detector.verdict(a, b | {k: v for k, v in a.items() if k not in b})
    assert not verdict.is_variant and words in verdict.reason


def test_unknown_side_signals_are_left_out(detector: VariantDetector) -> None:
    verdict = detector.verdict(item("ENAMEL METAL DOOR SIGN 4", None, category=""),
                               item("ENAMEL METAL DOOR SIGN 9", 0.0, category="Garden"))
    assert not {"price_ratio", "price_within", "category_same", "brand_same",
                "text_similarity"} & set(verdict.signals)
    assert verdict.signals["wordlist"] == 0.0 and verdict.score >= VARIANT_THRESHOLD


def test_unrelated_titles_are_confidently_no_variants(detector: VariantDetector) -> None:
    verdict = detector.verdict(item("HERB MARKER THYME"), item("SPACEBOY LUNCH BOX"))
    assert not verdict.is_variant and verdict.confident and not verdict.complement_candidate
    assert verdict.signals["n_spans"] >= 1 and verdict.signals["one_span"] == 0.0


@pytest.mark.parametrize("missing", [None, ""])
def test_a_missing_title_is_unknown_not_a_differing_noun(detector: VariantDetector, missing: str | None) -> None:
    a = item("ENAMEL METAL DOOR SIGN 4", category="Garden", brand="Acme")
    verdict = detector.verdict(a, item(missing, category="Garden", brand="Acme"))
    assert not set(FEATURES) & set(verdict.signals) and "noun differs" not in verdict.reason
    assert verdict.signals["logit"] == pytest.approx(BIAS + W_PRICE_IN + 0.3 + 0.3)  # price, category, brand
    assert not verdict.complement_candidate
