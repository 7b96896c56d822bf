"""An async client of the HTTP API (`kgrec serve`), for Python rankers that reach the API, not Redis.

    async with ApiClient("https://embeddings.internal:8000", token=os.environ["KGREC_API_TOKEN"]) as api:
        lookup = await api.get_items(["i1", "i2"], categories=["mugs", None])
        lookup.vectors, lookup.found, lookup.version    # as `EmbeddingClient` returns them

The token travels only in the `Authorization` header; it is never logged nor put in an error.
Unlike `EmbeddingClient`, which reads Redis itself and serves fallbacks when it is down, this
client raises `ApiRequestError` for a refused request (401: the token; 4xx: the input, with the
API's reason) or an API that does not answer within `timeout_s`: misses already got their
cold-start vectors on the server, and what to do without the API is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
import numpy as np
from pydantic import SecretStr

from kg.errors import ApiRequestError
from serving.client import Lookup


class ApiClient:
    """Lookups over HTTP; one connection pool for the client's lifetime (`async with`)."""

    def __init__(self, base_url: str, *, token: str | SecretStr | None = None,
                 timeout_s: float = 1.0) -> None:
        self._base_url = base_url.rstrip("/")
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        self._headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ApiClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Create the connection pool (connections open on the first request)."""
        self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)

    async def close(self) -> None:
        """Close the pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get_items(self, ids: Sequence[str], categories: Sequence[str | None] | None = None) -> Lookup:
        """Item vectors (POST /v1/items); misses carry their category's mean, else the mean item."""
        body: dict[str, Any] = {"ids": list(ids)}
        if categories is not None:
            body["categories"] = list(categories)
        return _lookup(await self._request("POST", "/v1/items", body), len(ids))

    async def get_users(self, ids: Sequence[str],
                        recent_items: Sequence[Sequence[str]] | None = None) -> Lookup:
        """User vectors (POST /v1/users); misses carry their recent items' mean, else the mean user."""
        body: dict[str, Any] = {"ids": list(ids)}
        if recent_items is not None:
            body["recent_items"] = [list(items) for items in recent_items]
        return _lookup(await self._request("POST", "/v1/users", body), len(ids))

    async def live_version(self) -> str | None:
        """The live version (GET /v1/version); None when nothing is published."""
        live = (await self._request("GET", "/v1/version"))["live"]
        return str(live) if live is not None else None

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self._session is None:
            raise RuntimeError("ApiClient used before connect() or `async with`")
        url = self._base_url + path
        try:
            async with self._session.request(method, url, json=body) as reply:
                if reply.status == 200:
                    return await reply.json()
                detail = (await reply.text())[:500]
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ApiRequestError(url, None, type(e).__name__) from e
        raise ApiRequestError(url, reply.status, detail)


def _lookup(reply: dict[str, Any], n: int) -> Lookup:
    """The API's JSON as the `Lookup` the Redis client returns (float32 [n, dim], bool [n])."""
    vectors = np.asarray(reply["embeddings"], dtype=np.float32).reshape(n, int(reply["dim"]))
    return Lookup(vectors, np.asarray(reply["found"], dtype=bool), reply["version"])
