"""Retrying a call to a store that went away, with doubling delays."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from kg.errors import StoreUnavailable
from kg.store import GraphStore

log = logging.getLogger("kgrec")
T = TypeVar("T")


class RetryPolicy(BaseModel):
    """How long to keep trying a store that went away."""

    max_retries: int = 5
    backoff_s: float = 0.5


def with_retries(store: GraphStore, policy: RetryPolicy, what: str, call: Callable[[], T]) -> T:
    """Run `call`, retrying transient store errors with doubling delays.

    Both clients reconnect by themselves on the next call once the server is back, so a
    retry is just the same call again (safe from several writer threads at once).

    Raises:
        StoreUnavailable: still failing after `policy.max_retries` retries.
    """
    delay = policy.backoff_s
    for attempt in range(policy.max_retries + 1):
        try:
            return call()
        except Exception as e:
            if not is_transient(store, e):
                raise
            if attempt == policy.max_retries:
                raise StoreUnavailable(store.name, f"{what} failed after {attempt + 1} tries: {e}") from e
            log.warning("%s: %s failed (%s); retry %d/%d in %.1f s", store.name, what, e,
                        attempt + 1, policy.max_retries, delay)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def is_transient(store: GraphStore, error: BaseException) -> bool:
    """Whether the same call may succeed later (the store went away, or says so)."""
    return isinstance(error, StoreUnavailable) or store.is_transient(error)
