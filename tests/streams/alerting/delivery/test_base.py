"""The shared part: plain-text rendering, and the fan-out to every channel (real webhook and SMTP servers)."""

from __future__ import annotations

import asyncio
import io
import re
import time

from rich.console import Console

from streams.alerting.delivery import AlertChannel, ConsoleChannel, WebhookChannel, deliver_all, render_plain_text
from tests.streams.alerting.delivery.conftest import HOSTILE_TEXT, TOKEN, email_channel, make_alert


def test_plain_text_rendering_is_literal():
    text = render_plain_text(make_alert())
    assert HOSTILE_TEXT in text and "Top mentions:" in text
    assert re.search(r"^  mentions +64$", text, re.M) and re.search(r"^  negative share +0.83$", text, re.M)



# --------------------------------------------------------------------------------------------------
# fan-out


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

