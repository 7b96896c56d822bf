"""The curation workbench in Debian's chromium, against the FalkorDB graph one `kgrec run` loaded
(the e2e tests' shared scripted run, on a copy of its graph).

One graph, one `kgrec curate ui` and one browser page for the module: the tests follow a curator's
session in order (keyboard decisions, relabel, undo, a bulk rejection, a neighbourhood, the
export that trains a critic), each checking the store itself, not only the page. The LLM is the
scripted OpenAI-compatible server (every pair a complement), as in test_refine_cli. The
screenshots of the queue and the neighbourhood in docs/curation.md are written here.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pyarrow as pa
import pytest

from kg.config import GraphSection
from kg.curation import QueueFilter
from kg.factory import make_store
from kg.schema import CurationStatus, RelationType
from kg.servers import free_port
from pipelines.config import load_settings
from tests._support.browser import chromium
from tests._support.chat_server import ChatServer, Reply, answer_for
from tests._support.cli import kgrec
from tests._support.shared_runs import SharedRun, copy_of, scripted_config

if TYPE_CHECKING:
    from playwright.sync_api import Page

HOSTILE = '"><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> Lamp'
TOKEN = "workbench-e2e-token-0123456789abcdef"
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@dataclass
class Session:
    root: Path
    config: Path
    graph: GraphSection
    run_dir: Path
    url: str
    page: "Page"
    errors: list[str] = field(default_factory=list)

    def statuses(self) -> dict[str, str]:
        with make_store(self.graph) as store:
            return {r["id"]: r["status"] for s in CurationStatus for r in store.review_queue(s, 100_000)}

    def card(self) -> dict[str, Any]:
        return self.page.eval_on_selector("#card", "c => ({id: c.dataset.id, version: c.dataset.version})")

    def key(self, key: str) -> None:
        with self.page.expect_navigation():
            self.page.keyboard.press(key)


def _hostile_title(graph: GraphSection) -> str:
    """Give the head of the queue's first relation a title holding markup; its id."""
    with make_store(graph) as store:
        head = store.review_queue(CurationStatus.PROPOSED, 1)[0]["head"]
        item = store.item(head) or {}
        store.upsert_items(pa.table({"id": [head], "title": [HOSTILE], "category": [item.get("category")],
                                     "brand": [item.get("brand")]}))
    return str(head)


def _serve(config: Path, root: Path, url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KGREC_WORKBENCH_TOKENS": TOKEN}
    server = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "curate", "ui", "--by", "tester",
                               "--config", str(config)], cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=(root / "ui.log").open("w"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError(f"kgrec curate ui did not answer: {(root / 'ui.log').read_text()[-2000:]}")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, scripted_run: SharedRun) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("workbench")
    llm = ChatServer(lambda body, n: Reply(answer_for(body)))
    config = scripted_config(root, llm.base_url, workbench={"port": free_port(),
                                                           "labels_path": str(root / "labels.parquet")})
    copy_of(scripted_run, root)  # the run's graph, this module's to change
    settings = load_settings(config)
    assert kgrec("graph", "start", "--config", str(config), cwd=root).returncode == 0
    try:
        _hostile_title(settings.graph)
        url = f"http://127.0.0.1:{settings.workbench.port}"
        server = _serve(config, root, url)
        try:
            with chromium() as browser:
                context = browser.new_context(viewport={"width": 1400, "height": 900},
                                              extra_http_headers={"Authorization": f"Bearer {TOKEN}"})
                page = context.new_page()
                opened = Session(root, config, settings.graph, scripted_run.run_dir, url, page)
                page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: opened.errors.append(str(e)))
                page.on("dialog", lambda d: (opened.errors.append(f"dialog: {d.message}"), d.dismiss()))
                yield opened
                context.close()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    finally:
        llm.close()
        kgrec("graph", "stop", "--config", str(config), cwd=root)


def test_the_queue_opens_and_a_hostile_title_is_text(session: Session) -> None:
    page = session.page
    page.goto(session.url)
    assert page.locator("tr.row").count() >= 10
    assert page.locator("#card .item.head h3").inner_text() == HOSTILE  # shown as text, verbatim
    assert page.evaluate("[window.__pwned, document.querySelectorAll('main img, main script').length]") == \
        [None, 0]
    DOCS_IMAGES.mkdir(exist_ok=True)
    page.screenshot(path=DOCS_IMAGES / "curation-queue.png")
    assert session.errors == []


def test_a_request_without_the_token_is_refused_and_no_other_bind_runs_without_one(session: Session) -> None:
    assert httpx.get(session.url).status_code == 401
    assert httpx.get(session.url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    exposed = kgrec("curate", "ui", "--config", str(session.config), cwd=session.root,
                    env={"KGREC_WORKBENCH__HOST": "0.0.0.0"})
    assert exposed.returncode == 2 and "KGREC_WORKBENCH_TOKENS" in exposed.stderr, exposed.stderr


def test_accept_and_reject_with_the_keyboard_then_relabel_and_undo(session: Session) -> None:
    page = session.page
    page.goto(f"{session.url}/?type=COMPLEMENTS")
    decided = {}
    for key, status in (("a", "accepted"),) * 3 + (("r", "rejected"),) * 3:
        shown = session.card()
        session.key(key)
        assert session.card()["id"] != shown["id"]  # the decided relation left the queue: the next card
        decided[shown["id"]] = status
    statuses = session.statuses()
    assert {i: statuses[i] for i in decided} == decided
    relabelled = session.card()["id"]
    page.select_option("#relabel-to", "VARIANT_OF")
    session.key("l")
    statuses = session.statuses()
    variants = [i for i, s in statuses.items() if i.startswith("VARIANT_OF:") and s == "accepted"]
    assert statuses[relabelled] == "rejected" and len(variants) == 1
    session.key("u")
    assert "undone: 2 relation(s)" in page.locator("#message").inner_text()
    statuses = session.statuses()
    assert statuses[relabelled] == "proposed" and variants[0] not in statuses
    assert session.errors == []


def test_a_stale_card_cannot_overwrite_a_newer_decision(session: Session) -> None:
    page = session.page
    page.goto(f"{session.url}/?type=COMPLEMENTS")
    stale = session.card()
    with make_store(session.graph) as store:  # another curator decides it meanwhile
        store.decide({stale["id"]: int(stale["version"])}, CurationStatus.REJECTED, "someone else")
    page.keyboard.press("a")
    page.wait_for_function("document.getElementById('message').textContent.startsWith('409')")
    assert "reload to see the newer decision" in page.locator("#message").inner_text()
    assert session.statuses()[stale["id"]] == "rejected"
    assert session.errors == ["Failed to load resource: the server responded with a status of 409 (Conflict)"]
    session.errors.clear()
    with make_store(session.graph) as store:  # back as it was, for the critic's labels below
        store.undo("someone else")


def test_bulk_reject_of_a_filtered_set_states_its_count(session: Session) -> None:
    page = session.page
    with make_store(session.graph) as store:
        head = store.review_queue(CurationStatus.PROPOSED, 1, QueueFilter(types=[RelationType.CO_PURCHASED]))[0]
        where = QueueFilter(types=[RelationType.CO_PURCHASED], search=head["head"])
        expected = store.queue_count(where)
    page.goto(f"{session.url}/?type=CO_PURCHASED&search={head['head']}")
    page.click("#bulk-count")
    question = page.locator("#bulk-question")
    question.wait_for()
    assert question.inner_text() == f"Reject {expected} relation(s) this filter selects?"
    with page.expect_navigation():
        page.click("#bulk-go")
    with make_store(session.graph) as store:
        assert store.queue_count(where) == 0
        assert store.queue_count(where.model_copy(update={"status": CurationStatus.REJECTED})) == expected
    assert page.locator("#empty").is_visible()


def test_an_items_neighbourhood_is_drawn_with_its_evidence(session: Session) -> None:
    page = session.page
    page.goto(session.url)
    with page.expect_navigation():
        page.click("#card .item.tail h3 a")
    with make_store(session.graph) as store:
        item = page.url.rsplit("/item/", 1)[1]
        relations = store.neighbourhood(item, 40)
    others = {r["other"] for r in relations}
    assert page.locator("#neighbourhood svg circle").count() == len(others) + 1
    label = page.locator("#neighbourhood .edge title").first.text_content() or ""
    assert label.split()[0] in {r["type"] for r in relations}
    assert page.locator("h2").count() == len({r["type"] for r in relations})
    page.screenshot(path=DOCS_IMAGES / "curation-neighbourhood.png", full_page=True)
    assert session.errors == []


def test_the_exported_labels_train_a_critic_whose_precision_the_progress_page_shows(session: Session) -> None:
    page = session.page
    page.goto(f"{session.url}/progress")
    assert "tester" in page.locator("#by-curator").inner_text()
    page.click("#export")
    page.wait_for_function("document.getElementById('message').textContent.includes('label(s) written')")
    labels = Path(page.locator("#message").inner_text().rsplit(" to ", 1)[1])
    run = session.run_dir
    trained = kgrec("refine", "train-critic", "--labels", str(labels), "--ingest", str(run / "ingest"),
                    "--candidates", str(run / "candidates"), "--extract", str(run / "extract"),
                    "--config", str(session.config), cwd=session.root)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "complement: 3 positive, 3 negative; precision" in trained.stderr, trained.stderr
    page.reload()
    assert page.locator("#critic").inner_text().startswith("critic-")
    assert "complement" in page.locator("#critic").inner_text()
