"""Stage outputs: what a reader says about a directory that is not the finished output it wants."""

from pathlib import Path

import pytest

from kg.errors import InputDataError, StageOutputError, reading
from pipelines.outputs import begin_stage, mark_complete, require_complete, require_output_dir


def _refusal(path: Path, stage: str = "ingest") -> str:
    with pytest.raises(StageOutputError) as raised:
        require_complete(path, stage, "--in")
    return str(raised.value)


def test_a_finished_output_passes_and_each_other_directory_is_named_for_what_it_is(tmp_path: Path) -> None:
    done = tmp_path / "done"
    begin_stage(done, "ingest")
    (done / "events").mkdir()
    mark_complete(done, {})
    require_complete(done, "ingest")
    assert "no ingest output here (no such directory)" in _refusal(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    assert "is a file, not an ingest output directory" in _refusal(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    assert "is an empty directory, not an ingest output" in _refusal(tmp_path / "empty")
    assert "is an ingest output, not a candidates output" in _refusal(done, "candidates")
    message = _refusal(tmp_path / "nowhere")
    assert message.endswith("pass the directory `kgrec ingest` wrote (its --out) as --in")


def test_an_interrupted_output_is_told_apart_from_a_folder_of_something_else(tmp_path: Path) -> None:
    interrupted = tmp_path / "interrupted"
    begin_stage(interrupted, "ingest")
    assert "ingest output is incomplete (interrupted run?)" in _refusal(interrupted)
    other = tmp_path / "other"
    begin_stage(other, "extract")
    assert "is an incomplete extract output, not an ingest output" in _refusal(other)
    # written before the started marker existed: only names the stage writes
    legacy = tmp_path / "legacy"
    (legacy / "events").mkdir(parents=True)
    (legacy / "items").mkdir()
    assert "incomplete (interrupted run?)" in _refusal(legacy)
    raw = tmp_path / "raw"  # what `kgrec data synth` writes
    (raw / "events").mkdir(parents=True)
    (raw / "items.parquet").write_text("x")
    assert "is not an ingest output (no _SUCCESS.json; it holds events/, items.parquet)" in _refusal(raw)


def test_an_output_directory_under_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StageOutputError, match="it is a file; pass another --out"):
        require_output_dir(tmp_path / "file")
    with pytest.raises(StageOutputError, match=r"file is a file; pass another run\.runs_dir"):
        require_output_dir(tmp_path / "file" / "below", "run.runs_dir")
    require_output_dir(tmp_path / "new" / "deeper")  # nothing there yet: fine


def test_reading_names_the_input_and_the_fix_and_lets_kgrecs_own_errors_through(tmp_path: Path) -> None:
    with pytest.raises(InputDataError) as raised, reading(tmp_path / "t.parquet", "a table", "write it again"):
        raise ValueError("magic bytes\nnot found")
    assert str(raised.value) == f"{tmp_path / 't.parquet'}: cannot read it as a table (magic bytes not found); " \
                                "write it again"
    with pytest.raises(StageOutputError), reading("x", "y", "z"):
        raise StageOutputError("x", "already clear")
