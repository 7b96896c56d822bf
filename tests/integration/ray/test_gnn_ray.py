"""`kgrec train --ray`'s path: the same training function inside a Ray Train worker on a local Ray."""

from pathlib import Path

from gnn.config import GnnSection
from pipelines.steps.gnn import train_on_ray
from tests._support.gnn_data import write_events, write_snapshot


def test_torch_trainer_worker_writes_a_complete_training_output(ray_cluster: None, tmp_path: Path) -> None:
    write_events(tmp_path / "ingest", events=600)
    write_snapshot(tmp_path / "snap")
    settings = GnnSection(epochs=1, batch_size=200, threads=1, text_cache_dir=tmp_path / "cache")
    report = train_on_ray(settings, tmp_path / "ingest", tmp_path / "snap", tmp_path / "model", baseline=True)
    assert report.name == "train" and report.rows["events"] == 600
    assert report.details["model"] == "tgn-baseline"
    assert (tmp_path / "model" / "_SUCCESS.json").exists() and (tmp_path / "model" / "model.pt").exists()
