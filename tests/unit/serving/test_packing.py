"""Hiredis packing must put the same bytes on the wire as redis-py's own Python packer."""

from __future__ import annotations

import pytest
import redis.asyncio
import redis.exceptions
from redis.asyncio.connection import Connection, SSLConnection

from serving.packing import with_hiredis_packing

COMMANDS = [
    ("MGET", "kgrec:emb:v1:i:a", "kgrec:emb:v1:i:ünïcode", b"raw\x00bytes"),
    ("SET", "k", memoryview(b"\x00\x01\x02\x03")),
    ("SET", "k", bytearray(b"xy"), "EX", 10),
    ("HSET", "h", "f", 2.5),
    ("CLIENT SETNAME", "ranker-1"),
    (b"CONFIG GET", b"maxmemory"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: str(c[0]))
def test_wire_bytes_match_redis_py(command: tuple[object, ...]) -> None:
    python = Connection()
    packed = with_hiredis_packing(Connection)()
    assert b"".join(map(bytes, packed.pack_command(*command))) == \
        b"".join(map(bytes, python.pack_command(*command)))


def test_unpackable_argument_is_redis_py_data_error() -> None:
    with pytest.raises(redis.exceptions.DataError):
        with_hiredis_packing(Connection)().pack_command("SET", "k", object())


def test_keeps_connection_kind() -> None:
    assert issubclass(with_hiredis_packing(SSLConnection), SSLConnection)
    assert with_hiredis_packing(Connection) is with_hiredis_packing(Connection)  # one class per kind


def test_async_client_uses_it() -> None:
    from serving.config import CacheSection
    from serving.connection import async_redis

    client = async_redis(CacheSection(), "redis://127.0.0.1:1/0")
    assert client.connection_pool.connection_class is with_hiredis_packing(Connection)
    assert isinstance(client, redis.asyncio.Redis)
