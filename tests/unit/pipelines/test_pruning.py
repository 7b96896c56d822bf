"""Which event files `--since` leaves unread: only those whose Parquet footer proves every event older."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.ingest.pruning import files_reaching

SINCE = datetime(2026, 1, 10, tzinfo=UTC)


def _write(path: Path, ts: pa.Array, **options: object) -> str:
    pq.write_table(pa.table({"user_id": ["u"] * len(ts), "ts": ts}), path, row_group_size=2, **options)
    return str(path)


def _aware(*hours: int) -> pa.Array:
    """UTC timestamps, `hours` after SINCE (negative: before it)."""
    return pa.array([SINCE + timedelta(hours=h) for h in hours], pa.timestamp("ms", "UTC"))


def test_a_file_is_left_unread_only_when_every_row_group_ends_before_since(tmp_path: Path) -> None:
    older = _write(tmp_path / "older.parquet", _aware(-50, -30, -20, -1))  # two row groups, both older
    newer = _write(tmp_path / "newer.parquet", _aware(-50, -30, -20, 0))  # the second reaches since
    assert files_reaching([older, newer], SINCE, "ts", "UTC") == [newer]


def test_naive_times_are_read_in_the_source_zone(tmp_path: Path) -> None:
    # 00:30 local in Berlin (UTC+1 in January) is 23:30 UTC the day before: older than since
    local = pa.array([datetime(2026, 1, 9, 12), datetime(2026, 1, 10, 0, 30)], pa.timestamp("ms"))
    path = _write(tmp_path / "local.parquet", local)
    assert files_reaching([path], SINCE, "ts", "Europe/Berlin") == []
    assert files_reaching([path], SINCE, "ts", "UTC") == [path]


def test_a_zoned_column_is_compared_as_the_instants_it_holds(tmp_path: Path) -> None:
    # 00:30 in Berlin is 23:30 UTC the day before, whatever zone the source is said to use
    berlin = pa.array([SINCE - timedelta(minutes=30)], pa.timestamp("us", "Europe/Berlin"))
    path = _write(tmp_path / "berlin.parquet", berlin)
    assert files_reaching([path], SINCE, "ts", "America/New_York") == []


def test_files_the_footer_cannot_vouch_for_are_read(tmp_path: Path) -> None:
    unread = _write(tmp_path / "old.parquet", _aware(-5))
    text = _write(tmp_path / "text.parquet", pa.array(["2020-01-01T00:00:00"]))  # parsed by staging
    epochs = _write(tmp_path / "epochs.parquet", pa.array([0], pa.int64()))
    bare = _write(tmp_path / "bare.parquet", _aware(-5), write_statistics=False)
    (tmp_path / "broken.parquet").write_bytes(b"not a parquet file")
    (tmp_path / "old.csv").write_text("user_id,ts\nu,2020-01-01\n")
    renamed = _write(tmp_path / "renamed.parquet", _aware(-5))
    files = [unread, text, epochs, bare, str(tmp_path / "broken.parquet"), str(tmp_path / "old.csv")]
    assert files_reaching(files, SINCE, "ts", "UTC") == files[1:]
    assert files_reaching([renamed], SINCE, "event_time", "UTC") == [renamed]  # no such column: read


def test_the_adapters_format_decides_and_not_the_extension(tmp_path: Path) -> None:
    # `--format parquet` reads every file as Parquet, whatever its name
    unnamed = _write(tmp_path / "day-1.data", _aware(-5))
    assert files_reaching([unnamed], SINCE, "ts", "UTC", "parquet") == []
    assert files_reaching([unnamed], SINCE, "ts", "UTC", "csv") == [unnamed]
