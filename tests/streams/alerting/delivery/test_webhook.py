"""The webhook channel against a real local aiohttp receiver: body, escaping, retries, Retry-After, secrets."""

from __future__ import annotations

import json
import logging
import time
import traceback

import pytest

from streams.alerting.delivery import DeliveryError, WebhookChannel, idempotency_key, redact_url, slack_escape, slack_payload
from streams.sources.base import seconds_until
from tests.streams.alerting.delivery.conftest import TOKEN, assert_no_secret, free_port, make_alert


async def test_webhook_posts_slack_compatible_body_with_raw_alert(receiver, caplog):
    caplog.set_level(logging.DEBUG)
    alert = make_alert()
    channel = WebhookChannel(receiver.secret_url, backoff=0.01)
    await channel.deliver(alert)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.method == "POST"
    assert request.path == f"/services/T0LYTTER/B0ALERTS/{TOKEN}"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["Idempotency-Key"] == f"{alert['alert_id']}-{int(alert.get('updates') or 0)}-{alert.get('action') or alert.get('status')}"
    body = json.loads(request.body)
    assert body["lytter_alert"] == alert
    assert "CRITICAL" in body["text"] and "Nordlys Energi" in body["text"]
    assert body["blocks"][0]["type"] == "header"
    blob = json.dumps(body["blocks"], ensure_ascii=False)
    assert "Volume spike" in blob
    assert "*mentions*\\n64" in blob and "0.83" in blob
    # the top mention is a link on its author; the non-http URL is not linked
    assert "<https://bluesky.example/@forbrukerkrigeren/421|forbrukerkrigeren>" in blob
    assert "javascript:" not in blob
    # httpx logs the request at INFO: the line is there, the token is not
    assert "HTTP Request: POST" in caplog.text
    assert_no_secret(caplog.text)


async def test_webhook_escapes_mention_text_for_mrkdwn(receiver):
    await WebhookChannel(receiver.secret_url).deliver(make_alert())
    body = json.loads(receiver.requests[0].body)
    texts = [block["text"]["text"] for block in body["blocks"] if block.get("type") == "section" and "text" in block]
    mention_block = next(t for t in texts if "Boikott!" in t)
    assert "&lt;!channel&gt;" in mention_block
    assert "&lt;https://evil.example/phish|click me&gt;" in mention_block
    assert "&amp;" in mention_block and "&lt;script&gt;" in mention_block
    # the only "<" left in the block is the one link Lytter made itself
    assert mention_block.count("<") == 1 and mention_block.startswith("*<https://bluesky.example/")
    assert all(block["text"].get("verbatim") for block in body["blocks"] if block.get("type") == "section" and "text" in block)


async def test_webhook_retries_5xx_with_exponential_backoff(receiver):
    receiver.then(500, "boom").then(502, "bad gateway")
    started = time.monotonic()
    await WebhookChannel(receiver.secret_url, backoff=0.1, max_attempts=5).deliver(make_alert())
    assert len(receiver.requests) == 3
    first, second = receiver.gaps()
    # before retry n the wait is in [b/2, b] with b = 0.1 * 2**(n-1)
    assert 0.045 <= first < 0.5
    assert 0.095 <= second < 0.6
    assert time.monotonic() - started < 2.0
    assert receiver.requests[0].body == receiver.requests[2].body


async def test_webhook_honours_retry_after_on_429(receiver):
    receiver.then(429, "rate_limited", headers={"Retry-After": "1"})
    await WebhookChannel(receiver.secret_url, backoff=0.01).deliver(make_alert())
    assert len(receiver.requests) == 2
    (gap,) = receiver.gaps()
    assert 0.95 <= gap < 2.5


async def test_webhook_retry_after_is_capped(receiver):
    receiver.then(429, headers={"Retry-After": "3600"})
    started = time.monotonic()
    await WebhookChannel(receiver.secret_url, backoff=0.01, max_retry_after=0.2).deliver(make_alert())
    assert len(receiver.requests) == 2
    assert time.monotonic() - started < 1.5


async def test_webhook_does_not_retry_other_4xx_and_names_the_status(receiver, caplog):
    caplog.set_level(logging.DEBUG)
    receiver.then(400, "invalid_payload")
    channel = WebhookChannel(receiver.secret_url, backoff=0.01)
    with pytest.raises(DeliveryError) as info:
        await channel.deliver(make_alert())
    assert len(receiver.requests) == 1
    message = str(info.value)
    assert "400" in message and "invalid_payload" in message
    assert message.startswith("webhook: ")
    assert redact_url(receiver.secret_url) in message
    assert_no_secret(message, caplog.text, "".join(traceback.format_exception(info.value)))


async def test_webhook_gives_up_after_max_attempts_and_scrubs_echoed_token(receiver, caplog):
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        receiver.then(503, f"service unavailable for /services/T0LYTTER/B0ALERTS/{TOKEN} (token {TOKEN})")
    with pytest.raises(DeliveryError) as info:
        await WebhookChannel(receiver.secret_url, max_attempts=3, backoff=0.01).deliver(make_alert())
    assert len(receiver.requests) == 3
    assert info.value.attempts == 3
    assert "gave up after 3 attempts" in str(info.value) and "503" in str(info.value)
    assert_no_secret(str(info.value), caplog.text, "".join(traceback.format_exception(info.value)))


async def test_webhook_connection_refused_is_retried_and_secret_never_shown(caplog):
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{free_port()}/services/T0LYTTER/B0ALERTS/{TOKEN}"
    channel = WebhookChannel(url, max_attempts=3, backoff=0.02)
    assert_no_secret(repr(channel), str(channel))
    assert "http://127.0.0.1:" in repr(channel)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as info:
        await channel.deliver(make_alert())
    assert time.monotonic() - started < 3.0
    assert info.value.attempts == 3
    assert "ConnectError" in str(info.value)
    retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 2
    assert_no_secret(str(info.value), repr(info.value), caplog.text, "".join(traceback.format_exception(info.value)))


async def test_webhook_read_timeout_is_retried(receiver):
    receiver.then(200, delay=1.0).then(200, delay=1.0)
    with pytest.raises(DeliveryError, match="ReadTimeout"):
        await WebhookChannel(receiver.secret_url, timeout=0.2, max_attempts=2, backoff=0.01).deliver(make_alert())
    assert len(receiver.requests) == 2


def test_webhook_rejects_non_http_url_without_echoing_it():
    with pytest.raises(ValueError) as info:
        WebhookChannel(f"ftp://files.example/{TOKEN}")
    assert_no_secret(str(info.value))


def test_redact_url_and_retry_after_parsing():
    assert redact_url(f"https://hooks.slack.com/services/T1/B2/{TOKEN}?x=1") == "https://hooks.slack.com/…"
    assert redact_url(f"https://user:{TOKEN}@example.com:8443/x") == "https://example.com:8443/…"
    # the webhook reads a 429's Retry-After with the sources' parser (the one Lytter has)
    assert seconds_until("7") == 7.0
    assert seconds_until(None) is None and seconds_until("soon") is None
    assert seconds_until("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert slack_escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"


def test_slack_payload_tolerates_a_sparse_alert():
    payload = slack_payload({"brand": "Fjordbank", "severity": "bogus", "evidence": {"counts": {"mentions": 3}}})
    assert payload["text"].startswith("ℹ️ [INFO] Fjordbank")
    fields = [f["text"] for block in payload["blocks"] for f in block.get("fields", [])]
    assert fields == ["*mentions*\n3"]



def test_each_alert_version_has_its_own_idempotency_key():
    opened = {"alert_id": "a1", "updates": 0, "action": "open"}
    updated = {"alert_id": "a1", "updates": 1, "action": "update"}
    closed = {"alert_id": "a1", "updates": 1, "action": "close"}
    keys = [idempotency_key(a) for a in (opened, updated, closed)]
    assert len(set(keys)) == 3
    assert idempotency_key(dict(opened)) == keys[0]  # a replay of the same version repeats its key
