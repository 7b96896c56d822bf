from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
import torch

from gnn.ids import UnknownIdError
from gnn.stream import EVENT_TYPES, MSG_DIM, build_ids, build_stream, read_events, read_snapshot, split_points
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
    data, dropped = build_stream(events, snapshot, ids, with_knowledge=False)
    assert dropped == 0 and data.num_events == 500 and bool(data.scored.all())
    assert bool((data.t[1:] >= data.t[:-1]).all())
    assert data.msg.shape == (500, MSG_DIM)
    assert bool((data.msg[:, EVENT_TYPES.index("purchase")] == 1).all())
    assert int(data.src.max()) < ids.offset["item"] <= int(data.dst.min())


def test_knowledge_edges_join_the_stream_unscored_after_same_time_events(inputs: tuple[Path, Path]) -> None:
    events = read_events(inputs[0])
    snapshot = read_snapshot(inputs[1])
    ids = build_ids(events, snapshot)
    data, _ = build_stream(events, snapshot, ids, with_knowledge=True)
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
    data, _ = build_stream(events, snapshot, build_ids(events, snapshot), with_knowledge=True)
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
    _, dropped = build_stream(events, snapshot, ids, with_knowledge=False, strict=False)
    assert dropped == events.filter(pl.col("user_id") == "u001").height > 0


def test_training_uses_the_latest_max_events_and_export_sees_them_all(inputs: tuple[Path, Path]) -> None:
    from gnn.config import GnnSection
    from gnn.data import prepare

    config = GnnSection(max_events=200, text_features=False)
    prepared = prepare(config, inputs[0], inputs[1], baseline=False)
    assert int(prepared.stream.scored.sum()) == 200
    latest = read_events(inputs[0]).tail(200)
    assert prepared.ids.count("user") == latest["user_id"].n_unique()
    replay = prepare(config, inputs[0], inputs[1], baseline=False, ids=prepared.ids)
    assert int(replay.stream.scored.sum()) == read_events(inputs[0]).filter(
        pl.col("user_id").is_in(latest["user_id"].unique().to_list())).height
