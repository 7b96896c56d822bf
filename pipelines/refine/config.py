"""The `refine:` section of kgrec's configuration: the critic that scores relations."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from kg.config import Section


class ProductTypeRules(Section):
    """How items get product types (`pipelines.refine.product_types`) and item relations derive from them."""

    min_items: int = Field(
        default=3, ge=1, description="Titles a head noun phrase must name to be a product type of its own "
        "(and to split a category that is a shelf of types); rarer phrases give way to the item's IS_A.")
    max_modifier_heads: int = Field(
        default=3, ge=1, description="Distinct head nouns the word before a head may precede and still "
        "form a compound with it (`sleeping bag`); a colour or series name precedes many more.")
    shelf_share: float = Field(
        default=0.5, gt=0, le=1, description="Share of a category's items that frequent head phrases must "
        "cover for the category to be split into those phrases' types.")
    derived_per_type_pair: int = Field(
        default=20, ge=0, description="Item relations derived from one complementary type pair at most "
        "(the best-scored item pairs; `pipelines.refine.derived`).")
    max_derived: int = Field(
        default=20_000, ge=0,
        description="Item relations derived from product-type relations per run at most.")


class RefineSection(Section):
    """The refine stage: the critic that scores relations and the thresholds `kgrec refine` decides by."""

    critic_dir: Path = Field(
        default=Path(".kgrec/critics"),
        description="Where trained critics are saved (<dir>/critic-<hash>/); the newest is used.")
    min_labels: int = Field(
        default=8, ge=2,
        description="Positives and negatives a kind needs before its critic is trained; below it the "
        "kind has no critic and nothing acts on a guess.")
    folds: int = Field(default=5, ge=2, le=20, description="Cross-validation folds of the training report.")
    threshold: float = Field(
        default=0.5, gt=0, lt=1, description="Critic score at or above which a pair is of the kind: "
        "`kgrec refine` keeps a relation scoring at least this for its kind and drops the others.")
    relabel_threshold: float = Field(
        default=0.8, gt=0, lt=1, description="Critic variant score at or above which a relation the "
        "proposer called a complement or substitute becomes VARIANT_OF (both opinions recorded).")
    min_precision: float = Field(
        default=0.5, ge=0, le=1, description="Cross-validated precision a kind's critic needs before "
        "`kgrec refine` lets it drop or keep relations of that kind; below it they are kept as proposed.")
    concept_similarity: float = Field(
        default=0.85, gt=0, le=1, description="Cosine (all-MiniLM-L6-v2) at or above which a commonsense "
        "tail joins a concept as an alias; paraphrases score 0.88-0.96, related but distinct concepts "
        "(living room / bedroom, photography / camera) 0.75-0.83.")
    critic: Path | None = Field(
        default=None, description="A saved critic to score with (a critic-<hash> directory); default "
        "the newest under critic_dir, none when there is none.")
    types: ProductTypeRules = Field(default_factory=ProductTypeRules,
                                    description="Product types: the entity layer.")
    workers: int = Field(default=1, ge=1, description="Ray actors scoring pairs (each loads the encoder).")
    batch_size: int = Field(default=1024, ge=1, description="Answered pairs per scoring batch.")
