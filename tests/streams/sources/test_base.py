"""The connector framework: checkpoints, back-off, rate limits, the HTTP client's retries and errors, the runner."""

from __future__ import annotations

import json
import random
import time
from datetime import datetime, timezone

import pytest
from aiohttp import web

from streams.schema import Mention
from streams.sources.base import (
    REGISTRY,
    Batch,
    Checkpoints,
    Connector,
    RetryPolicy,
    SourceError,
    TokenBucket,
    exhausted_until,
    retry_after,
    seconds_until,
)
from streams.sources.http import SourceHttp, parse_link_header
from streams.sources.runner import Runner
from tests.streams.sources.fakes import FakeServer, MemoryPublisher, RecordingSleep, free_port

NOW = 1_732_100_000.0


def _mention(i: int) -> Mention:
    return Mention(id=f"t:{i}", source="test", text=f"mention {i}", published_at=datetime(2024, 11, 20, tzinfo=timezone.utc))


# --- checkpoints ----------------------------------------------------------------------------------------


def test_checkpoints_round_trip_atomically_and_per_source(tmp_path):
    checkpoints = Checkpoints(tmp_path / "state")
    assert checkpoints.load("rss:https://a.example/feed/") == {}
    path = checkpoints.save("rss:https://a.example/feed/", {"seen": ["x"], "etag": '"1"'})
    checkpoints.save("rss:https://b.example/feed/", {"seen": ["y"]})
    assert checkpoints.load("rss:https://a.example/feed/") == {"seen": ["x"], "etag": '"1"'}
    assert checkpoints.load("rss:https://b.example/feed/") == {"seen": ["y"]}
    assert json.loads(path.read_text())["source_id"] == "rss:https://a.example/feed/"
    checkpoints.save("rss:https://a.example/feed/", {"seen": ["x", "z"]})
    assert checkpoints.load("rss:https://a.example/feed/")["seen"] == ["x", "z"]
    # no temporary files are left behind, and the file names are safe
    assert sorted(p.name.startswith(".") for p in (tmp_path / "state").iterdir()) == [False, False]
    assert all("/" not in p.name and ":" not in p.name for p in (tmp_path / "state").iterdir())


def test_a_corrupt_checkpoint_is_a_clear_error_naming_the_file_and_the_fix(tmp_path):
    checkpoints = Checkpoints(tmp_path)
    checkpoints.path_for("mastodon:x:tag:lego").write_text("{not json")
    with pytest.raises(SourceError) as info:
        checkpoints.load("mastodon:x:tag:lego")
    message = str(info.value)
    assert "mastodon:x:tag:lego" in message and str(checkpoints.path_for("mastodon:x:tag:lego")) in message
    assert "not valid JSON" in message and "Delete the file" in message


# --- back-off, rate-limit headers, token bucket ---------------------------------------------------------


def test_backoff_is_exponential_with_jitter_and_capped():
    policy = RetryPolicy(base_s=1.0, cap_s=8.0, rng=random.Random(1))
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (9, 8.0)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(full / 2 <= d <= full for d in delays), (attempt, delays)
        assert len(delays) > 1  # jittered


@pytest.mark.parametrize(
    "value, expected",
    [
        ("30", 30.0),  # Retry-After delta-seconds / Reddit's X-Ratelimit-Reset
        ("412.0", 412.0),
        (str(NOW + 90), 90.0),  # epoch seconds
        ("Wed, 20 Nov 2024 10:55:00 GMT", (datetime(2024, 11, 20, 10, 55, tzinfo=timezone.utc).timestamp() - NOW)),
        ("2024-11-20T10:55:00.000Z", (datetime(2024, 11, 20, 10, 55, tzinfo=timezone.utc).timestamp() - NOW)),  # Mastodon
        ("soon", None),
        ("", None),
        ("-5", None),
    ],
)
def test_seconds_until_reads_every_rate_limit_header_format(value, expected):
    result = seconds_until(value, now=NOW)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(max(0.0, expected), abs=0.01)


def test_retry_after_prefers_retry_after_then_the_reset_header_and_exhaustion_needs_zero_remaining():
    assert retry_after({"Retry-After": "7", "X-RateLimit-Reset": "100"}, now=NOW) == 7
    assert retry_after({"x-ratelimit-reset": "12"}, now=NOW) == 12
    assert retry_after({}, now=NOW) is None
    assert exhausted_until({"X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Reset": "42"}, now=NOW) == 42
    assert exhausted_until({"X-Ratelimit-Remaining": "3.0", "X-Ratelimit-Reset": "42"}, now=NOW) is None
    assert exhausted_until({}, now=NOW) is None


async def test_token_bucket_spaces_requests_at_the_configured_rate():
    clock = [0.0]
    sleep = RecordingSleep()

    async def advancing_sleep(seconds: float) -> None:
        await sleep(seconds)
        clock[0] += seconds

    bucket = TokenBucket(2.0, burst=1, clock=lambda: clock[0], sleep=advancing_sleep)
    waited = [await bucket.acquire() for _ in range(4)]
    assert waited[0] == 0.0
    assert waited[1:] == [pytest.approx(0.5)] * 3
    assert clock[0] == pytest.approx(1.5)  # 4 requests at 2/s


def test_link_header_parsing():
    links = parse_link_header('<https://m.example/api/v1/timelines/tag/lego?max_id=1>; rel="next", <https://m.example/api/v1/timelines/tag/lego?min_id=9>; rel="prev"')
    assert links == {"next": "https://m.example/api/v1/timelines/tag/lego?max_id=1", "prev": "https://m.example/api/v1/timelines/tag/lego?min_id=9"}
    assert parse_link_header(None) == {} and parse_link_header("garbage") == {}


# --- the HTTP client: retries, waits and errors against a local server ----------------------------------


class _Api(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.app.router.add_get("/ok", self.ok)
        self.app.router.add_get("/html", self.html)
        self.headers: dict[str, str] = {}

    async def ok(self, request):
        return web.json_response({"ok": True}, headers=self.headers)

    async def html(self, request):
        return web.Response(text="<html>login</html>", content_type="text/html")


@pytest.fixture
async def api():
    server = await _Api().start()
    yield server
    await server.close()


def _sample(name: str, source: str) -> float:
    return REGISTRY.get_sample_value(name, {"source": source}) or 0.0


async def test_5xx_is_retried_with_backoff_then_succeeds(api):
    sleep = RecordingSleep()
    http = SourceHttp(policy=RetryPolicy(max_attempts=4, base_s=1.0, cap_s=10.0), sleep=sleep)
    api.fail_next(503, times=2, body="overloaded")
    before = _sample("lytter_ingest_errors_total", "test:5xx")
    data, _ = await http.get_json("test:5xx", f"{api.url}/ok")
    await http.aclose()
    assert data == {"ok": True}
    assert len(sleep.waits) == 2 and 0.5 <= sleep.waits[0] <= 1.0 and 1.0 <= sleep.waits[1] <= 2.0
    assert _sample("lytter_ingest_errors_total", "test:5xx") == before + 2


async def test_429_waits_what_retry_after_says(api):
    sleep = RecordingSleep()
    http = SourceHttp(sleep=sleep)
    api.fail_next(429, headers={"Retry-After": "7"})
    api.fail_next(429, headers={"X-RateLimit-Reset": "3"})
    data, _ = await http.get_json("test:429", f"{api.url}/ok")
    await http.aclose()
    assert data == {"ok": True} and sleep.waits == [7.0, 3.0]


async def test_429_asking_for_too_long_a_wait_is_reported_not_waited_for(api):
    http = SourceHttp(policy=RetryPolicy(max_retry_after_s=60), sleep=RecordingSleep())
    api.fail_next(429, headers={"Retry-After": "3600"})
    with pytest.raises(SourceError) as info:
        await http.get("test:429long", f"{api.url}/ok")
    await http.aclose()
    assert info.value.retryable and "3600s" in str(info.value) and api.url in str(info.value)


async def test_exhausted_rate_limit_makes_the_next_request_wait_for_the_reset(api):
    sleep = RecordingSleep()
    http = SourceHttp(sleep=sleep)
    api.headers = {"X-Ratelimit-Remaining": "0.0", "X-Ratelimit-Used": "100", "X-Ratelimit-Reset": "30"}
    await http.get("test:window", f"{api.url}/ok")
    assert sleep.waits == []
    api.headers = {}
    await http.get("test:window", f"{api.url}/ok")
    await http.aclose()
    assert len(sleep.waits) == 1 and 29.0 <= sleep.waits[0] <= 30.0


async def test_4xx_is_not_retried_and_the_error_says_what_to_do(api):
    sleep = RecordingSleep()
    http = SourceHttp(sleep=sleep)
    api.fail_next(404, body='{"error":"Record not found"}')
    with pytest.raises(SourceError) as info:
        await http.get("mastodon:x:tag:nope", f"{api.url}/ok")
    await http.aclose()
    message = str(info.value)
    assert message.startswith(f"mastodon:x:tag:nope: {api.url}/ok: HTTP 404")
    assert "Record not found" in message and "check the URL" in message
    assert not info.value.retryable and sleep.waits == []


async def test_an_unreachable_source_fails_after_the_last_attempt_naming_the_url():
    url = f"http://127.0.0.1:{free_port()}/feed/"
    sleep = RecordingSleep()
    http = SourceHttp(policy=RetryPolicy(max_attempts=3), sleep=sleep)
    with pytest.raises(SourceError) as info:
        await http.get("rss:dead", url)
    await http.aclose()
    assert url in str(info.value) and "cannot reach" in str(info.value) and "gave up after 3 attempts" in str(info.value)
    assert info.value.retryable and len(sleep.waits) == 2


async def test_a_web_page_where_json_was_expected_is_a_clear_malformed_error(api):
    http = SourceHttp()
    with pytest.raises(SourceError) as info:
        await http.get_json("reddit:r/x:new", f"{api.url}/html")
    await http.aclose()
    assert "not JSON" in str(info.value) and "text/html" in str(info.value) and "<html>login" in str(info.value)


# --- the runner ---------------------------------------------------------------------------------------


class _Pages(Connector):
    """Three pages; the state is the number of pages read."""

    kind = "test"

    def __init__(self, source_id: str = "test:pages", fail_at: int | None = None) -> None:
        super().__init__(source_id, interval_s=0.01)
        self.fail_at = fail_at
        self.calls = 0

    async def poll(self, http):
        done = self.state.get("pages", 0)
        for page in range(done, 3):
            self.calls += 1
            if self.fail_at is not None and page == self.fail_at:
                raise SourceError(self.source_id, "http://x/", "HTTP 500", retryable=True)
            yield Batch([_mention(page * 10 + i) for i in range(2)], {"pages": page + 1}, fetched=2, note=f"page {page + 1}")


async def test_runner_checkpoints_only_what_was_acknowledged_and_resumes_without_gap(tmp_path):
    checkpoints = Checkpoints(tmp_path)
    publisher = MemoryPublisher()
    publisher.fail_after(1)  # page 1 published, page 2 refused
    http = SourceHttp()
    report = (await Runner([_Pages()], publisher, checkpoints, http).run_once())["test:pages"]
    assert publisher.ids == ["t:0", "t:1"]
    assert checkpoints.load("test:pages") == {"pages": 1}
    assert report.errors and "not acknowledge" in report.errors[0]

    # a restart: a new runner and connector from the checkpoint -> pages 2 and 3, nothing twice
    publisher.fail_after(None)
    fetched_before = _sample("lytter_ingest_fetched_total", "test:pages")
    report = (await Runner([_Pages()], publisher, Checkpoints(tmp_path), http).run_once())["test:pages"]
    await http.aclose()
    assert publisher.ids == ["t:0", "t:1", "t:10", "t:11", "t:20", "t:21"]
    assert report.ok and report.published == 4 and checkpoints.load("test:pages") == {"pages": 3}
    assert _sample("lytter_ingest_fetched_total", "test:pages") == fetched_before + 4
    assert _sample("lytter_ingest_published_total", "test:pages") >= 6


async def test_one_failing_source_does_not_stop_the_others(tmp_path):
    publisher = MemoryPublisher()
    http = SourceHttp()
    runner = Runner([_Pages("test:bad", fail_at=1), _Pages("test:good")], publisher, Checkpoints(tmp_path), http)
    reports = await runner.run_once()
    await http.aclose()
    assert reports["test:good"].ok and reports["test:good"].published == 6
    assert reports["test:bad"].published == 2 and "HTTP 500" in reports["test:bad"].errors[0]
    assert Checkpoints(tmp_path).load("test:bad") == {"pages": 1}


def test_two_connectors_on_one_source_are_refused(tmp_path):
    with pytest.raises(ValueError, match="share a checkpoint"):
        Runner([_Pages("same"), _Pages("same")], MemoryPublisher(), Checkpoints(tmp_path), None)  # type: ignore[arg-type]


async def test_run_forever_polls_again_and_backs_off_after_errors(tmp_path):
    import asyncio

    connector = _Pages("test:forever", fail_at=2)
    publisher = MemoryPublisher()
    http = SourceHttp()
    runner = Runner([connector], publisher, Checkpoints(tmp_path), http, reconnect_policy=RetryPolicy(base_s=0.01, cap_s=0.02))
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run_forever(stop))
    deadline = time.monotonic() + 5
    while connector.calls < 6 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    stop.set()
    reports = await task
    await http.aclose()
    assert connector.calls >= 6  # kept trying page 3
    assert publisher.ids == ["t:0", "t:1", "t:10", "t:11"]  # and never re-published pages 1-2
    assert len(reports["test:forever"].errors) >= 2


def test_loopback_addresses():
    from streams.sources.base import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.5", "::", "example.org"))


def test_ingest_metrics_listen_on_loopback_by_default():
    from streams.settings import Settings

    assert Settings().ingest_metrics_host == "127.0.0.1"
