"""The curation workbench's web app (`kgrec curate ui`): pages and decisions over one `GraphStore`.

    GET  /                 the review queue (filters, a page of relations) and the selected relation's card
    GET  /item/{id}        an item's neighbourhood: its relations by type, drawn as a graph
    GET  /progress         done / remaining per type and per curator, the critic's precision, the export
    POST /api/decide       accept, reject or relabel one relation at the version its card showed
    POST /api/undo         undo the curator's last decision
    POST /api/bulk         count (no `expected`) or decide (`expected` the count confirmed) a filtered set
    POST /api/export       write the labels file the critic trains from
    GET|POST /login        present a token once (off loopback), kept in an HttpOnly cookie

Every page is rendered on the server by autoescaped Jinja2 templates; the one script
(`static/workbench.js`, ours) adds the keyboard and sends the POSTs. Decisions answer 409 when
the relation changed since the card was read (`kg.errors.StaleRelationError`). See
`serving.workbench.security` for tokens and cross-site requests.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import jinja2
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kg.curation import QueueFilter, Receipt
from kg.errors import KgrecError, StaleRelationError, UnknownRelationError
from kg.labels import export_labels
from kg.schema import ITEM_RELATIONS, CurationStatus, RelationType
from kg.store import GraphStore
from serving.auth import BearerAuth, accepts, digests
from serving.config import WorkbenchSection
from serving.workbench import views
from serving.workbench.queue_order import QueueOrders
from serving.workbench.security import (
    OPEN_PATHS,
    TOKEN_COOKIE,
    check_post,
    csrf_token,
    set_csrf_cookie,
    workbench_tokens,
)

HERE = Path(__file__).parent
SOURCES_TTL_S = 60.0


class CriticSummary(BaseModel):
    """The critic the next `kgrec refine` would use: its version and cross-validated precision per kind."""

    version: str
    precision: dict[str, float | None]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=100, description="The curator's name, kept in the history.")


class DecideBody(_Body):
    """One decision on one relation, at the version its card showed."""

    id: str = Field(min_length=1, max_length=300)
    version: int = Field(ge=0)
    action: Literal["accept", "reject", "relabel"]
    to: RelationType | None = None


class BulkBody(_Body):
    """A decision over a filtered set; without `expected` only the count is answered."""

    where: QueueFilter
    action: Literal["accept", "reject"]
    expected: int | None = Field(default=None, ge=0)


class LoginBody(BaseModel):
    """A token, presented once; the answer sets it as a cookie."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=500)


def queue_filter(status: CurationStatus = CurationStatus.PROPOSED,
                 type: Annotated[list[str] | None, Query()] = None,  # noqa: A002 - the query's name
                 model: str | None = None, derived: Literal["", "yes", "no"] = "",
                 min_score: str | None = None, max_score: str | None = None,
                 search: str | None = None) -> QueueFilter:
    """The queue's filter from the page's query; empty fields are no filter (422 naming a bad one)."""
    values = {"status": status, "types": [t for t in type or [] if t] or None, "model": model or None,
              "derived": {"yes": True, "no": False}.get(derived),
              "min_score": min_score or None, "max_score": max_score or None, "search": search or None}
    try:
        return QueueFilter.model_validate(values)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise HTTPException(422, f"bad filter: {problems}") from e


def _decision_errors(error: KgrecError) -> HTTPException:
    """A store's refusal of a decision as the HTTP answer the page shows."""
    if isinstance(error, StaleRelationError):
        return HTTPException(409, str(error))
    if isinstance(error, UnknownRelationError):
        return HTTPException(404, str(error))
    return HTTPException(422, str(error))


def create_app(store: GraphStore, section: WorkbenchSection, curator: str,
               critic: Callable[[], CriticSummary | None] = lambda: None,
               environ: Mapping[str, str] = os.environ) -> FastAPI:
    """The workbench over `store` (connected for the app's lifetime); `curator` the default name.

    Raises:
        ConfigError: `section.host` is reachable from other machines and no token is set.
    """
    tokens = workbench_tokens(section, environ)
    orders = QueueOrders(store, section.queue_refresh_s, section.queue_order_limit)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        store.connect()
        orders.warm(QueueFilter())
        yield
        orders.close()
        store.close()

    app = FastAPI(title="kgrec curation workbench", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    if tokens:
        app.add_middleware(BearerAuth, tokens=tokens, open_paths=OPEN_PATHS, cookie=TOKEN_COOKIE)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True))
    _pages(app, store, orders, section, curator, critic, templates)
    _actions(app, store, orders, section)
    _login(app, templates, digests(tokens))
    return app


def _render(templates: Jinja2Templates, request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    """A page with the CSRF token in it and in its cookie."""
    token = csrf_token(request)
    response = templates.TemplateResponse(request, name, {**context, "csrf": token})
    set_csrf_cookie(response, token, secure=request.url.scheme == "https")
    return response


def _pages(app: FastAPI, store: GraphStore, orders: QueueOrders, section: WorkbenchSection, curator: str,
           critic: Callable[[], CriticSummary | None], templates: Jinja2Templates) -> None:
    sources: dict[str, Any] = {"at": 0.0, "models": []}

    def models() -> list[str]:
        if time.monotonic() - sources["at"] > SOURCES_TTL_S:
            sources.update(at=time.monotonic(), models=store.sources())
        return list(sources["models"])

    @app.get("/", response_class=HTMLResponse)
    def queue(request: Request, where: Annotated[QueueFilter, Depends(queue_filter)],
              page: Annotated[int, Query(ge=0)] = 0, at: Annotated[int, Query(ge=0)] = 0) -> HTMLResponse:
        rows = orders.page(where, page, section.page_size)
        read_at = orders.read_at(where)
        at = min(at, max(len(rows) - 1, 0))
        found = store.relation_card(rows[at]["id"]) if rows else None
        type_relation = found is not None and found["type"] == RelationType.TYPE_COMPLEMENTS
        derived = store.derived_relations([found["relation"]["id"]]) if found and type_relation else []
        withdraws = [r for r in derived if r["status"] == CurationStatus.PROPOSED]
        return _render(templates, request, "queue.html", {
            "rows": rows, "at": at, "page": page, "page_size": section.page_size, "where": where,
            "query": views.filter_query(where), "card": views.card(found) if found else None,
            "withdraws": withdraws, "order_age_s": None if read_at is None else time.monotonic() - read_at,
            "refresh_s": section.queue_refresh_s,
            "models": models(), "types": list(RelationType), "item_types": sorted(ITEM_RELATIONS),
            "statuses": list(CurationStatus), "curator": curator})

    @app.get("/item/{item_id:path}", response_class=HTMLResponse)
    def item(request: Request, item_id: str) -> HTMLResponse:
        found = store.item(item_id)
        if found is None:
            raise HTTPException(404, f"no item {item_id!r} in the graph")
        relations = store.neighbourhood(item_id, section.neighbourhood_limit)
        return _render(templates, request, "item.html", {
            "item": found, "groups": views.by_type(relations),
            "drawing": views.neighbourhood_drawing(found, relations), "limit": section.neighbourhood_limit,
            "curator": curator})

    @app.get("/progress", response_class=HTMLResponse)
    def progress(request: Request) -> HTMLResponse:
        by_type, by_curator = views.progress_tables(*store.progress())
        return _render(templates, request, "progress.html", {
            "by_type": by_type, "by_curator": by_curator, "critic": critic(),
            "labels_path": section.labels_path, "curator": curator})

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}


def _actions(app: FastAPI, store: GraphStore, orders: QueueOrders, section: WorkbenchSection) -> None:
    posted = [Depends(check_post)]

    @app.post("/api/decide", dependencies=posted)
    def decide(body: DecideBody) -> Receipt:
        try:
            if body.action == "relabel":
                if body.to is None:
                    raise HTTPException(422, "relabel needs `to`, the new relation type")
                receipt = store.relabel(body.id, body.version, body.to, body.by)
            else:
                status = CurationStatus.ACCEPTED if body.action == "accept" else CurationStatus.REJECTED
                receipt = store.decide({body.id: body.version}, status, body.by, note=body.action)
            orders.forget(set(receipt.ids))
            return receipt
        except KgrecError as e:
            raise _decision_errors(e) from e
        except ValueError as e:  # a relabel into its own type, or out of the item-item types
            raise HTTPException(422, str(e)) from e

    @app.post("/api/undo", dependencies=posted)
    def undo(body: _Body) -> JSONResponse:
        undone = store.undo(body.by)
        if undone is None:
            return JSONResponse({"detail": f"{body.by} has no decision to undo"}, status_code=409)
        orders.invalidate()  # the relations it puts back rejoin the queue in their places
        return JSONResponse(undone.model_dump())

    @app.post("/api/bulk", dependencies=posted)
    def bulk(body: BulkBody) -> dict[str, Any]:
        members = store.queue_members(body.where)
        if body.expected is None:
            return {"count": len(members)}
        if body.expected != len(members):
            raise HTTPException(409, f"the filter now selects {len(members)} relations, not the "
                                f"{body.expected} confirmed; count again")
        status = CurationStatus.ACCEPTED if body.action == "accept" else CurationStatus.REJECTED
        try:
            receipt = store.decide({m["id"]: m["version"] for m in members}, status, body.by, note="bulk")
        except KgrecError as e:
            raise _decision_errors(e) from e
        orders.forget(set(receipt.ids))
        return {"count": len(receipt.ids), **receipt.model_dump()}

    @app.post("/api/export", dependencies=posted)
    def export() -> dict[str, Any]:
        try:
            labels = export_labels(store, section.labels_path, "workbench.labels_path")
        except KgrecError as e:
            raise HTTPException(422, str(e)) from e
        return {"labels": labels, "path": str(section.labels_path)}


def _login(app: FastAPI, templates: Jinja2Templates, known: list[bytes]) -> None:
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> HTMLResponse:
        return _render(templates, request, "login.html", {"curator": ""})

    @app.post("/login", dependencies=[Depends(check_post)])
    def login(body: LoginBody, request: Request) -> Response:
        if not known or not accepts(known, body.token.encode()):
            raise HTTPException(401, "that token is not one of the workbench's")
        response = JSONResponse({"detail": "logged in"})
        response.set_cookie(TOKEN_COOKIE, body.token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response
