"""Alert delivery against real local servers: an aiohttp webhook receiver and an aiosmtpd SMTP server.

Nothing of the HTTP or SMTP layer is mocked: the channels talk over sockets on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import json
import re
import logging
import socket
import time
import traceback
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from rich.console import Console

from streams.alerting.delivery import (
    AlertChannel,
    ConsoleChannel,
    DeliveryError,
    EmailChannel,
    WebhookChannel,
    channels_from_env,
    deliver_all,
    email_subject,
    parse_retry_after,
    redact_url,
    render_plain_text,
    slack_escape,
    slack_payload,
)

TOKEN = "xQ9sEcReTtOkEn4711zz"
HOSTILE_TEXT = 'Boikott! <!channel> <https://evil.example/phish|click me> & <script>alert("x")</script> [bold red]not markup[/bold red]'


def make_alert(**overrides):
    alert = {
        "alert_id": "nordlys-energi:volume_spike:20250115T0945",
        "brand": "Nordlys Energi",
        "rule": "volume_spike",
        "severity": "critical",
        "title": "Volume spike: 64 mentions in 5 min (baseline 3.1)",
        "status": "open",
        "opened_at": "2025-01-15T09:46:00+00:00",
        "updated_at": "2025-01-15T09:46:00+00:00",
        "updates": 0,
        "evidence": {
            "mentions": 64,
            "baseline": 3.1,
            "negative_share": 0.83,
            "top_mentions": [
                {
                    "id": "scenario:7:00421",
                    "url": "https://bluesky.example/@forbrukerkrigeren/421",
                    "text": HOSTILE_TEXT,
                    "author": "forbrukerkrigeren",
                    "impact": 0.97,
                },
                {
                    "id": "scenario:7:00430",
                    "url": "javascript:alert(1)",  # not a link anywhere
                    "text": "Nordlys Energi må tilbakekalle ladeboksene nå.",
                    "author": "kari_n",
                    "impact": 0.41,
                },
            ],
        },
    }
    alert.update(overrides)
    return alert


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------------
# webhook receiver


class Receiver:
    """Records every request; answers from ``script`` (status, headers, body, delay) and then 200 "ok"."""

    def __init__(self) -> None:
        self.requests: list[SimpleNamespace] = []
        self.script: list[tuple[int, dict[str, str], str, float]] = []
        self.base = ""

    def then(self, status: int, body: str = "", headers: dict[str, str] | None = None, delay: float = 0.0) -> "Receiver":
        self.script.append((status, headers or {}, body, delay))
        return self

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(SimpleNamespace(method=request.method, path=request.path, headers=dict(request.headers), body=body, at=time.monotonic()))
        status, headers, text, delay = self.script.pop(0) if self.script else (200, {}, "ok", 0.0)
        if delay:
            await asyncio.sleep(delay)
        return web.Response(status=status, headers=headers, text=text)

    @property
    def secret_url(self) -> str:
        return f"{self.base}/services/T0LYTTER/B0ALERTS/{TOKEN}"

    def gaps(self) -> list[float]:
        return [b.at - a.at for a, b in zip(self.requests, self.requests[1:], strict=False)]


@pytest.fixture
async def receiver():
    rec = Receiver()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield rec
    finally:
        await runner.cleanup()


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text
        assert "B0ALERTS" not in text


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
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert slack_escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"


def test_slack_payload_tolerates_a_sparse_alert():
    payload = slack_payload({"brand": "Fjordbank", "severity": "bogus", "evidence": {"counts": {"mentions": 3}}})
    assert payload["text"].startswith("ℹ️ [INFO] Fjordbank")
    fields = [f["text"] for block in payload["blocks"] for f in block.get("fields", [])]
    assert fields == ["*mentions*\n3"]


# --------------------------------------------------------------------------------------------------
# SMTP server


class MailHandler:
    def __init__(self) -> None:
        self.received: list = []
        self.data_replies: list[str] = []
        self.data_delay = 0.0
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(envelope)
        return "250 Message accepted for delivery"


USER, PASSWORD = "lytter", "pw-Hunter2-sEcReT"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 235 / 535 itself


@pytest.fixture
def smtp():
    handler = MailHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=_authenticator, auth_require_tls=False)
    controller.start()
    try:
        yield SimpleNamespace(handler=handler, host="127.0.0.1", port=controller.port)
    finally:
        controller.stop()


def email_channel(smtp, **kw) -> EmailChannel:
    kw.setdefault("backoff", 0.02)
    return EmailChannel(smtp.host, smtp.port, "lytter@alerts.example", ["brand@nordlys.example", "pr@nordlys.example"], **kw)


async def test_email_is_delivered_with_subject_recipients_and_escaped_html(smtp):
    await email_channel(smtp).deliver(make_alert())
    (envelope,) = smtp.handler.received
    assert envelope.mail_from == "lytter@alerts.example"
    assert envelope.rcpt_tos == ["brand@nordlys.example", "pr@nordlys.example"]
    msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert msg["Subject"] == "[Lytter critical] Nordlys Energi: Volume spike: 64 mentions in 5 min (baseline 3.1)"
    assert msg["To"] == "brand@nordlys.example, pr@nordlys.example"
    assert msg["X-Lytter-Alert-Id"] == "nordlys-energi:volume_spike:20250115T0945"
    plain = msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",)).get_content()
    assert HOSTILE_TEXT in plain  # plain text shows the mention as written
    assert "<script>" not in html_part and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html_part
    assert "&lt;!channel&gt;" in html_part and "&amp;" in html_part
    assert '<a href="https://bluesky.example/@forbrukerkrigeren/421">forbrukerkrigeren</a>' in html_part
    assert "javascript:" not in html_part
    assert "negative share" in plain and "0.83" in html_part


async def test_email_updates_thread_under_the_opening_message(smtp):
    channel = email_channel(smtp)
    await channel.deliver(make_alert())
    await channel.deliver(make_alert(status="updated", updates=2))
    await channel.deliver(make_alert(status="closed"))
    first, update, closed = (email.message_from_bytes(e.original_content, policy=email.policy.default) for e in smtp.handler.received)
    assert update["Subject"].endswith("(update 2)") and closed["Subject"].endswith("(resolved)")
    assert update["In-Reply-To"] == first["Message-ID"] == closed["References"]


async def test_email_retries_temporary_failures(smtp):
    smtp.handler.data_replies = ["451 4.3.0 Try again later", "421 4.7.0 Too busy"]
    await email_channel(smtp, max_attempts=4).deliver(make_alert())
    assert smtp.handler.attempts == 3
    assert len(smtp.handler.received) == 1


async def test_email_permanent_failure_is_not_retried(smtp):
    smtp.handler.data_replies = ["554 5.7.1 Rejected as spam"]
    with pytest.raises(DeliveryError) as info:
        await email_channel(smtp, max_attempts=4).deliver(make_alert())
    assert smtp.handler.attempts == 1
    assert "554" in str(info.value) and str(info.value).startswith("email: ")


async def test_email_login_and_password_never_shown(smtp, caplog):
    caplog.set_level(logging.DEBUG)
    await email_channel(smtp, username=USER, password=PASSWORD).deliver(make_alert())
    assert len(smtp.handler.received) == 1

    bad = email_channel(smtp, username=USER, password=PASSWORD + "-wrong", max_attempts=3)
    assert PASSWORD not in repr(bad)
    with pytest.raises(DeliveryError) as info:
        await bad.deliver(make_alert())
    assert "authentication failed" in str(info.value)
    assert info.value.attempts == 1
    for text in (str(info.value), caplog.text, "".join(traceback.format_exception(info.value))):
        assert PASSWORD not in text


async def test_email_starttls_not_offered_fails_clearly(smtp):
    with pytest.raises(DeliveryError, match="STARTTLS"):
        await email_channel(smtp, starttls=True, max_attempts=3).deliver(make_alert())
    assert smtp.handler.attempts == 0


async def test_email_connection_refused_is_retried_then_reported():
    channel = EmailChannel("127.0.0.1", free_port(), "lytter@alerts.example", "a@x.example", max_attempts=3, backoff=0.02, timeout=2)
    with pytest.raises(DeliveryError) as info:
        await channel.deliver(make_alert())
    assert info.value.attempts == 3
    assert "ConnectionRefusedError" in str(info.value)


async def test_email_does_not_block_the_event_loop(smtp):
    smtp.handler.data_delay = 0.5
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await email_channel(smtp).deliver(make_alert())
    finally:
        task.cancel()
    assert ticks >= 10  # the loop kept running while smtplib waited for the server


def test_email_subject_variants():
    assert email_subject(make_alert(severity="warning", title="Negative\nshare\r\n rising")) == "[Lytter warning] Nordlys Energi: Negative share rising"
    assert email_subject(make_alert(status="updated", updates=1)).endswith("(update 1)")
    assert len(email_subject(make_alert(title="x" * 500))) <= 200


# --------------------------------------------------------------------------------------------------
# console


async def test_console_prints_mention_text_literally():
    out = io.StringIO()
    channel = ConsoleChannel(Console(file=out, width=200, color_system=None, force_terminal=False))
    await channel.deliver(make_alert(title="[red]Volume[/red] spike"))
    text = out.getvalue()
    assert "[bold red]not markup[/bold red]" in text
    assert "[red]Volume[/red] spike" in text
    assert "CRITICAL" in text and "forbrukerkrigeren" in text and "negative share" in text


def test_plain_text_rendering_is_literal():
    text = render_plain_text(make_alert())
    assert HOSTILE_TEXT in text and "Top mentions:" in text
    assert re.search(r"^  mentions +64$", text, re.M) and re.search(r"^  negative share +0.83$", text, re.M)


# --------------------------------------------------------------------------------------------------
# fan-out and configuration


class SlowChannel:
    def __init__(self, name: str, seconds: float, fail: Exception | None = None) -> None:
        self.name, self.seconds, self.fail, self.delivered = name, seconds, fail, []

    async def deliver(self, alert):
        await asyncio.sleep(self.seconds)
        if self.fail:
            raise self.fail
        self.delivered.append(alert)


async def test_deliver_all_isolates_failures(receiver, smtp):
    receiver.then(400, "no_service")
    out = io.StringIO()
    channels = [
        WebhookChannel(receiver.secret_url, backoff=0.01),
        email_channel(smtp),
        SlowChannel("broken", 0.0, RuntimeError("bug in a channel")),
        ConsoleChannel(Console(file=out, width=120, color_system=None)),
    ]
    assert all(isinstance(c, AlertChannel) for c in channels)
    results = await deliver_all(channels, make_alert())
    assert [r.channel for r in results] == ["webhook", "email", "broken", "console"]
    assert [r.ok for r in results] == [False, True, False, True]
    assert "400" in results[0].error and TOKEN not in results[0].error
    assert "RuntimeError: bug in a channel" in results[2].error
    assert len(smtp.handler.received) == 1 and "Nordlys Energi" in out.getvalue()


async def test_deliver_all_runs_channels_concurrently_and_times_out():
    a, b = SlowChannel("a", 0.3), SlowChannel("b", 0.3)
    started = time.monotonic()
    results = await deliver_all([a, b, SlowChannel("stuck", 5.0)], make_alert(), timeout=0.5)
    assert time.monotonic() - started < 1.0
    assert [r.ok for r in results] == [True, True, False]
    assert "within 0.5s" in results[2].error


def test_channels_from_env():
    assert channels_from_env({}) == []
    env = {
        "LYTTER_WEBHOOK_URL": f"https://hooks.slack.com/services/T1/B2/{TOKEN}",
        "LYTTER_SMTP_HOST": "smtp.example",
        "LYTTER_SMTP_SENDER": "lytter@example.com",
        "LYTTER_SMTP_RECIPIENTS": "a@example.com, b@example.com,",
        "LYTTER_SMTP_USERNAME": "lytter",
        "LYTTER_SMTP_PASSWORD": PASSWORD,
        "LYTTER_SMTP_STARTTLS": "true",
    }
    webhook, mail = channels_from_env(env)
    assert isinstance(webhook, WebhookChannel) and isinstance(mail, EmailChannel)
    assert mail.port == 587 and mail.starttls and mail.recipients == ["a@example.com", "b@example.com"]
    assert PASSWORD not in repr(mail) and TOKEN not in repr(webhook)
    only_mail = channels_from_env({k: v for k, v in env.items() if k != "LYTTER_WEBHOOK_URL"} | {"LYTTER_SMTP_PORT": "2525"}, console=True)
    assert [type(c).__name__ for c in only_mail] == ["ConsoleChannel", "EmailChannel"] and only_mail[1].port == 2525
    with pytest.raises(ValueError, match="LYTTER_SMTP_RECIPIENTS"):
        channels_from_env({"LYTTER_SMTP_HOST": "smtp.example", "LYTTER_SMTP_SENDER": "x@example.com"})
    with pytest.raises(ValueError, match="LYTTER_SMTP_STARTTLS"):
        channels_from_env(env | {"LYTTER_SMTP_STARTTLS": "maybe"})


def test_each_alert_version_has_its_own_idempotency_key():
    from streams.alerting.delivery import idempotency_key

    opened = {"alert_id": "a1", "updates": 0, "action": "open"}
    updated = {"alert_id": "a1", "updates": 1, "action": "update"}
    closed = {"alert_id": "a1", "updates": 1, "action": "close"}
    keys = [idempotency_key(a) for a in (opened, updated, closed)]
    assert len(set(keys)) == 3
    assert idempotency_key(dict(opened)) == keys[0]  # a replay of the same version repeats its key
