"""CTR samples from canonical event and item tables, split by time: rated clicks and next baskets.

The tables are kgrec's canonical `events` and `items` (`kg.schema`); the caller makes them
(`pipelines.steps.ctr` runs the ingest adapters on MovieLens and Online Retail, or reads an
ingest output), so the evaluation sees the same canonical events the pipeline does and this
package never reads a raw format.

- Ratings (MovieLens): every rating is a sample; label 1 when the rating is >= 4 (the adapter's
  `click`). History: the user's last `history_length` clicks strictly before the sample.
- Baskets (Online Retail, Instacart, `events`): each basket (the session, else the user's day) of the
  latest `max_baskets` is a next-basket task: its items are positives, `negatives` items per
  positive are sampled uniformly from the items of the window that the basket lacks.
  History: items of the user's earlier baskets, newest last.

The split is chronological: the latest `test_fraction` of samples (by time) is the test set.
Ids are indexed from the training split only (index 0 = unseen/padding), so a test id never
seen in training carries no learned id embedding, as in production.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import polars as pl

from kg.errors import InputDataError
from serving.ctr.config import CtrSection

Dataset = Literal["movielens", "online-retail", "instacart", "events"]
DATA_SEED = 0  # negatives are sampled once: every arm and model seed sees the same samples


@dataclass(frozen=True)
class Samples:
    """Row-aligned arrays: user/item indices, history [n, L] (0-padded, newest last), label, time.

    `ts` (int64 microseconds since the epoch) is when the sample happened: point-in-time
    features (`version`) are chosen from it. `version` is 0 until `ctr_step` assigns each
    sample the embedding export it may see (`serving.ctr.versions`).
    """

    user: np.ndarray
    item: np.ndarray
    history: np.ndarray
    label: np.ndarray
    ts: np.ndarray
    version: np.ndarray


@dataclass(frozen=True)
class CtrData:
    """One dataset ready for training: vocabularies, item text, categories, splits."""

    name: Dataset
    user_ids: list[str]  # index i+1 <-> user_ids[i]
    item_ids: list[str]
    item_text: list[str]  # aligned with item_ids
    item_category: np.ndarray  # int64 [len(item_ids) + 1]; 0 = none
    n_categories: int  # including 0
    cutoff: datetime  # first test timestamp; embeddings for the kgrec arm must predate it
    train_events: pl.DataFrame  # user_id, item_id, ts: positive interactions before the cutoff
    train: Samples
    test: Samples


def _histories(users: list[str], items: list[str], positive: list[bool], length: int,
               group: list[object] | None = None) -> list[list[str]]:
    """Per row (in time order), the user's last `length` positives from earlier rows/groups."""
    recent: dict[str, deque[str]] = {}
    pending: dict[str, list[str]] = {}
    last_group: dict[str, object] = {}
    out = []
    for n, (user, item, pos) in enumerate(zip(users, items, positive, strict=True)):
        queue = recent.setdefault(user, deque(maxlen=length))
        key = group[n] if group is not None else n
        if last_group.get(user, key) != key:  # a new basket: the previous one becomes history
            queue.extend(pending.pop(user, []))
        last_group[user] = key
        out.append(list(queue))
        if pos:
            pending.setdefault(user, []).append(item)
            if group is None:
                queue.extend(pending.pop(user))
    return out


def rating_samples(events: pl.DataFrame, items: pl.DataFrame, settings: CtrSection) -> CtrData:
    """Every rated event a sample, label 1 for a `click` (a high rating); `items` has title, category.

    `events` holds canonical events (user_id, item_id, ts, event_type) in any order.
    """
    frame = events.sort("ts", "user_id").select(
        "user_id", "item_id", "ts", (pl.col("event_type") == "click").alias("label"))
    return _build("movielens", frame, items, settings, group=None)


def positive_lines(events: pl.DataFrame, settings: CtrSection, source: str) -> pl.DataFrame:
    """The events of `settings.positive_events`, each with a basket: its session, else the user's day.

    Raises:
        InputDataError: `source` (named in the message) has no such event.
    """
    lines = events.filter(pl.col("event_type").is_in(list(settings.positive_events))).with_columns(
        pl.coalesce("session_id", pl.concat_str(
            "user_id", pl.col("ts").dt.truncate("1d").dt.strftime("@%Y-%m-%d"))).alias("session_id"))
    if lines.is_empty():
        raise InputDataError(source, f"no events of {settings.positive_events} "
                             "(ctr.positive_events) to learn clicks from")
    return lines


def basket_samples(name: Dataset, lines: pl.DataFrame, items: pl.DataFrame, settings: CtrSection) -> CtrData:
    """Each of the latest `max_baskets` baskets: its items positive, `negatives` sampled per item.

    `lines` are positive canonical events with a `session_id` (the basket); negatives are
    drawn uniformly from the window's items that the basket lacks; earlier baskets only feed
    the users' histories.
    """
    baskets = (lines.group_by("user_id", "session_id")
               .agg(pl.col("ts").min(), pl.col("item_id").unique().sort())
               .sort("ts", "session_id"))
    window = baskets.tail(settings.max_baskets)
    catalog = np.array(sorted(set(window["item_id"].explode().to_list())))
    rng = np.random.default_rng(DATA_SEED)
    rows: list[tuple[str, str, object, str, bool]] = []
    for user, basket, ts, bought in window.select("user_id", "session_id", "ts", "item_id").iter_rows():
        owned = set(bought)
        drawn = [str(i) for i in rng.choice(catalog, size=len(bought) * settings.negatives * 2)
                 if i not in owned][: len(bought) * settings.negatives]
        rows += [(user, item, ts, basket, True) for item in bought]
        rows += [(user, item, ts, basket, False) for item in drawn]
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "ts", "basket", "label"], orient="row")
    earlier = baskets.head(baskets.height - window.height).explode("item_id").select(
        "user_id", "item_id", "ts", pl.col("session_id").alias("basket"), pl.lit(True).alias("label"))
    samples = frame.with_columns(pl.col("ts").cast(earlier["ts"].dtype))
    return _build(name, pl.concat([earlier, samples]), items, settings, group="basket",
                  samples_from=earlier.height)


def _build(name: Dataset, frame: pl.DataFrame, items: pl.DataFrame, settings: CtrSection,
           group: str | None, samples_from: int = 0) -> CtrData:
    """Histories, the chronological split, vocabularies and index arrays."""
    histories = _histories(frame["user_id"].to_list(), frame["item_id"].to_list(), frame["label"].to_list(),
                           settings.history_length, frame[group].to_list() if group else None)
    frame = frame.with_columns(pl.Series("history", histories, dtype=pl.List(pl.String)))[samples_from:]
    cut = int(frame.height * (1 - settings.test_fraction))
    cutoff = frame["ts"][cut]
    train, test = frame.filter(pl.col("ts") < cutoff), frame.filter(pl.col("ts") >= cutoff)
    user_ids = sorted(set(train["user_id"].to_list()))
    item_ids = sorted(set(train["item_id"].to_list()) | {i for h in train["history"].to_list() for i in h})
    catalog = items.filter(pl.col("item_id").is_in(item_ids))
    text = dict(zip(catalog["item_id"].to_list(), (catalog["text"] if "text" in catalog.columns
                                                     else catalog["title"]).to_list(), strict=True))
    category = dict(zip(catalog["item_id"].to_list(), catalog["category"].to_list(), strict=True))
    names = sorted({c for c in category.values() if c})
    cat_index = {c: n + 1 for n, c in enumerate(names)}
    return CtrData(
        name=name, user_ids=user_ids, item_ids=item_ids,
        item_text=[text.get(i) or "" for i in item_ids],
        item_category=np.array([0] + [cat_index.get(category.get(i) or "", 0) for i in item_ids], np.int64),
        n_categories=len(names) + 1, cutoff=cutoff,
        train_events=train.filter(pl.col("label")).select("user_id", "item_id", "ts"),
        train=_arrays(train, user_ids, item_ids, settings.history_length),
        test=_arrays(test, user_ids, item_ids, settings.history_length),
    )


def _arrays(frame: pl.DataFrame, user_ids: list[str], item_ids: list[str], length: int) -> Samples:
    users = {u: n + 1 for n, u in enumerate(user_ids)}
    items = {i: n + 1 for n, i in enumerate(item_ids)}
    history = np.zeros((frame.height, length), np.int64)
    for row, past in enumerate(frame["history"].to_list()):
        if past:
            history[row, length - len(past):] = [items.get(i, 0) for i in past]
    return Samples(
        user=np.array([users.get(u, 0) for u in frame["user_id"].to_list()], np.int64),
        item=np.array([items.get(i, 0) for i in frame["item_id"].to_list()], np.int64),
        history=history, label=np.array(frame["label"].cast(pl.Float32).to_list(), np.float32),
        ts=frame["ts"].dt.epoch("us").to_numpy().astype(np.int64),
        version=np.zeros(frame.height, np.int64),
    )
