"""Product types, the entity layer (LLM-KERec): which kind of product each item is.

kgrec asks an LLM about pairs of product types ("tent" and "tent stakes") instead of pairs of items,
and derives item relations from the answers, so the questions grow with the types, not the catalog.
Each item gets one type, from the first source that knows it:

1. **category**, where the source has one and the category *is* a product type. A category that is a
   shelf of several product types (the synthetic `Outdoors > Camping` holds tents, stakes and stoves,
   which complement each other) is split by the titles' head noun phrases: when at least two phrases
   each name `min_items` of its items and together cover `shelf_share` of them, those items take their
   phrase and the rest keep the category's last level. A category whose titles share no product noun
   (magazine names) is kept whole.
2. **title**: the head noun phrase from the title alignment of the critic (`TitleModel.head`), with the
   word before the head when the two form a compound (`sleeping bag`, `t-light holder`): the pair heads
   at least `min_items` titles and the word precedes at most `max_modifier_heads` distinct heads (a
   colour or a series name precedes many, a compound's modifier few).
3. **is_a**: the item's canonical IS_A concept, for a title whose phrase names fewer than `min_items`
   items; a rarer phrase is still used when there is no IS_A.

Type texts are lower-cased phrases; `concept_id(PRODUCT_TYPE, text)` is a type's id before refine
joins paraphrases (`mug` / `mugs`) through the concept canonicalization.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import polars as pl

from kg.schema import PRODUCT_TYPE, concept_id
from pipelines.refine.config import ProductTypeRules
from pipelines.refine.titles import TitleModel, is_numeric, tokenize

TYPE_SCHEMA = {"item_id": pl.String, "type_id": pl.String, "type_text": pl.String, "source": pl.String}


def head_phrases(titles: pl.DataFrame, model: TitleModel, rules: ProductTypeRules) -> pl.DataFrame:
    """(item_id, phrase): each titled item's head noun phrase; items without a head are left out."""
    heads: list[tuple[str, str, str | None]] = []
    for item_id, title in titles.select("item_id", "title").iter_rows():
        tokens = tokenize(title)
        at = model.head(tokens)
        if at is None:
            continue
        before = tokens.tokens[at - 1] if at > 0 and not is_numeric(tokens.tokens[at - 1]) else None
        heads.append((item_id, tokens.tokens[at], before))
    pair_titles = Counter((head, before) for _, head, before in heads if before is not None)
    modified: defaultdict[str, set[str]] = defaultdict(set)
    for _, head, before in heads:
        if before is not None:
            modified[before].add(head)
    rows = []
    for item_id, head, before in heads:
        compound = (before is not None and pair_titles[(head, before)] >= rules.min_items
                    and len(modified[before]) <= rules.max_modifier_heads)
        rows.append((item_id, f"{before} {head}" if compound else head))
    return pl.DataFrame(rows, schema={"item_id": pl.String, "phrase": pl.String}, orient="row")


def assign_types(items: pl.DataFrame, model: TitleModel, rules: ProductTypeRules,
                 is_a: pl.DataFrame | None = None) -> pl.DataFrame:
    """One product type per item that any source types (`TYPE_SCHEMA`), sorted by item id.

    `items` has item_id, title, category; `is_a` (item_id, text) the items' canonical IS_A concept
    texts. Items no source types (no category, no usable title, no IS_A) are left out.
    """
    phrases = head_phrases(items.filter(pl.col("title").is_not_null()), model, rules)
    frame = items.select("item_id", "category").join(phrases, on="item_id", how="left")
    if is_a is not None:
        frame = frame.join(is_a.select("item_id", pl.col("text").alias("is_a")).unique("item_id"),
                           on="item_id", how="left")
    else:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("is_a"))
    leaf = pl.col("category").str.split(">").list.last().str.strip_chars().str.to_lowercase()
    frame = frame.with_columns(leaf.alias("leaf"), pl.len().over("phrase").alias("phrase_items"))
    shelf = _shelf_phrases(frame, rules)
    frame = frame.join(shelf, on=["category", "phrase"], how="left")
    from_title = pl.col("phrase").is_not_null() & (pl.col("phrase_items") >= rules.min_items)
    typed = frame.with_columns(
        pl.when(pl.col("shelf_type")).then(pl.col("phrase"))
        .when(pl.col("leaf").is_not_null() & (pl.col("leaf") != "")).then(pl.col("leaf"))
        .when(from_title).then(pl.col("phrase"))
        .when(pl.col("is_a").is_not_null()).then(pl.col("is_a"))
        .otherwise(pl.col("phrase")).alias("type_text"),
        pl.when(pl.col("shelf_type")).then(pl.lit("title"))
        .when(pl.col("leaf").is_not_null() & (pl.col("leaf") != "")).then(pl.lit("category"))
        .when(from_title).then(pl.lit("title"))
        .when(pl.col("is_a").is_not_null()).then(pl.lit("is_a"))
        .otherwise(pl.lit("title")).alias("source"),
    ).filter(pl.col("type_text").is_not_null() & (pl.col("type_text") != ""))
    ids = [concept_id(PRODUCT_TYPE, text) for text in typed["type_text"].to_list()]
    return (typed.with_columns(pl.Series("type_id", ids, dtype=pl.String))
            .select(list(TYPE_SCHEMA)).sort("item_id"))


def _shelf_phrases(frame: pl.DataFrame, rules: ProductTypeRules) -> pl.DataFrame:
    """(category, phrase, shelf_type=True) for the phrases that split a category holding several types."""
    counted = (frame.filter(pl.col("category").is_not_null() & pl.col("phrase").is_not_null())
               .group_by("category", "phrase").agg(pl.len().alias("n"))
               .with_columns(pl.col("n").sum().over("category").alias("category_items")))
    frequent = counted.filter(pl.col("n") >= rules.min_items)
    shelves = (frequent.group_by("category")
               .agg(pl.len().alias("phrases"), (pl.col("n").sum() / pl.col("category_items").first())
                    .alias("covered"))
               .filter((pl.col("phrases") >= 2) & (pl.col("covered") >= rules.shelf_share)))
    return (frequent.join(shelves.select("category"), on="category", how="semi")
            .select("category", "phrase", pl.lit(True).alias("shelf_type")))
