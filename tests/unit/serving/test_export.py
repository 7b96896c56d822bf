"""The export reader refuses what a ranker must never see; the FuxiCTR files round-trip."""

import json
from pathlib import Path

import numpy as np
import pytest

from kg.errors import InputDataError, StageOutputError
from serving.config import CacheSection
from serving.connection import connection_options
from serving.export import read_export
from serving.keys import KeySpace
from serving.ranker_export import aligned, write_fuxictr
from tests._support.embeddings import make_export


def test_reads_a_complete_export(tmp_path: Path) -> None:
    export = read_export(make_export(tmp_path, "v1", users=3, items=4, dim=2, text_dim=5))
    assert export.manifest.dim == 2 and export.items.ids == ["i0", "i1", "i2", "i3"]
    assert export.items.vectors[3].tolist() == [3.0, 3.0]
    assert export.item_text is not None and export.item_text.shape == (4, 5)


def test_refuses_an_export_without_its_success_marker(tmp_path: Path) -> None:
    path = make_export(tmp_path, "v1")
    (path / "_SUCCESS.json").unlink()
    with pytest.raises(StageOutputError, match="incomplete"):
        read_export(path)


def test_refuses_an_unknown_format_naming_the_file(tmp_path: Path) -> None:
    path = make_export(tmp_path, "v1")
    manifest = json.loads((path / "manifest.json").read_text())
    (path / "manifest.json").write_text(json.dumps({**manifest, "format": "kgrec.embeddings/2"}))
    with pytest.raises(InputDataError, match=r"manifest.json: unknown export format 'kgrec.embeddings/2'"):
        read_export(path)


def test_refuses_vectors_that_disagree_with_the_manifest(tmp_path: Path) -> None:
    path = make_export(tmp_path, "v1", users=3, dim=2)
    np.save(path / "users.npy", np.zeros((3, 5), np.float32))
    with pytest.raises(InputDataError, match=r"users.npy: expected float32 \[3, 2\]"):
        read_export(path)


def test_fuxictr_files_align_to_a_ranker_vocabulary(tmp_path: Path) -> None:
    export = read_export(make_export(tmp_path, "v1", users=2, items=3, dim=2, text_dim=4))
    files = write_fuxictr(export, tmp_path / "fx")
    assert sorted(files) == ["item_id", "item_text", "user_id"]
    with np.load(files["item_id"]) as npz:
        assert npz["key"].tolist() == ["i0", "i1", "i2"] and npz["value"].dtype == np.float32
    table = aligned(files["item_id"], ["i2", "unknown", "i0"])
    assert table.tolist() == [[0, 0], [2, 2], [0, 0], [0, 0]]


def test_tls_options_pass_through_only_for_tls_urls(tmp_path: Path) -> None:
    cache = CacheSection(username="ranker", password="s3cret", tls_ca_file=tmp_path / "ca.pem")
    assert connection_options(cache, "redis://h:6379") == {"username": "ranker", "password": "s3cret"}
    assert connection_options(cache, "rediss://h:6380")["ssl_ca_certs"] == str(tmp_path / "ca.pem")
    assert "s3cret" not in repr(cache)


def test_key_layout() -> None:
    keys = KeySpace("p")
    assert (keys.live, keys.meta("v1"), keys.vector_prefix("v1", "items") + "42") == (
        "p:live", "p:v1:meta", "p:v1:i:42")
    assert keys.version_pattern("v1") == "p:v1:*"
