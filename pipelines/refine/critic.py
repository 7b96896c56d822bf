"""The critic (COSMO): for each relation kind, a classifier of whether a pair is of that kind.

One binary classifier per kind (complement, substitute, variant), trained on the pair features
of `pipelines.refine.features` from labels (`pipelines.refine.labels`): curators' decisions
speak of one kind at a time, so a kind is learned from the labels that speak of it. The model
is scikit-learn's logistic regression behind median imputation (missing prices, pairs never
co-purchased, pairs without an LLM answer) and scaling: with tens to hundreds of labels it is
stable, and its probabilities are calibrated without a held-out calibration split.

A kind with fewer than `min_labels` positives or negatives is not trained: the manifest says
so and `Critic.scores` gives no score for it, so nothing downstream acts on a guess.
Cross-validated precision and recall (out-of-fold scores at `threshold`) are in the manifest.

A saved critic is `<root>/critic-<hash>/` with `model.pkl` and `manifest.json`; the hash is
of the pickled models and goes into every relation it scores. Loading refuses a critic made
for another feature version. The pickle is code: load only critics you trained.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import Field

from kg.errors import ConfigError, InputDataError, reading
from kg.schema import KgrecModel
from pipelines.refine.labels import KINDS, LabelSet

MANIFEST = "manifest.json"
MODEL = "model.pkl"


class KindReport(KgrecModel):
    """How one kind's classifier was trained, and how well it did out of fold."""

    kind: str
    positives: int
    negatives: int
    trained: bool
    reason: str | None = Field(default=None, description="Why it was not trained, when it was not.")
    precision: float | None = Field(default=None, description="Out-of-fold precision at the threshold.")
    recall: float | None = Field(default=None, description="Out-of-fold recall at the threshold.")


class CriticManifest(KgrecModel):
    """What a saved critic is: its version hash, the features it expects, its training report."""

    version: str = Field(description="'critic-' + a hash of the pickled models.")
    feature_version: str
    features: list[str]
    threshold: float
    folds: int
    kinds: list[KindReport]
    trained_at: datetime
    labels: list[str] = Field(description="The labels files it was trained from.")


class Critic:
    """Trained classifiers by kind, with the manifest that says how they were made."""

    def __init__(self, models: dict[str, Any], manifest: CriticManifest) -> None:
        self.models = models
        self.manifest = manifest

    def scores(self, features: pl.DataFrame) -> pl.DataFrame:
        """`critic_<kind>` probabilities for each row of `features`, for the trained kinds only.

        Raises:
            InputDataError: `features` lacks a column this critic was trained on.
        """
        missing = [name for name in self.manifest.features if name not in features.columns]
        if missing:
            raise InputDataError("pair features", f"lack {', '.join(missing)} ({self.manifest.version} "
                                 f"expects feature version {self.manifest.feature_version})")
        matrix = feature_matrix(features, self.manifest.features)
        return pl.DataFrame({f"critic_{kind}": model.predict_proba(matrix)[:, 1].astype(np.float64)
                             for kind, model in self.models.items()})


def feature_matrix(features: pl.DataFrame, names: list[str]) -> np.ndarray:
    """float64 `[rows, len(names)]` of the `names` columns in order, nulls as NaN (the imputer fills them)."""
    return features.select([pl.col(n).cast(pl.Float64).fill_null(np.nan) for n in names]).to_numpy()


def _estimator(seed: int) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                         LogisticRegression(C=1.0, max_iter=2000, random_state=seed))


def kind_data(features: pl.DataFrame, labels: LabelSet, kind: str,
              names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of one kind: the labeled pairs' feature rows and their 0/1 labels, in pair order."""
    rows = labels.of_kind(kind).join(features, on=["a", "b"], how="inner")
    return feature_matrix(rows, names), rows["positive"].cast(pl.Int64).to_numpy()


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: int, seed: int,
                max_train: int | None = None) -> np.ndarray:
    """Out-of-fold probabilities: each row scored by a model that never saw it.

    `max_train` caps the labels each fold trains on (a random subset, stratified by label),
    for learning curves and the "at most N labels" measurement.
    """
    from sklearn.model_selection import StratifiedKFold, train_test_split

    scores = np.full(len(y), np.nan)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        if max_train is not None and len(train) > max_train:
            train, _ = train_test_split(train, train_size=max_train, stratify=y[train], random_state=seed)
        scores[test] = _estimator(seed).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    return scores


def precision_recall(y: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[float, float]:
    """Precision and recall of `scores >= threshold` against `y` (precision 0 when nothing is kept)."""
    kept = scores >= threshold
    true_positive = int((kept & (y == 1)).sum())
    return (true_positive / int(kept.sum()) if kept.any() else 0.0,
            true_positive / int((y == 1).sum()) if (y == 1).any() else 0.0)


def train_critic(features: pl.DataFrame, labels: LabelSet, names: list[str], feature_version: str, *,
                 min_labels: int = 8, folds: int = 5, threshold: float = 0.5, seed: int = 0,
                 sources: list[str] | None = None) -> Critic:
    """A critic trained on every labeled pair found in `features` (columns a, b and `names`).

    Each kind with at least `min_labels` positives and negatives is cross-validated (`folds`
    stratified folds, fewer when a kind has fewer labels) and then fit on all its labels.
    """
    models: dict[str, Any] = {}
    reports = []
    for kind in KINDS:
        x, y = kind_data(features, labels, kind, names)
        positives, negatives = int(y.sum()), int(len(y) - y.sum())
        if min(positives, negatives) < min_labels:
            reports.append(KindReport(kind=kind, positives=positives, negatives=negatives, trained=False,
                                      reason=f"needs {min_labels} positives and negatives"))
            continue
        precision, recall = precision_recall(y, out_of_fold(x, y, min(folds, positives, negatives), seed),
                                             threshold)
        models[kind] = _estimator(seed).fit(x, y)
        reports.append(KindReport(kind=kind, positives=positives, negatives=negatives, trained=True,
                                  precision=round(precision, 4), recall=round(recall, 4)))
    version = "critic-" + hashlib.sha256(pickle.dumps(models)).hexdigest()[:16]
    manifest = CriticManifest(version=version, feature_version=feature_version, features=names,
                              threshold=threshold, folds=folds, kinds=reports, trained_at=datetime.now(UTC),
                              labels=sources or [])
    return Critic(models, manifest)


def save_critic(critic: Critic, root: Path) -> Path:
    """Write `<root>/<version>/`; the manifest goes last, so a directory with one is complete."""
    out = root / critic.manifest.version
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL).write_bytes(pickle.dumps(critic.models))
    (out / MANIFEST).write_text(critic.manifest.model_dump_json(indent=2))
    return out


def load_critic(path: Path, feature_version: str) -> Critic:
    """The critic saved in `path`.

    Raises:
        ConfigError: it is incomplete, or made for another feature version (its scores would
            be of other features).
    """
    if not (path / MANIFEST).is_file() or not (path / MODEL).is_file():
        raise ConfigError(f"{path} is not a saved critic (no {MANIFEST} or {MODEL}); pass a directory "
                          "`kgrec refine train-critic` saved (under refine.critic_dir), or leave --critic "
                          "out for the newest there")
    with reading(path / MANIFEST, "a critic's manifest", "train it again (`kgrec refine train-critic`)"):
        manifest = CriticManifest.model_validate(json.loads((path / MANIFEST).read_text()))
    if manifest.feature_version != feature_version:
        raise ConfigError(f"{path}: critic made for feature version {manifest.feature_version}, this "
                          f"kgrec computes {feature_version}; train it again (`kgrec refine train-critic`)")
    return Critic(pickle.loads((path / MODEL).read_bytes()), manifest)


def newest_manifest(root: Path) -> tuple[Path, CriticManifest] | None:
    """The newest complete critic under `root` (by training time) and its manifest; None without one."""
    saved = [p for p in root.glob("critic-*") if (p / MANIFEST).is_file()] if root.is_dir() else []
    manifests = [(path, CriticManifest.model_validate_json((path / MANIFEST).read_text())) for path in saved]
    return max(manifests, key=lambda found: found[1].trained_at, default=None)


def latest_critic(root: Path, feature_version: str) -> Critic | None:
    """The newest complete critic under `root` (by training time), or None when there is none."""
    newest = newest_manifest(root)
    return load_critic(newest[0], feature_version) if newest else None
