"""Shared by the delivery tests: a sample alert (with hostile mention text), and real local servers.

``receiver``: an aiohttp webhook receiver on 127.0.0.1 that records every request and answers from a
script. ``smtp``: an aiosmtpd SMTP server on 127.0.0.1 (with LOGIN/PLAIN auth). Nothing of the HTTP or
SMTP layer is mocked: the channels talk over sockets. ``clean_env``: no ``LYTTER_*`` variable from the
developer's shell reaches a ``Settings()``.

The helpers are imported by the test modules (``from tests.streams.alerting.delivery.conftest import ...``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from streams.alerting.delivery import EmailChannel

TOKEN = "xQ9sEcReTtOkEn4711zz"
HOSTILE_TEXT = 'Boikott! <!channel> <https://evil.example/phish|click me> & <script>alert("x")</script> [bold red]not markup[/bold red]'
USER, PASSWORD = "lytter", "pw-Hunter2-sEcReT"


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



# --------------------------------------------------------------------------------------------------
# settings


@pytest.fixture
def clean_env(monkeypatch):
    """No LYTTER_* variable of the surrounding shell leaks into a Settings() built by the test."""
    for name in list(os.environ):
        if name.startswith("LYTTER_"):
            monkeypatch.delenv(name)
