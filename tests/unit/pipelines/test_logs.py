"""The console log: one line per finished stage, and Ray's token notice only when verbose."""

import logging

import pytest

from pipelines import logs
from pipelines.report import StageReport, summary_line


def test_a_finished_stage_is_one_line_with_its_time_rows_and_refusals() -> None:
    report = StageReport(name="ingest", rows={"events": 19_988, "items": 300}, bad_rows={"missing ts": 12},
                         wall_s=3.25)
    assert summary_line(report) == "ingest: done in 3.2 s (events 19,988, items 300; 12 rows quarantined)"
    assert summary_line(StageReport(name="x")) == "x: done in 0.0 s (no rows)"


def test_rays_token_notice_is_kept_off_the_console_unless_verbose(caplog: pytest.LogCaptureFixture) -> None:
    logs.quiet_ray()
    logs.quiet_ray()  # once is enough, however often a process starts Ray
    logger = logging.getLogger(logs.TOKEN_LOGGER)
    assert len(logger.filters) == 1
    try:
        with caplog.at_level(logging.WARNING, logger=logs.TOKEN_LOGGER):
            logger.warning("%s. Set RAY_AUTH_MODE=disabled to opt out.", logs.TOKEN_NOTICE)
            logger.warning("Token authentication is disabled for this Ray cluster.")
            logs.configure(verbose=True)
            logger.warning("%s. Set RAY_AUTH_MODE=disabled to opt out.", logs.TOKEN_NOTICE)
        assert [r.getMessage()[:40] for r in caplog.records] == [
            "Token authentication is disabled for thi", "Token authentication is enabled for this"]
    finally:
        logs.configure(verbose=False)
