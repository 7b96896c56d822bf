import os
from pathlib import Path

import numpy as np
import pytest

from gnn.text import TEXT_DIM, TextEncoder


def test_packaged_model_loads_offline_and_caches_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty hub cache: nothing to fall back on
    encoder = TextEncoder(tmp_path / "cache")
    vectors = encoder.encode(["red tea mug", "blue tea mug", "bicycle puncture repair kit", "red tea mug"])
    assert vectors.shape == (4, TEXT_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert np.array_equal(vectors[0], vectors[3]) and encoder.encoded == 3
    again = TextEncoder(tmp_path / "cache")
    assert np.array_equal(again.encode(["blue tea mug"])[0], vectors[1]) and again.encoded == 0
    assert not os.path.exists(tmp_path / "hf" / "hub")
