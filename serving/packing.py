"""Command packing in C for redis-py's asyncio connections.

redis-py's blocking connections pack commands with `hiredis.pack_command` when hiredis is
installed; its asyncio connections (8.1) always pack in Python, one `isinstance` chain and one
bytes join per argument. For the ranker's read - one MGET of hundreds of keys - that packing
took longer than the loopback round trip itself. `with_hiredis_packing` returns a subclass of a
connection class whose `pack_command` hands the arguments to hiredis as they are (falling back
to redis-py's own hiredis serializer for the types hiredis refuses, e.g. bytearray), so the wire
bytes are identical and nothing else about the connection (TLS, unix sockets, timeouts) changes.
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio.connection import AbstractConnection
from redis.connection import HiredisRespSerializer
from redis.utils import HIREDIS_AVAILABLE

if HIREDIS_AVAILABLE:
    import hiredis


def _pack(args: tuple[Any, ...]) -> list[bytes]:
    """One RESP command; a multi-word command name ('CLIENT SETNAME') becomes several words."""
    name = args[0]
    if (" " if isinstance(name, str) else b" ") in name:
        args = tuple(name.split()) + args[1:]
    try:
        return [hiredis.pack_command(args)]
    except TypeError:
        # redis-py's serializer converts bytearray and raises its DataError on the rest
        return cast(list[bytes], HiredisRespSerializer().pack(*args))  # type: ignore[no-untyped-call,unused-ignore]


_PACKED: dict[type[AbstractConnection], type[AbstractConnection]] = {}


def with_hiredis_packing(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """`connection_class`, packing commands with hiredis (unchanged when hiredis is missing).

    One subclass per connection class, made once: pools compare classes, and so do tests.
    """
    if not HIREDIS_AVAILABLE:
        return connection_class
    if connection_class not in _PACKED:

        def pack_command(self: AbstractConnection, *args: Any) -> list[bytes]:
            return _pack(args)

        _PACKED[connection_class] = type(
            f"HiredisPacked{connection_class.__name__}", (connection_class,),
            {"pack_command": pack_command, "__doc__": connection_class.__doc__})
    return _PACKED[connection_class]
