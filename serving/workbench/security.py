"""What keeps the workbench's decisions the curator's own: tokens off loopback, and no cross-site requests.

Off loopback, every request needs a token from the environment (`serving.auth.BearerAuth`,
as a bearer header or the cookie `/login` sets). Every request that changes something is a
POST with a JSON body that carries the page's CSRF token in `X-CSRF-Token`, equal to the
`kgrec_csrf` cookie (SameSite=Strict, so another site's page never sends it), from an
`Origin` that is the workbench's own when the browser names one. A cross-site form cannot set
the header or send JSON without a preflight the workbench never answers.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping

from fastapi import HTTPException, Request, Response
from pydantic import SecretStr

from kg.errors import ConfigError
from serving.auth import is_loopback, read_tokens
from serving.config import WorkbenchSection

CSRF_COOKIE = "kgrec_csrf"
CSRF_HEADER = "x-csrf-token"
TOKEN_COOKIE = "kgrec_token"
OPEN_PATHS = frozenset({"/login", "/healthz", "/static/workbench.css", "/static/workbench.js"})


def workbench_tokens(section: WorkbenchSection, environ: Mapping[str, str]) -> list[SecretStr]:
    """The tokens the workbench accepts; none on loopback without any set.

    Raises:
        ConfigError: the host is reachable from other machines and no token is set (there is
            no unauthenticated mode: decisions carry a curator's name), or a token is unusable.
    """
    tokens = read_tokens(section.token_env, environ)
    if not tokens and not is_loopback(section.host):
        variables = ", ".join(f"${name}" for name in section.token_env) or "(workbench.token_env is empty)"
        raise ConfigError(f"workbench.host is {section.host!r}, reachable from other machines, but no token "
                          f"is set in {variables}: set one (e.g. `openssl rand -hex 32`), or bind 127.0.0.1")
    return tokens


def csrf_token(request: Request) -> str:
    """The page's CSRF token: the cookie's, or a new one (`set_csrf_cookie` sends it)."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_csrf_cookie(response: Response, token: str, secure: bool) -> None:
    """Send the CSRF cookie: SameSite=Strict, so no other site's page makes a browser send it."""
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure)


def check_post(request: Request) -> None:
    """Refuse a state-changing request from another origin or without the page's CSRF token (403)."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is not None and origin != own:
        raise HTTPException(403, f"cross-site request refused: Origin {origin} is not {own}")
    cookie, header = request.cookies.get(CSRF_COOKIE), request.headers.get(CSRF_HEADER)
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
