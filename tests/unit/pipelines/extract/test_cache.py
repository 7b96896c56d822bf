"""The answer cache: content-addressed, atomic, shared by every writer."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kg.schema import AnswerStatus
from pipelines.extract.cache import AnswerCache, CacheEntry


def entry(key: str, **kw: object) -> CacheEntry:
    return CacheEntry(key=key, model="m", prompt_version="p", status=AnswerStatus.OK,
                      answer={"facts": "x"}, **kw)  # type: ignore[arg-type]


def test_put_get_and_missing(tmp_path: Path) -> None:
    cache = AnswerCache(str(tmp_path / "c"))
    assert cache.get("ab" * 32) is None
    cache.put(entry("ab" * 32, completion_tokens=5))
    assert cache.get("ab" * 32) == entry("ab" * 32, completion_tokens=5)
    assert cache.get_many(["ab" * 32, "cd" * 32]) == [entry("ab" * 32, completion_tokens=5), None]
    assert cache.keys() == {"ab" * 32}


def test_a_torn_entry_reads_as_absent_and_leftover_temporaries_are_not_entries(tmp_path: Path) -> None:
    cache = AnswerCache(str(tmp_path))
    key = "ef" * 32
    (tmp_path / key[:2]).mkdir()
    (tmp_path / key[:2] / f"{key}.json").write_text('{"key": "ef')
    (tmp_path / key[:2] / f"{key}.json.123.tmp").write_text("{}")
    assert cache.get(key) is None
    cache.put(entry(key))
    assert cache.get(key) == entry(key)
    assert cache.keys() == {key}


def test_many_concurrent_writers_of_the_same_and_different_keys(tmp_path: Path) -> None:
    keys = [f"{i:064x}" for i in range(200)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: AnswerCache(str(tmp_path)).put(entry(k)), keys * 3))
    cache = AnswerCache(str(tmp_path))
    assert cache.keys() == set(keys)
    assert all(e is not None for e in cache.get_many(keys))
