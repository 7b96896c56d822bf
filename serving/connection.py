"""Connecting to the cache: the embedded Redis or any Redis by URL, auth and TLS passed through."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kg import servers
from kg.errors import StoreUnavailable
from serving.config import CacheSection

if TYPE_CHECKING:
    import redis
    import redis.asyncio

EMBEDDED = "embedded Redis cache"
# Plain Redis: no module. AOF (fsync once a second) so a restart keeps published versions.
_EMBEDDED_ARGS = ("--appendonly", "yes", "--appendfsync", "everysec", "--save", "")


def start_embedded(cache: CacheSection) -> servers.ServerInfo:
    """Start the embedded Redis for `cache.state_dir` (a no-op when it runs)."""
    return servers.start(cache.state_dir, cache.port, _EMBEDDED_ARGS, name=EMBEDDED, section="cache")


def cache_url(cache: CacheSection) -> str:
    """`cache.url`, else the embedded server's URL.

    Raises:
        StoreUnavailable: no URL is configured and the embedded server is not running.
    """
    if cache.url:
        return cache.url
    info = servers.status(cache.state_dir)
    if info is None:
        raise StoreUnavailable(EMBEDDED, f"not running in {cache.state_dir}; start it with "
                                         "`kgrec cache start`, or set cache.url")
    return info.url


def connection_options(cache: CacheSection, url: str) -> dict[str, Any]:
    """redis-py keyword arguments: credentials always, TLS files only for rediss:// URLs."""
    options: dict[str, Any] = {}
    if cache.username:
        options["username"] = cache.username
    if cache.password:
        options["password"] = cache.password.get_secret_value()
    if url.startswith("rediss://"):
        for key, path in (("ssl_ca_certs", cache.tls_ca_file), ("ssl_certfile", cache.tls_cert_file),
                          ("ssl_keyfile", cache.tls_key_file)):
            if path is not None:
                options[key] = str(path)
    return options


def sync_redis(cache: CacheSection, url: str | None = None) -> redis.Redis:
    """A blocking client (publishing, CLI), checked to answer.

    Raises:
        StoreUnavailable: the cache cannot be reached (refused, timed out, credentials refused).
    """
    import redis

    url = url or cache_url(cache)
    client = redis.Redis.from_url(url, **connection_options(cache, url))
    try:
        client.ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
            redis.exceptions.AuthenticationError) as e:
        fix = ("restart it with `kgrec cache stop` and `kgrec cache start`" if not cache.url
               else "check that it runs and that cache.url (and its credentials) name it")
        raise StoreUnavailable(f"Redis cache {url.split('@')[-1]}", f"cannot connect ({e}); {fix}") from e
    return client


def async_redis(cache: CacheSection, url: str | None = None) -> redis.asyncio.Redis:
    """An asyncio client with bounded socket timeouts (the read path).

    Its connections pack commands with hiredis's C packer (`serving.packing`): redis-py's
    asyncio connections pack in Python, which for a 512-key MGET costs more than the round trip.
    """
    import redis.asyncio

    from serving.packing import with_hiredis_packing

    url = url or cache_url(cache)
    pool = redis.asyncio.ConnectionPool.from_url(
        url, socket_timeout=cache.timeout_s, socket_connect_timeout=cache.timeout_s,
        **connection_options(cache, url))
    pool.connection_class = with_hiredis_packing(pool.connection_class)
    return redis.asyncio.Redis.from_pool(pool)
