"""The workbench over HTTP against a real FalkorDB: pages, decisions, stale pages, CSRF and tokens."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kg.backends.falkordb.store import FalkorDBStore
from kg.errors import ConfigError
from kg.load import load_directory
from kg.schema import RelationType, relation_id
from serving.config import WorkbenchSection
from serving.workbench.app import create_app
from tests._support.graph_rows import POLICY, relation_row, write_input

HOSTILE = '"><img src=x onerror="alert(1)"><script>alert(2)</script>'
TOKEN = "a-workbench-token-0123456789"
AB = relation_row("A", RelationType.COMPLEMENTS, "B", "run1", support=9, rationale=HOSTILE)
BC = relation_row("B", RelationType.COMPLEMENTS, "C", "run1", support=2)


@pytest.fixture
def graph(falkordb_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"workbench-{request.node.name}"
    with FalkorDBStore(falkordb_url, name) as store:
        store.clear()
        load_directory(store, write_input(tmp_path / "in", [AB, BC], items=["A", "B", "C"]), 100, POLICY)
        yield name
        store.clear()


def _client(url: str, graph: str, tmp_path: Path, host: str = "127.0.0.1",
            environ: dict[str, str] | None = None) -> TestClient:
    section = WorkbenchSection(host=host, labels_path=tmp_path / "labels.csv")
    return TestClient(create_app(FalkorDBStore(url, graph), section, "ann", environ=environ or {}),
                      base_url="http://127.0.0.1:8010")


def _csrf(page: str) -> str:
    found = re.search(r'<meta name="csrf" content="([^"]+)">', page)
    assert found
    return found.group(1)


def test_the_queue_decisions_and_a_stale_page(falkordb_url: str, graph: str, tmp_path: Path) -> None:
    with _client(falkordb_url, graph, tmp_path) as client:
        page = client.get("/")
        assert page.status_code == 200 and AB["id"] in page.text
        assert HOSTILE not in page.text and "&lt;script&gt;alert(2)&lt;/script&gt;" in page.text
        headers = {"X-CSRF-Token": _csrf(page.text)}
        body = {"by": "ann", "id": AB["id"], "version": 0, "action": "accept"}
        assert client.post("/api/decide", json=body).status_code == 403  # no CSRF token
        assert client.post("/api/decide", json=body, headers={**headers, "Origin": "http://evil.example"}
                           ).status_code == 403
        assert client.post("/api/decide", json=body, headers=headers).status_code == 200
        stale = client.post("/api/decide", json={**body, "action": "reject", "by": "bob"}, headers=headers)
        assert stale.status_code == 409 and "reload" in stale.json()["detail"]
        relabel = client.post("/api/decide", headers=headers, json={
            "by": "ann", "id": BC["id"], "version": 0, "action": "relabel", "to": "VARIANT_OF"})
        assert relabel.json()["ids"] == [BC["id"], relation_id("B", RelationType.VARIANT_OF, "C")]
        count = client.post("/api/bulk", headers=headers, json={
            "by": "ann", "where": {"status": "accepted"}, "action": "reject"})
        assert count.json() == {"count": 2}
        moved = client.post("/api/bulk", headers=headers, json={
            "by": "ann", "where": {"status": "accepted"}, "action": "reject", "expected": 3})
        assert moved.status_code == 409 and "selects 2 relations, not the 3" in moved.json()["detail"]
        assert client.post("/api/undo", headers=headers, json={"by": "ann"}).json()["ids"] == sorted(
            relabel.json()["ids"])
        exported = client.post("/api/export", headers=headers, json={})
        assert exported.json() == {"labels": 1, "path": str(tmp_path / "labels.csv")}
        assert client.get("/item/B").status_code == 200 and client.get("/item/nothing").status_code == 404
        assert "ann" in client.get("/progress").text
        assert client.get("/?min_score=high").status_code == 422


def test_a_product_type_relations_card_lists_what_rejecting_it_withdraws(falkordb_url: str, tmp_path: Path) -> None:
    from kg.schema import PRODUCT_TYPE, concept_id

    tent, stakes = concept_id(PRODUCT_TYPE, "tent"), concept_id(PRODUCT_TYPE, "tent stakes")
    between = relation_row(tent, RelationType.TYPE_COMPLEMENTS, stakes, "run1", support=50)
    derived = relation_row("T1", RelationType.COMPLEMENTS, "S1", "run1", derived_from=between["id"],
                           decided_by="derived")
    concepts = [{"id": c, "text": c.split(":", 1)[1], "kind": PRODUCT_TYPE, "aliases": []} for c in (tent, stakes)]
    with FalkorDBStore(falkordb_url, "workbench-derived") as store:
        store.clear()
        load_directory(store, write_input(tmp_path / "in", [between, derived], items=["T1", "S1"],
                                          concepts=concepts), 100, POLICY)
        with _client(falkordb_url, "workbench-derived", tmp_path) as client:
            page = client.get("/?type=TYPE_COMPLEMENTS")
            assert "Rejecting it withdraws" in page.text and derived["id"] in page.text
            only = client.get("/?derived=yes").text
            assert derived["id"] in only and f'data-id="{between["id"]}"' not in only
            headers = {"X-CSRF-Token": _csrf(page.text)}
            assert client.post("/api/decide", headers=headers, json={
                "by": "ann", "id": between["id"], "version": 0, "action": "reject"}).status_code == 200
            assert derived["id"] not in client.get("/?derived=yes").text
            assert derived["id"] in client.get("/?status=withdrawn").text
        store.clear()


def test_off_loopback_every_request_needs_the_token(falkordb_url: str, graph: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KGREC_WORKBENCH_TOKENS"):
        _client(falkordb_url, graph, tmp_path, host="0.0.0.0")
    with _client(falkordb_url, graph, tmp_path, "0.0.0.0", {"KGREC_WORKBENCH_TOKENS": TOKEN}) as client:
        assert client.get("/").status_code == 401
        assert client.get("/", headers={"Authorization": "Bearer not-the-token-at-all"}).status_code == 401
        assert client.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        login = client.get("/login")
        headers = {"X-CSRF-Token": _csrf(login.text)}
        assert client.post("/login", json={"token": "wrong-token-000000"}, headers=headers).status_code == 401
        assert client.post("/login", json={"token": TOKEN}, headers=headers).status_code == 200
        assert client.get("/").status_code == 200  # the login's cookie


def test_the_card_gives_the_co_purchase_confidence_both_ways_as_it_reads(falkordb_url: str, tmp_path: Path) -> None:
    complement = relation_row("A", RelationType.COMPLEMENTS, "B", "run1", support=9)
    bought = relation_row("B", RelationType.CO_PURCHASED, "A", "run1", support=4, confidence_ab=0.2,
                          confidence_ba=0.6)  # stored from B: P(A | B) 0.2, P(B | A) 0.6
    with FalkorDBStore(falkordb_url, "workbench-confidences") as store:
        store.clear()
        load_directory(store, write_input(tmp_path / "in", [complement, bought], items=["A", "B"]), 100, POLICY)
        with _client(falkordb_url, "workbench-confidences", tmp_path) as client:
            shown = client.get("/?type=COMPLEMENTS").text  # the card reads A -> B
            assert re.search(r'id="confidences">P\(tail \| head\) 0\.600, P\(head \| tail\) 0\.200<', shown)
            shown = client.get("/?type=CO_PURCHASED").text  # the card reads B -> A
            assert re.search(r'id="confidences">P\(tail \| head\) 0\.200, P\(head \| tail\) 0\.600<', shown)
        store.clear()
