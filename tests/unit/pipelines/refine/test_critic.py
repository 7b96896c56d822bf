"""The critic learns each kind from its labels, reports out-of-fold figures and refuses what it cannot use."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from kg.errors import ConfigError, InputDataError
from pipelines.refine.critic import latest_critic, load_critic, save_critic, train_critic
from pipelines.refine.labels import LabelSet

NAMES = ["signal", "noise"]


def _data(n: int = 80, seed: int = 0) -> tuple[pl.DataFrame, LabelSet]:
    """`signal` tells complements (high) from the rest; variants have too few labels to learn."""
    rng = np.random.default_rng(seed)
    positive = np.arange(n) % 2 == 0
    features = pl.DataFrame({"a": [f"a{i}" for i in range(n)], "b": [f"b{i}" for i in range(n)],
                             "signal": np.where(positive, 2.0, -2.0) + rng.normal(0, 0.5, n),
                             "noise": rng.normal(0, 1, n)})
    features = features.with_columns(pl.when(pl.int_range(n) == 3).then(None).otherwise(pl.col("signal"))
                                     .alias("signal"))  # a missing value is imputed, not an error
    rows = pl.DataFrame({"a": features["a"], "b": features["b"], "kind": "complement",
                         "positive": positive, "source": "t.csv"})
    few = rows.head(5).with_columns(pl.lit("variant").alias("kind"))
    return features, LabelSet(pl.concat([rows, few]))


def test_a_learnable_kind_is_trained_and_a_kind_with_few_labels_is_not(tmp_path: Path) -> None:
    features, labels = _data()
    critic = train_critic(features, labels, NAMES, "v1", min_labels=8, folds=5)
    reports = {k.kind: k for k in critic.manifest.kinds}
    assert reports["complement"].trained and reports["complement"].precision > 0.9
    assert reports["complement"].recall > 0.9
    assert not reports["variant"].trained and "needs 8 positives" in (reports["variant"].reason or "")
    assert not reports["substitute"].trained and reports["substitute"].positives == 0
    scores = critic.scores(features)
    assert scores.columns == ["critic_complement"]  # no score for kinds without a critic
    assert (scores["critic_complement"].to_numpy()[::2] > 0.5).mean() > 0.9


def test_a_saved_critic_loads_with_its_version_and_refuses_other_features(tmp_path: Path) -> None:
    features, labels = _data()
    critic = train_critic(features, labels, NAMES, "v1")
    path = save_critic(critic, tmp_path)
    assert path.name == critic.manifest.version and path.name.startswith("critic-")
    again = latest_critic(tmp_path, "v1")
    assert again is not None and again.manifest.version == critic.manifest.version
    assert np.allclose(again.scores(features)["critic_complement"], critic.scores(features)["critic_complement"])
    with pytest.raises(ConfigError, match="feature version v1, this kgrec computes v2"):
        load_critic(path, "v2")
    with pytest.raises(InputDataError, match="lack noise"):
        critic.scores(features.drop("noise"))
    assert latest_critic(tmp_path / "none", "v1") is None


def test_same_labels_same_critic() -> None:
    features, labels = _data()
    first = train_critic(features, labels, NAMES, "v1")
    assert train_critic(features, labels, NAMES, "v1").manifest.version == first.manifest.version
