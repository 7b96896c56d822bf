"""Access to ../shared/data, with a loud skip when a checkout has none beside it."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    """Path of a shared dataset file, or skip the test naming what is missing and why."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"SKIPPED LOUDLY: {path} is absent. This test needs the shared datasets beside "
                    f"the checkout (../shared/data, see its README); a plain user clone has none.")
    return path
