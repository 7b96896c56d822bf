"""The `ctr:` section of kgrec's configuration: the CTR evaluation (`kgrec eval ctr`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from kg.config import Section
from kg.schema import EventType


class CtrSection(Section):
    """The CTR evaluation (`kgrec eval ctr`): rankers with and without kgrec embeddings."""

    movielens_dir: Path = Field(default=Path("../shared/data/movielens_latest_small"),
                                description="MovieLens latest-small: ratings.csv and movies.csv.")
    online_retail_path: Path = Field(default=Path("../shared/data/online_retail/online_retail.parquet"),
                                     description="UCI Online Retail as one Parquet file.")
    instacart_dir: Path = Field(default=Path("../shared/data/instacart_sample"),
                                description="Instacart's tables (orders.csv, order_products__*.csv, "
                                "products.csv, aisles.csv, departments.csv) in one directory.")
    seeds: list[int] = Field(default_factory=lambda: [1, 2, 3], min_length=3,
                             description="One training per seed, arm and model; spread is over these.")
    epochs: int = Field(default=2, ge=1, description="Passes over the training split.")
    batch_size: int = Field(default=1_024, ge=1, description="Training batch size.")
    embedding_dim: int = Field(default=16, ge=2, description="Id embedding size in the rankers.")
    learning_rate: float = Field(default=1e-3, gt=0, description="Adam learning rate.")
    pretrained_dropout: float = Field(
        default=0.3, ge=0, lt=1,
        description="Dropout on the projected pretrained vectors (text, kgrec) while training; "
        "keeps a ranker from leaning on them alone (serving.ctr.models).")
    history_length: int = Field(default=20, ge=1,
                                description="DIN: the user's most recent positive items before each sample.")
    test_fraction: float = Field(default=0.2, gt=0, lt=1,
                                 description="Latest share of samples (by time) held out for testing.")
    negatives: int = Field(default=4, ge=1,
                           description="Next-basket data: sampled non-bought items per bought one.")
    embedding_versions: int = Field(
        default=4, ge=1,
        description="kgrec arm: embedding exports spread over the training window (plus one at the "
        "test split); each sample reads the latest one made before it, as a ranker reading the "
        "live cache would (serving.ctr.versions).")
    max_baskets: int = Field(
        default=3_000, ge=100,
        description="Next-basket data: latest baskets used (keeps a run to minutes on a laptop).")
    positive_events: list[EventType] = Field(
        default_factory=lambda: [EventType.CLICK, EventType.ADD_TO_CART, EventType.PURCHASE],
        min_length=1,
        description="`events` data (what `kgrec run` evaluates on): event types that count as a "
        "click; other events (views, low ratings) are not used.")
