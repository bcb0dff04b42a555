"""The e-mail channel against a real local aiosmtpd server: message, threading, retries, auth, TLS, threads."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import traceback

import pytest

from streams.alerting.delivery import DeliveryError, EmailChannel, email_subject
from tests.streams.alerting.delivery.conftest import HOSTILE_TEXT, PASSWORD, USER, email_channel, free_port, make_alert


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

