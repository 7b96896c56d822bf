"""Bearer-token authentication for the HTTP API (`kgrec serve`).

Tokens come from the environment only (`serve.token_env` names the variables; each may hold
several tokens, comma-separated), so they are never in a config file, `kgrec config show` or a
log. Several tokens at once is how a token is rotated without downtime: deploy with old and
new, move the clients to the new one, deploy with the new one alone. They are read once, when
the app is built; a change takes a restart.

With tokens, every request but `OPEN_PATHS` (the probes an orchestrator sends without
credentials) needs `Authorization: Bearer <token>`, or it gets a 401 with `WWW-Authenticate:
Bearer` (RFC 6750). The presented token is compared with every accepted one by SHA-256 digest
with `hmac.compare_digest`: the time taken says neither how much of a token matched nor its
length, nor which token of several matched.

Without tokens, a loopback host is served as before; a host other rankers can reach is refused
unless `serve.allow_unauthenticated` says something in front (a gateway, a mesh) authenticates.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
from collections.abc import Mapping, Sequence

from pydantic import SecretStr
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from kg.errors import ConfigError
from serving.config import ServeSection

log = logging.getLogger("kgrec")

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
MIN_TOKEN_CHARS = 16
# RFC 6750's b64token: what a client can send after "Bearer " without quoting.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def read_tokens(names: Sequence[str], environ: Mapping[str, str]) -> list[SecretStr]:
    """The tokens held by the variables `names` (unset or empty ones hold none), in order.

    Raises:
        ConfigError: a token is shorter than `MIN_TOKEN_CHARS` or has characters a bearer
            token cannot carry; the message names the variable and the token's position,
            never the token.
    """
    tokens = []
    for name in names:
        for n, token in enumerate(t.strip() for t in environ.get(name, "").split(",")):
            if not token:
                continue
            if len(token) < MIN_TOKEN_CHARS or not _B64TOKEN.fullmatch(token):
                raise ConfigError(
                    f"API token {n + 1} in ${name} (serve.token_env) is not usable: a token needs at least "
                    f"{MIN_TOKEN_CHARS} characters of A-Z a-z 0-9 - . _ ~ + / (e.g. `openssl rand -hex 32`)")
            tokens.append(SecretStr(token))
    return tokens


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (a name other than localhost counts as exposed)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(serve: ServeSection, tokens: Sequence[SecretStr]) -> None:
    """Refuse to serve the network unauthenticated unless told to; then say so loudly.

    Raises:
        ConfigError: `serve.host` is not a loopback address, no token is set and
            `serve.allow_unauthenticated` is false.
    """
    if tokens or is_loopback(serve.host):
        return
    variables = ", ".join(f"${name}" for name in serve.token_env) or "(serve.token_env is empty)"
    if not serve.allow_unauthenticated:
        raise ConfigError(
            f"serve.host is {serve.host!r}, reachable from other machines, but no API token is set in "
            f"{variables}: set one (comma-separated for several), or set serve.allow_unauthenticated "
            "if something in front of the API authenticates")
    log.warning("SERVING THE EMBEDDING API UNAUTHENTICATED on %s (serve.allow_unauthenticated): anyone "
                "who reaches this address reads every embedding; set a token in %s", serve.host, variables)


def _digest(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


class BearerAuth:
    """Pure ASGI middleware: a 401 for any request but `open_paths` without an accepted token.

    A browser cannot send a header with every page it loads, so an app for people (the
    curation workbench) may name a `cookie` that carries the token too, set by its login.
    """

    def __init__(self, app: ASGIApp, tokens: Sequence[SecretStr], open_paths: frozenset[str] = OPEN_PATHS,
                 cookie: str | None = None) -> None:
        if not tokens:
            raise ValueError("BearerAuth needs at least one token")
        self.app = app
        self._digests = digests(tokens)
        self._open_paths = open_paths
        self._cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 401 with the challenge (the app never sees it)."""
        if scope["type"] != "http" or scope["path"] in self._open_paths:
            await self.app(scope, receive, send)
            return
        presented = _bearer(scope) or (_cookie(scope, self._cookie) if self._cookie else None)
        if presented is not None and self._accepts(presented):
            await self.app(scope, receive, send)
            return
        challenge = 'Bearer realm="kgrec"' + ('' if presented is None else ', error="invalid_token"')
        detail = "missing bearer token" if presented is None else "invalid bearer token"
        response = JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": challenge})
        await response(scope, receive, send)

    def _accepts(self, presented: bytes) -> bool:
        return accepts(self._digests, presented)


def digests(tokens: Sequence[SecretStr]) -> list[bytes]:
    """What `accepts` compares with: each token's SHA-256 digest."""
    return [_digest(t.get_secret_value().encode()) for t in tokens]


def accepts(known: Sequence[bytes], presented: bytes) -> bool:
    """Whether `presented` is one of the tokens `known` digests (constant time in which one).

    Every digest is compared, without stopping at a match.
    """
    digest = _digest(presented)
    accepted = False
    for token in known:
        accepted |= hmac.compare_digest(digest, token)
    return accepted


def _bearer(scope: Scope) -> bytes | None:
    """The credentials of the first `Authorization: Bearer ...` header; None without one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.partition(b" ")
            return credentials.strip() if scheme.lower() == b"bearer" and credentials.strip() else None
    return None


def _cookie(scope: Scope, name: str) -> bytes | None:
    """The value of cookie `name` in the request's Cookie headers; None without one."""
    wanted = name.encode() + b"="
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for header, value in headers:
        if header == b"cookie":
            for part in value.split(b";"):
                part = part.strip()
                if part.startswith(wanted) and len(part) > len(wanted):
                    return part[len(wanted):]
    return None
