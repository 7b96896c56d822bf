from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from gnn.ids import UnknownIdError
from gnn.stream import (
    EVENT_TYPES,
    MSG_DIM,
    RELATION_TYPES,
    build_ids,
    build_stream,
    read_events,
    read_snapshot,
    split_points,
)
from kg.errors import InputDataError
from tests._support.gnn_data import START, write_events, write_snapshot


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("stream")
    return write_events(root / "ingest", events=500), write_snapshot(root / "snap")


def test_events_only_stream_is_time_ordered_and_scored(inputs: tuple[Path, Path]) -> None:
    events = read_events(inputs[0])
    snapshot = read_snapshot(inputs[1])
    ids = build_ids(events, snapshot)
    data = build_stream(events, snapshot, ids, with_knowledge=False)
    assert data.num_events == 500 and bool(data.scored.all())
    assert bool((data.t[1:] >= data.t[:-1]).all())
    assert data.msg.shape == (500, MSG_DIM)
    assert bool((data.msg[:, EVENT_TYPES.index("purchase")] == 1).all())
    assert int(data.src.max()) < ids.offset["item"] <= int(data.dst.min())


def test_knowledge_edges_join_the_stream_unscored_after_same_time_events(inputs: tuple[Path, Path]) -> None:
    events = read_events(inputs[0])
    snapshot = read_snapshot(inputs[1])
    ids = build_ids(events, snapshot)
    data = build_stream(events, snapshot, ids, with_knowledge=True)
    knowledge = ~data.scored
    assert int(knowledge.sum()) == snapshot.relations.height == 80
    first_seen = int((START + timedelta(days=1)).timestamp())
    co_purchased = data.t[knowledge & (data.dst < ids.offset["concept"])]
    assert bool((co_purchased == first_seen).all())
    concept_edges = knowledge & (data.dst >= ids.offset["concept"])
    assert int(concept_edges.sum()) == 40 and bool((data.t[concept_edges] == data.t[0]).all())
    assert bool((data.t[1:] >= data.t[:-1]).all())
    same_time = torch.nonzero(data.t == data.t[0]).flatten()
    assert bool(data.scored[same_time[0]])  # events first at equal times


def test_chronological_split_by_scored_events(inputs: tuple[Path, Path]) -> None:
    events = read_events(inputs[0])
    snapshot = read_snapshot(inputs[1])
    data = build_stream(events, snapshot, build_ids(events, snapshot), with_knowledge=True)
    val, test = split_points(data, 0.15, 0.15)
    assert int(data.scored[:val].sum()) == 350 and int(data.scored[val:test].sum()) == 75
    assert int(data.t[val - 1]) <= int(data.t[val])


def test_bad_inputs_are_clear_errors(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    with pytest.raises(InputDataError, match="relations.parquet is missing"):
        read_snapshot(tmp_path)
    with pytest.raises(InputDataError, match="no events Parquet"):
        read_events(tmp_path)
    with pytest.raises(InputDataError, match="no events at or before"):
        read_events(inputs[0], START - timedelta(days=1))
    (tmp_path / "events").mkdir()
    pl.read_parquet(inputs[0] / "events").head(0).write_parquet(tmp_path / "events" / "p.parquet")
    with pytest.raises(InputDataError, match="no events"):
        read_events(tmp_path)
    events = read_events(inputs[0])
    snapshot = read_snapshot(inputs[1])
    ids = build_ids(events.filter(pl.col("user_id") != "u001"), snapshot)
    with pytest.raises(UnknownIdError, match="'u001'"):
        build_stream(events, snapshot, ids, with_knowledge=False)


def test_training_uses_the_latest_max_events_and_export_embeds_every_node(
        inputs: tuple[Path, Path], tmp_path: Path) -> None:
    from gnn.config import GnnSection
    from gnn.data import TrainedNodes, prepare

    # The fixture's events plus an early basket of an item no snapshot or recent event has.
    base = pl.read_parquet(inputs[0] / "events")
    early = base.head(3).with_columns(pl.lit("i900").alias("item_id"), pl.lit("u900").alias("user_id"))
    (tmp_path / "ingest" / "events").mkdir(parents=True)
    pl.concat([early, base]).write_parquet(tmp_path / "ingest" / "events" / "part-0.parquet")
    config = GnnSection(max_events=200, text_cache_dir=tmp_path / "cache")
    prepared = prepare(config, tmp_path / "ingest", inputs[1], baseline=False)
    assert prepared.features is not None and int(prepared.stream.scored.sum()) == 200
    everything = read_events(tmp_path / "ingest")
    assert prepared.ids.count("user") == everything.tail(200)["user_id"].n_unique()

    # Export: every event replays, unseen users and items get nodes; trained nodes keep the
    # exact feature rows the model was trained on (here: a marker), new ones are encoded.
    trained = TrainedNodes(prepared.ids, np.full_like(prepared.features, 7.0))
    replay = prepare(config, tmp_path / "ingest", inputs[1], baseline=False, trained=trained)
    assert int(replay.stream.scored.sum()) == everything.height
    new = replay.ids.new_ids(prepared.ids)
    assert new["item"] == 1 and new["user"] == replay.ids.count("user") - prepared.ids.count("user") > 1
    assert replay.features is not None and replay.features.shape[0] == prepared.features.shape[0] + 1
    old = replay.ids.frame("item").join(prepared.ids.frame("item"), on="id", how="left", maintain_order="left")
    rows = (old["node"] - replay.ids.offset["item"]).to_numpy()
    known = old["node_right"].is_not_null().to_numpy()
    assert (replay.features[rows[known]] == 7.0).all()
    (new_row,) = rows[~known]
    assert not replay.features[new_row].any()  # i900 has no text in the snapshot: zeros, as in training


def test_product_types_reach_the_model_as_knowledge_and_type_pairs_stay_out(tmp_path: Path,
                                                                              inputs: tuple[Path, Path]) -> None:
    snap = write_snapshot(tmp_path / "snap")
    concepts = pl.read_parquet(snap / "concepts.parquet")
    types = pl.DataFrame({"id": ["product_type:mug", "product_type:tent"], "text": ["mug", "tent"],
                          "kind": "product_type"})
    pl.concat([concepts, types]).write_parquet(snap / "concepts.parquet")
    relations = pl.read_parquet(snap / "relations.parquet")
    typed = relations.head(2).with_columns(pl.Series("id", ["t1", "t2"]), pl.lit("OF_TYPE").alias("type"),
                                           pl.Series("tail", ["product_type:mug", "product_type:tent"]))
    between = typed.head(1).with_columns(pl.lit("x").alias("id"), pl.lit("TYPE_COMPLEMENTS").alias("type"),
                                         pl.lit("product_type:mug").alias("head"),
                                         pl.lit("product_type:tent").alias("tail"))
    pl.concat([relations, typed, between]).write_parquet(snap / "relations.parquet")
    events, snapshot = read_events(inputs[0]), read_snapshot(snap)
    ids = build_ids(events, snapshot)
    data = build_stream(events, snapshot, ids, with_knowledge=True)
    assert int((~data.scored).sum()) == 80 + 2  # the OF_TYPE edges join; the type-to-type one is no item edge
    of_type = len(EVENT_TYPES) + RELATION_TYPES.index("OF_TYPE")
    assert int(data.msg[~data.scored][:, of_type].sum()) == 2
