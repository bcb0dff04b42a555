"""The e-mail channel: :class:`EmailChannel` and the message it sends (:func:`render_email`).

The e-mail is plain text (:func:`streams.alerting.delivery.base.render_plain_text`) with an HTML
alternative (:func:`render_html`, every value HTML-escaped), under :func:`email_subject`. An alert's first
message gets a Message-ID derived from its ``alert_id``; its updates and its close refer to it, so mail
clients thread them. :class:`EmailChannel` sends with the stdlib ``smtplib`` in a worker thread (the event
loop never blocks), retrying connection errors and temporary (4xx) SMTP replies.
"""

from __future__ import annotations

import asyncio
import email.utils
import html
import logging
import re
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from email.message import EmailMessage
from typing import Any

from streams.alerting.delivery.base import (
    SEVERITY_EMOJI,
    _headline,
    _one_line,
    _Permanent,
    _Retryable,
    _s,
    _severity,
    _shorten,
    _status_phrase,
    _with_retries,
    alert_counts,
    render_plain_text,
    top_mentions,
)
from streams.sources.base import RetryPolicy

log = logging.getLogger(__name__)

SEVERITY_HTML_COLOUR = {"info": "#1d70b8", "warning": "#b58105", "critical": "#c0392b"}


def email_subject(alert: Mapping[str, Any]) -> str:
    """``[Lytter critical] Lego: Volume spike`` (+ `` (update 2)`` / `` (resolved)``), one line, at most 200 chars."""
    status = _s(alert.get("status"), "open").lower()
    suffix = ""
    if status == "updated":
        updates = alert.get("updates")
        suffix = f" (update {updates})" if isinstance(updates, int) and not isinstance(updates, bool) else " (updated)"
    elif status == "closed":
        suffix = " (resolved)"
    return _shorten(f"[Lytter {_severity(alert)}] {_headline(alert)}{suffix}", 200)


def render_html(alert: Mapping[str, Any]) -> str:
    """The alert as a small self-contained HTML document; every value is HTML-escaped."""
    e = html.escape
    severity = _severity(alert)
    colour = SEVERITY_HTML_COLOUR[severity]
    rows = [
        ("Brand", _s(alert.get("brand"), "-")),
        ("Rule", _s(alert.get("rule"), "-")),
        ("Status", _status_phrase(alert)),
    ]
    if alert.get("opened_at"):
        rows.append(("Opened", _s(alert.get("opened_at"))))
    if alert.get("updated_at"):
        rows.append(("Updated", _s(alert.get("updated_at"))))
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"></head><body style="font-family: sans-serif; line-height: 1.4">',
        f'<p style="color: {colour}; font-weight: bold; margin: 0">{e(SEVERITY_EMOJI[severity])} {e(severity.upper())}</p>',
        f"<h2 style=\"margin-top: 4px\">{e(_headline(alert))}</h2>",
        '<table cellpadding="3" style="border-collapse: collapse">',
        *(f"<tr><th align=\"left\">{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows),
        "</table>",
    ]
    counts = alert_counts(alert)
    if counts:
        parts.append("<h3>Evidence</h3>")
        parts.append('<table cellpadding="3" style="border-collapse: collapse">')
        parts += [f"<tr><th align=\"left\">{e(label)}</th><td align=\"right\">{e(value)}</td></tr>" for label, value in counts]
        parts.append("</table>")
    mentions = top_mentions(alert)
    if mentions:
        parts.append("<h3>Top mentions</h3>")
        parts.append("<ol>")
        for mention in mentions:
            who = e(mention.author)
            if mention.url:
                who = f'<a href="{e(mention.url, quote=True)}">{who}</a>'
            impact = f" <small>(impact {e(mention.impact)})</small>" if mention.impact is not None else ""
            parts.append(f"<li><strong>{who}</strong>{impact}<br><span>{e(mention.text)}</span></li>")
        parts.append("</ol>")
    if alert.get("alert_id"):
        parts.append(f'<p style="color: #777; font-size: small">Lytter alert {e(_s(alert.get("alert_id")))}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _message_id_for(alert_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", alert_id)[:120] or "alert"
    return f"<lytter-alert-{safe}@lytter.invalid>"


def render_email(alert: Mapping[str, Any], sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The e-mail: subject from :func:`email_subject`, plain text + HTML alternative.

    An alert's first message gets a Message-ID derived from ``alert_id``; updates and the close refer to
    it (``In-Reply-To``/``References``), so mail clients thread an alert's messages together.
    """
    msg = EmailMessage()
    msg["Subject"] = email_subject(alert)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    alert_id = _one_line(_s(alert.get("alert_id")))
    status = _s(alert.get("status"), "open").lower()
    if alert_id:
        root = _message_id_for(alert_id)
        if status == "open":
            msg["Message-ID"] = root
        else:
            msg["Message-ID"] = email.utils.make_msgid(domain="lytter.invalid")
            msg["In-Reply-To"] = root
            msg["References"] = root
        msg["X-Lytter-Alert-Id"] = _shorten(alert_id, 200)
    else:
        msg["Message-ID"] = email.utils.make_msgid(domain="lytter.invalid")
    msg["X-Lytter-Severity"] = _severity(alert)
    msg.set_content(render_plain_text(alert))
    msg.add_alternative(render_html(alert), subtype="html")
    return msg


def _split_recipients(recipients: str | Iterable[str]) -> list[str]:
    items = recipients.split(",") if isinstance(recipients, str) else list(recipients)
    return [r.strip() for r in items if r and r.strip()]


class EmailChannel:
    """Send alerts as e-mail (plain text + HTML) through an SMTP server.

    ``smtplib`` runs in a worker thread, so the event loop never blocks. ``starttls=True`` upgrades a plain
    connection (submission, port 587); ``use_ssl=True`` connects with implicit TLS (port 465). Connection
    errors, timeouts and temporary (4xx) replies are retried with back-off; authentication failures and
    permanent (5xx) replies are not. The password is never logged nor shown in ``repr`` or errors.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: str | Sequence[str],
        username: str | None = None,
        password: Any = None,
        starttls: bool = False,
        timeout: float = 10,
        *,
        use_ssl: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        name: str = "email",
    ) -> None:
        if not host:
            raise ValueError("SMTP host is empty")
        if not sender:
            raise ValueError("e-mail sender is empty")
        self.recipients = _split_recipients(recipients)
        if not self.recipients:
            raise ValueError("e-mail needs at least one recipient")
        if starttls and use_ssl:
            raise ValueError("choose starttls (upgrade a plain connection) or use_ssl (implicit TLS), not both")
        self.host = host
        self.port = int(port)
        self.sender = sender
        self.username = username or None
        if hasattr(password, "get_secret_value"):  # pydantic SecretStr
            password = password.get_secret_value()
        self._password: str | None = password or None
        self.starttls = bool(starttls)
        self.use_ssl = bool(use_ssl)
        self._ssl_context = ssl_context
        self.timeout = float(timeout)
        self.name = name
        self.policy = RetryPolicy(max_attempts=max_attempts, base_s=backoff, cap_s=max_backoff, max_retry_after_s=60.0)

    def __repr__(self) -> str:
        security = "starttls" if self.starttls else "ssl" if self.use_ssl else "plain"
        auth = f", username={self.username!r}, password=***" if self.username else ""
        return f"EmailChannel(name={self.name!r}, host={self.host!r}, port={self.port}, {security}, recipients={self.recipients!r}{auth})"

    __str__ = __repr__

    def _scrub(self, text: str) -> str:
        if self._password:
            text = text.replace(self._password, "***")
        return text

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _send_sync(self, msg: EmailMessage) -> None:
        where = f"{self.host}:{self.port}"
        try:
            if self.use_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls:
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self._password or "")
                refused = smtp.send_message(msg, from_addr=self.sender, to_addrs=self.recipients)
        except smtplib.SMTPNotSupportedError as exc:
            raise _Permanent(f"{where}: {self._scrub(str(exc)) or 'command not supported'} (STARTTLS or AUTH not offered)") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise _Permanent(f"{where}: authentication failed for {self.username!r}: {self._reply(exc)}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            message = f"{where}: all recipients refused: " + "; ".join(f"{rcpt} ({code} {self._decode(text)})" for rcpt, (code, text) in exc.recipients.items())
            if any(400 <= code < 500 for code in codes):
                raise _Retryable(message) from None
            raise _Permanent(message) from None
        except smtplib.SMTPConnectError as exc:
            raise _Retryable(f"{where}: could not connect: {self._reply(exc)}") from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data error, helo error, ...
            message = f"{where}: {type(exc).__name__}: {self._reply(exc)}"
            if 400 <= exc.smtp_code < 500:
                raise _Retryable(message) from None
            raise _Permanent(message) from None
        except ssl.SSLCertVerificationError as exc:
            raise _Permanent(f"{where}: TLS certificate not trusted: {exc.verify_message or exc}") from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:  # refused, reset, timeouts, TLS errors
            detail = self._scrub(str(exc)).strip()
            raise _Retryable(f"{where}: {type(exc).__name__}" + (f": {detail}" if detail else "")) from None
        except smtplib.SMTPException as exc:
            raise _Permanent(f"{where}: {type(exc).__name__}: {self._scrub(str(exc))}") from None
        if refused:
            # Delivered to the others; retrying would send them duplicates.
            listing = "; ".join(f"{rcpt} ({code} {self._decode(text)})" for rcpt, (code, text) in refused.items())
            raise _Permanent(f"{where}: delivered, but these recipients were refused: {listing}")

    @staticmethod
    def _decode(text: Any) -> str:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return _shorten(_s(text), 200)

    def _reply(self, exc: smtplib.SMTPResponseException) -> str:
        return self._scrub(f"{exc.smtp_code} {self._decode(exc.smtp_error)}")

    async def deliver(self, alert: dict[str, Any]) -> None:
        msg = render_email(alert, self.sender, self.recipients)

        async def attempt() -> None:
            await asyncio.to_thread(self._send_sync, msg)

        await _with_retries(self.name, self.policy, attempt)
        log.info("%s: delivered alert %s to %d recipient(s) via %s:%d", self.name, _s(alert.get("alert_id"), "?"), len(self.recipients), self.host, self.port)
