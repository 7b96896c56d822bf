"""A load refuses a directory that is no graph input, before it touches a store."""

from pathlib import Path
from typing import Any

import pytest

from kg.errors import InputDataError
from kg.load import RetryPolicy, load_directory, require_graph_input


class NoStore:
    """Fails the test on any use: the input is refused before the store is asked anything."""

    identity = name = "no store"

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the store was used ({name}) before the input was checked")


def test_relations_without_items_are_refused_naming_what_to_load_instead(tmp_path: Path) -> None:
    (tmp_path / "extract" / "relations").mkdir(parents=True)
    with pytest.raises(InputDataError) as refused:
        load_directory(NoStore(), tmp_path / "extract", 100, RetryPolicy())  # type: ignore[arg-type]
    message = str(refused.value)
    assert message.startswith(f"{tmp_path / 'extract'}: has relations/ but no items/: the relations' items "
                              "would be quarantined as unknown; load the output of `kgrec refine`")
    assert "items/, relations/, concepts/" in message
    assert not (tmp_path / "extract" / "_load").exists()  # nothing written either


def test_neither_a_missing_directory_nor_an_empty_one_is_a_graph_input(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="no such directory"):
        require_graph_input(tmp_path / "nowhere")
    with pytest.raises(InputDataError, match="has no items/ and no relations/"):
        require_graph_input(tmp_path)


def test_an_empty_items_directory_is_a_graph_input(tmp_path: Path) -> None:
    (tmp_path / "items").mkdir()  # relations between items the graph holds already
    require_graph_input(tmp_path)
