"""E-mailing a digest through the project's SMTP channel (:class:`streams.alerting.delivery.EmailChannel`).

The message is multipart/alternative: the plain text, then the HTML in a multipart/related with the
charts as ``cid:`` parts (mail clients block ``data:`` images more often than attached ones). Sending
reuses the channel's connection handling, TLS, login, error classification and retries.
"""

from __future__ import annotations

import asyncio
import email.utils
from email.message import EmailMessage

from streams.alerting.delivery.base import _with_retries
from streams.alerting.delivery.email import EmailChannel, _split_recipients
from streams.digest.build import Digest
from streams.digest.charts import Chart
from streams.digest.queries import DigestError
from streams.digest.report import period_text_short, render_html
from streams.settings import Settings


def digest_recipients(settings: Settings) -> list[str]:
    return _split_recipients(settings.digest_recipients or "") or _split_recipients(settings.smtp_recipients or "")


def digest_channel(settings: Settings, **options) -> EmailChannel:
    """The SMTP channel from the smtp_* settings, addressed to the digest recipients."""
    host, sender = (settings.smtp_host or "").strip(), (settings.smtp_sender or "").strip()
    recipients = digest_recipients(settings)
    missing = [name for name, value in (("LYTTER_SMTP_HOST", host), ("LYTTER_SMTP_SENDER", sender)) if not value]
    if not recipients:
        missing.append("LYTTER_DIGEST_RECIPIENTS (or LYTTER_SMTP_RECIPIENTS)")
    if missing:
        raise DigestError(f"cannot e-mail the digest: set {', '.join(missing)}")
    starttls, use_ssl = bool(settings.smtp_starttls), bool(settings.smtp_ssl)
    port = settings.smtp_port or (587 if starttls else 465 if use_ssl else 25)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return EmailChannel(
        host, port, sender, recipients, username=(settings.smtp_username or "").strip() or None, password=password or None,
        starttls=starttls, use_ssl=use_ssl, name="digest e-mail", **options,
    )


def _cid(chart: Chart) -> str:
    return f"{chart.name}@lytter.invalid"


def digest_subject(digest: Digest) -> str:
    return f"[Lytter digest] {digest.data.title}: {digest.data.total} mentions, {period_text_short(digest.data.period)}"


def render_digest_email(digest: Digest, sender: str, recipients: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = digest_subject(digest)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = email.utils.make_msgid(domain="lytter.invalid")
    msg.set_content(digest.text)
    msg.add_alternative(render_html(digest.data, digest.charts, digest.generated_at, image_src=lambda c: f"cid:{_cid(c)}"), subtype="html")
    html_part = msg.get_payload()[1]
    for chart in digest.charts:
        html_part.add_related(chart.png, "image", "png", cid=f"<{_cid(chart)}>", filename=f"{chart.name}.png")
    return msg


async def send_digest(settings: Settings, digest: Digest, channel: EmailChannel | None = None) -> EmailMessage:
    """E-mail the digest; raises :class:`~streams.alerting.delivery.base.DeliveryError` naming the cause."""
    channel = channel or digest_channel(settings)
    msg = render_digest_email(digest, channel.sender, channel.recipients)

    async def attempt() -> None:
        await asyncio.to_thread(channel._send_sync, msg)

    await _with_retries(channel.name, channel.policy, attempt)
    return msg
