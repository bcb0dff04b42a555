"""`lytter web` in a real browser, on the real Elasticsearch: login, the queue, an action, hostile text, 401."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from pydantic import SecretStr
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from streams.inbox.web import make_app
from streams.schema import EnrichedMention
from streams.settings import Settings
from streams.sinks.elasticsearch import sync_client
from tests.browser import browser  # noqa: F401  (fixture)
from tests.integration.conftest import free_port
from tests.integration.helpers import wait_for
from tests.integration.test_inbox import NOW, inbox_of, index_mentions, queued_mention

pytestmark = pytest.mark.integration

TOKEN = "test-token-" + "x" * 24
HOSTILE = '<script>window.__pwned=1</script> og <img src=x onerror="window.__pwned=1"> Fjordbank?'


class WebServer:
    """`lytter web`'s application on a free port, in a thread with its own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = f"http://{settings.web_host}:{settings.web_port}"
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        runner = web.AppRunner(make_app(self.settings), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.settings.web_host, self.settings.web_port).start()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> WebServer:
        self._thread.start()
        if not self._ready.wait(20):
            pytest.fail(f"the web server did not start on {self.url}")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)


def fill_by_indexing(settings: Settings, mentions: list[EnrichedMention]) -> None:
    """Fill the queue by indexing the mentions directly (a worker-run variant takes the same arguments)."""
    index_mentions(settings, mentions)


def inbox_mentions() -> list[EnrichedMention]:
    return [
        queued_mention("w-plain", text="Hvorfor er appen nede? Jeg kan ikke betale.", minutes_ago=40, brand_score=-0.7, influence=40),
        queued_mention("w-hostile", text=HOSTILE, minutes_ago=15, brand_score=-0.3),
        queued_mention("w-calm", text="Tak for hjælpen i går!", minutes_ago=3, brand_score=0.8, intent="praise"),
    ]


def index_alert(settings: Settings) -> None:
    client = sync_client(settings)
    try:
        client.index(index=settings.es_alerts_index, id="a-1", refresh="wait_for", document={
            "alert_id": "a-1", "brand": "Fjordbank", "rule": "negative_share", "severity": "high", "status": "open",
            "title": "Fjordbank: negative share 60% in the last 15 minutes", "opened_at": NOW.isoformat(),
            "updated_at": NOW.isoformat(), "updates": 0, "evidence": {}})
    finally:
        client.close()


@dataclass
class WebInbox:
    settings: Settings
    url: str


#: How the queue gets filled for the page tests (a real worker run: test_page_shows_a_mention_from_a_real_worker_run...).
FILLERS: dict[str, Callable[[Settings, list[EnrichedMention]], None]] = {"direct": fill_by_indexing}


@pytest.fixture(params=sorted(FILLERS))
def web_inbox(request, lytter) -> Iterator[WebInbox]:
    settings = lytter.model_copy(update={"web_token": SecretStr(TOKEN), "web_port": free_port(), "inbox_user": "web-test"})
    FILLERS[request.param](settings, inbox_mentions())
    index_alert(settings)
    with WebServer(settings) as server:
        yield WebInbox(settings, server.url)


def http(url: str, *, token: str | None = None, body: bytes | None = None, content_type: str = "application/json") -> tuple[int, str]:
    headers = {"Content-Type": content_type} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_requests_without_the_token_get_401(web_inbox):
    action = json.dumps({"action": "handled", "version": "0:1"}).encode()
    assert http(f"{web_inbox.url}/")[0] == 401
    assert http(f"{web_inbox.url}/api/queue")[0] == 401
    assert http(f"{web_inbox.url}/api/mentions/w-plain/actions", body=action)[0] == 401
    assert http(f"{web_inbox.url}/api/queue", token="wrong")[0] == 401
    status, body = http(f"{web_inbox.url}/api/queue", token=TOKEN)
    assert status == 200 and [item["id"] for item in json.loads(body)["items"]][0] == "w-plain"
    # a form post (what another site could make a browser send) is refused even with the token
    assert http(f"{web_inbox.url}/api/mentions/w-plain/actions", token=TOKEN, body=b"action=handled",
                content_type="application/x-www-form-urlencoded")[0] == 415
    status, body = http(f"{web_inbox.url}/api/mentions/w-plain/actions", token=TOKEN,
                        body=json.dumps({"action": "delete_everything", "version": "0:1"}).encode())
    assert status == 400 and "action" in json.loads(body)["error"]
    assert inbox_of(web_inbox.settings, "w-plain") == {}


def test_an_action_on_a_stale_version_is_409_with_who_changed_it(web_inbox):
    status, body = http(f"{web_inbox.url}/api/queue", token=TOKEN)
    seen = {item["id"]: item["version"] for item in json.loads(body)["items"]}["w-calm"]
    first = json.dumps({"action": "assign", "version": seen, "to": "dana", "as": "erik"}).encode()
    assert http(f"{web_inbox.url}/api/mentions/w-calm/actions", token=TOKEN, body=first)[0] == 200
    second = json.dumps({"action": "handled", "version": seen, "as": "frida"}).encode()
    status, body = http(f"{web_inbox.url}/api/mentions/w-calm/actions", token=TOKEN, body=second)
    assert status == 409
    answer = json.loads(body)
    assert answer["last_change"]["by"] == "erik" and answer["current_version"] != seen
    assert inbox_of(web_inbox.settings, "w-calm")["status"] == "assigned"


def _log_in(driver, url: str) -> None:
    driver.get(f"{url}/login")
    driver.find_element(By.ID, "token").send_keys(TOKEN)
    driver.find_element(By.ID, "login-button").click()
    WebDriverWait(driver, 20).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-id="w-plain"]')))


def test_page_shows_the_queue_and_handles_a_mention(web_inbox, browser):  # noqa: F811
    _log_in(browser, web_inbox.url)
    hostile_row = browser.find_element(By.CSS_SELECTOR, 'tr[data-id="w-hostile"]')
    assert HOSTILE in hostile_row.find_element(By.CSS_SELECTOR, "td.text").text  # shown as text, markup and all
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.find_elements(By.CSS_SELECTOR, "#queue img, #queue script") == []
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#alerts li") and d.find_elements(By.CSS_SELECTOR, "#chart rect"))
    assert "negative share 60%" in browser.find_element(By.ID, "alerts").text
    browser.save_screenshot("/tmp/inbox.png")

    browser.find_element(By.CSS_SELECTOR, 'tr[data-id="w-plain"] button[data-action="handled"]').click()
    wait_for(lambda: inbox_of(web_inbox.settings, "w-plain").get("status") == "handled", 20, "the click to mark w-plain handled")
    state = inbox_of(web_inbox.settings, "w-plain")
    assert state["updated_by"] == "web-test" and state["audit"][-1]["action"] == "handled"
    WebDriverWait(browser, 20).until(lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr[data-id="w-plain"]'))
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert "handled done" in browser.find_element(By.ID, "notice").text


def test_page_says_so_when_elasticsearch_is_down(lytter, browser):  # noqa: F811
    down = lytter.model_copy(update={"es_url": f"http://127.0.0.1:{free_port()}", "web_port": free_port(), "es_request_timeout": 2})
    with WebServer(down) as server:
        browser.get(f"{server.url}/")
        WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "error").is_displayed())
        assert "Elasticsearch" in browser.find_element(By.ID, "error").text


def test_page_shows_a_mention_from_a_real_worker_run_and_an_action_reaches_it(lytter, worker_factory, browser, tmp_path):  # noqa: F811
    """The whole path: a customer's post through Kafka and the worker (needs-reply decided there), shown
    on the page, handled with a click, and the document in Elasticsearch changed."""
    from datetime import datetime, timedelta, timezone

    import yaml

    from streams.schema import Mention
    from streams.sources.producer import MentionProducer

    watch = tmp_path / "watch.yaml"
    watch.write_text(yaml.safe_dump({"brands": [{"name": "Fjordbank", "query": "fjordbank", "owned_accounts": {"mastodon": ["@fjordbank@bank.example"]}}]}))
    settings = lytter.model_copy(update={"watch_file": watch, "web_token": SecretStr(TOKEN), "web_port": free_port(), "inbox_user": "web-test"})
    worker = worker_factory(settings)
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    text = f"@fjordbank@bank.example {HOSTILE} Hvornår virker appen igen?"
    with MentionProducer(settings) as producer:
        producer.send_mention(Mention(id="w-live", source="mastodon", text=text, published_at=datetime.now(timezone.utc) - timedelta(minutes=5),
                                      author={"handle": "kunde@mastodon.example", "followers": 300}))
    wait_for(lambda: inbox_doc(settings, "w-live").get("needs_reply") is True, 60, "the worker to queue the mention", worker)
    with WebServer(settings) as server:
        browser.get(f"{server.url}/login")
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.ID, "login-button").click()
        row = WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-id="w-live"]')))
        assert HOSTILE in row.find_element(By.CSS_SELECTOR, "td.text").text
        assert browser.execute_script("return typeof window.__pwned") == "undefined"
        browser.save_screenshot("/tmp/inbox-worker-run.png")
        row.find_element(By.CSS_SELECTOR, 'button[data-action="handled"]').click()
        wait_for(lambda: inbox_of(settings, "w-live").get("status") == "handled", 20, "the click to reach the document")
    assert inbox_of(settings, "w-live")["audit"][-1]["by"] == "web-test"


def inbox_doc(settings: Settings, mention_id: str) -> dict:
    client = sync_client(settings)
    try:
        client.indices.refresh(index=settings.es_index_prefix)
        hits = client.search(index=settings.es_index_prefix, query={"ids": {"values": [mention_id]}})["hits"]["hits"]
        return hits[0]["_source"] if hits else {}
    finally:
        client.close()
