"""Alert delivery: send an alert (``Alert.to_document()``, a JSON-safe dict) to people and machines.

Channels share one small interface, :class:`AlertChannel`: a ``name`` and ``async deliver(alert)``, which
returns when the alert was handed over and raises :class:`DeliveryError` (a clear, secret-free message)
when it could not be, after its retries.

* :class:`WebhookChannel` POSTs a Slack-compatible message (``text`` + ``blocks``) to an incoming-webhook
  URL, with the raw alert under ``lytter_alert`` for machine consumers (Slack ignores unknown keys).
  Retries connection errors, timeouts, 408, 429 (honouring ``Retry-After``) and 5xx with exponential
  back-off and jitter; other 4xx fail at once. The URL is a secret (the token is in its path): it is
  shown only as ``scheme://host/…`` in ``repr``, logs and errors, and httpx's own request log line is
  redacted while a delivery runs.
* :class:`EmailChannel` sends a plain-text + HTML e-mail with the stdlib ``smtplib`` in a worker thread
  (the event loop never blocks), with retries on connection errors and temporary (4xx) SMTP replies.
* :class:`ConsoleChannel` prints the alert with rich (``lytter alerts --follow``, the demo).

:func:`deliver_all` sends one alert to every channel concurrently and reports each channel's outcome;
:func:`channels_from_env` builds the channels that ``LYTTER_WEBHOOK_URL`` / ``LYTTER_SMTP_*`` configure.

Text that comes from mentions (and everything else in the alert) is escaped for each medium: Slack
mrkdwn (``&``, ``<``, ``>``, so a mention cannot inject links or ``<!channel>``), HTML, and rich markup
(printed as literal text), so nobody on the internet can write into an alert's formatting.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import html
import json
import logging
import os
import random
import re
import smtplib
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

import httpx

__all__ = [
    "AlertChannel",
    "ConsoleChannel",
    "DeliveryError",
    "DeliveryResult",
    "EmailChannel",
    "WebhookChannel",
    "channels_from_env",
    "deliver_all",
    "idempotency_key",
    "email_subject",
    "redact_url",
    "render_email",
    "render_plain_text",
    "slack_escape",
    "slack_payload",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

SEVERITY_EMOJI = {"info": "ℹ️", "warning": "⚠️", "critical": "🚨"}
SEVERITY_COLOUR = {"info": "blue", "warning": "yellow", "critical": "red"}  # rich styles
SEVERITY_HTML_COLOUR = {"info": "#1d70b8", "warning": "#b58105", "critical": "#c0392b"}

#: Top mentions shown in a message (the alert may carry more as evidence).
TOP_MENTIONS_SHOWN = 5
#: Characters of a mention's text shown in a message.
MENTION_TEXT_CHARS = 280


class DeliveryError(RuntimeError):
    """An alert could not be delivered on a channel. The message names the channel and the cause, never a secret."""

    def __init__(self, channel: str, message: str, *, attempts: int = 0) -> None:
        self.channel = channel
        self.reason = message
        self.attempts = attempts
        super().__init__(f"{channel}: {message}")

    def __reduce__(self):  # picklable with its keyword arguments
        return (_rebuild_delivery_error, (self.channel, self.reason, self.attempts))


def _rebuild_delivery_error(channel: str, message: str, attempts: int) -> DeliveryError:
    return DeliveryError(channel, message, attempts=attempts)


@runtime_checkable
class AlertChannel(Protocol):
    """Where alerts go. ``deliver`` raises :class:`DeliveryError` when the alert could not be handed over."""

    name: str

    async def deliver(self, alert: dict[str, Any]) -> None: ...


# --------------------------------------------------------------------------------------------------
# retries


class _Retryable(Exception):
    """One attempt failed in a way that may pass on a later attempt."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Permanent(Exception):
    """One attempt failed in a way that retrying will not fix."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with jitter: before retry *n* (n = 1, 2, ...) wait ``b/2 + uniform(0, b/2)``
    where ``b = min(max_backoff, backoff * 2**(n-1))``. A server's ``Retry-After`` replaces the back-off
    (capped at ``max_retry_after``)."""

    max_attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("back-off times cannot be negative")

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        base = min(self.max_backoff, self.backoff * (2 ** max(0, failures - 1)))
        return base / 2 + (rng or random).uniform(0, base / 2)


async def _with_retries(channel: str, policy: RetryPolicy, attempt: Callable[[], Awaitable[T]]) -> T:
    last: _Retryable | None = None
    for number in range(1, policy.max_attempts + 1):
        try:
            return await attempt()
        except _Permanent as exc:
            message = str(exc)
            if number > 1:
                message += f" (attempt {number} of {policy.max_attempts}; not retried)"
            raise DeliveryError(channel, message, attempts=number) from None
        except _Retryable as exc:
            last = exc
            if number == policy.max_attempts:
                break
            if exc.retry_after is not None:
                wait = min(max(0.0, exc.retry_after), policy.max_retry_after)
            else:
                wait = policy.delay(number)
            log.warning("%s: attempt %d of %d failed: %s; retrying in %.2fs", channel, number, policy.max_attempts, exc, wait)
            await asyncio.sleep(wait)
    attempts = policy.max_attempts
    raise DeliveryError(channel, f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {last}", attempts=attempts) from None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; ``None`` if absent/unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


# --------------------------------------------------------------------------------------------------
# reading an alert (tolerant: the alert comes from another component and may grow new fields)


def _s(value: Any, default: str = "") -> str:
    if value is None:
        return default
    return value if isinstance(value, str) else str(value)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _shorten(text: str, limit: int) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def _severity(alert: Mapping[str, Any]) -> str:
    severity = _s(alert.get("severity"), "info").lower()
    return severity if severity in SEVERITY_EMOJI else "info"


def _label(key: str) -> str:
    return key.replace("_", " ").strip()


def _format_number(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "n/a"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.3g}" if abs(value) >= 1000 else f"{value:.3g}"
    return _shorten(_s(value), 120)


def alert_counts(alert: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The evidence's scalar figures as (label, formatted value), in the alert's order.

    Takes scalars directly under ``evidence`` and inside a nested ``evidence["counts"]`` mapping;
    ``top_mentions`` and other lists/mappings are left out.
    """
    evidence = alert.get("evidence")
    if not isinstance(evidence, Mapping):
        return []
    out: list[tuple[str, str]] = []

    def take(mapping: Mapping[str, Any], prefix: str = "") -> None:
        for key, value in mapping.items():
            if key == "top_mentions":
                continue
            if isinstance(value, Mapping):
                if key == "counts":
                    take(value)
                continue
            if isinstance(value, (list, tuple, set)):
                continue
            if value is None:
                continue
            out.append((prefix + _label(_s(key)), _format_number(value)))

    take(evidence)
    return out


@dataclass(frozen=True)
class _TopMention:
    id: str
    url: str | None  # only http(s) URLs without whitespace
    text: str
    author: str
    impact: str | None


def _safe_url(value: Any) -> str | None:
    url = _s(value).strip()
    if not url or any(ch.isspace() for ch in url) or any(ch in url for ch in '<>|"\'`'):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def top_mentions(alert: Mapping[str, Any], limit: int = TOP_MENTIONS_SHOWN) -> list[_TopMention]:
    evidence = alert.get("evidence")
    items = evidence.get("top_mentions") if isinstance(evidence, Mapping) else None
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        return []
    out: list[_TopMention] = []
    for item in items[:limit]:
        if not isinstance(item, Mapping):
            continue
        author = item.get("author")
        if isinstance(author, Mapping):  # a whole Author: show the handle
            author = author.get("handle") or author.get("display_name")
        impact = item.get("impact")
        impact_text = None
        if isinstance(impact, (int, float)) and not isinstance(impact, bool):
            impact_text = f"{impact:.2f}" if isinstance(impact, float) else str(impact)
        elif impact is not None:
            impact_text = _shorten(_s(impact), 20)
        out.append(
            _TopMention(
                id=_s(item.get("id")),
                url=_safe_url(item.get("url")),
                text=_shorten(_s(item.get("text")), MENTION_TEXT_CHARS),
                author=_shorten(_s(author, "unknown"), 80) or "unknown",
                impact=impact_text,
            )
        )
    return out


def _status_phrase(alert: Mapping[str, Any]) -> str:
    status = _s(alert.get("status"), "open").lower()
    if status == "updated":
        updates = alert.get("updates")
        return f"updated ({updates} update{'s' if updates != 1 else ''})" if isinstance(updates, int) and not isinstance(updates, bool) else "updated"
    if status == "closed":
        return "closed (resolved)"
    return status or "open"


def _headline(alert: Mapping[str, Any]) -> str:
    brand = _one_line(_s(alert.get("brand"), "unknown brand"))
    title = _one_line(_s(alert.get("title"), _s(alert.get("rule"), "alert")))
    return f"{brand}: {title}"


def render_plain_text(alert: Mapping[str, Any]) -> str:
    """The alert as plain text (e-mail body, logs). Nothing is interpreted: mention text is shown as is."""
    severity = _severity(alert)
    lines = [f"[{severity.upper()}] {_headline(alert)}", ""]
    lines.append(f"Rule:     {_one_line(_s(alert.get('rule'), '-'))}")
    lines.append(f"Status:   {_status_phrase(alert)}")
    if alert.get("opened_at"):
        lines.append(f"Opened:   {_s(alert.get('opened_at'))}")
    if alert.get("updated_at"):
        lines.append(f"Updated:  {_s(alert.get('updated_at'))}")
    counts = alert_counts(alert)
    if counts:
        lines += ["", "Evidence:"]
        width = max(len(label) for label, _ in counts)
        lines += [f"  {label.ljust(width)}  {value}" for label, value in counts]
    mentions = top_mentions(alert)
    if mentions:
        lines += ["", "Top mentions:"]
        for number, mention in enumerate(mentions, start=1):
            head = f"  {number}. {mention.author}"
            if mention.impact is not None:
                head += f" (impact {mention.impact})"
            lines.append(head)
            lines.append(f"     {mention.text}")
            if mention.url:
                lines.append(f"     {mention.url}")
    if alert.get("alert_id"):
        lines += ["", f"Alert id: {_s(alert.get('alert_id'))}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------
# Slack-compatible webhook


def slack_escape(text: str) -> str:
    """Escape text for Slack mrkdwn: ``&``, ``<``, ``>`` (so it cannot form links, mentions or ``<!here>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: no auto-linking of bare URLs, #channels or @names in the text.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def slack_payload(alert: Mapping[str, Any], *, raw_key: str = "lytter_alert") -> dict[str, Any]:
    """The Slack incoming-webhook body: ``text`` (notification fallback), ``blocks``, and the raw alert."""
    severity = _severity(alert)
    emoji = SEVERITY_EMOJI[severity]
    headline = _headline(alert)
    text = f"{emoji} [{severity.upper()}] {slack_escape(headline)} ({slack_escape(_status_phrase(alert))})"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _shorten(f"{emoji} {severity.upper()}: {headline}", 150), "emoji": True},
        }
    ]
    facts = [
        f"*Brand:* {slack_escape(_one_line(_s(alert.get('brand'), '-')))}",
        f"*Rule:* {slack_escape(_one_line(_s(alert.get('rule'), '-')))}",
        f"*Status:* {slack_escape(_status_phrase(alert))}",
    ]
    if alert.get("opened_at"):
        facts.append(f"*Opened:* {slack_escape(_s(alert.get('opened_at')))}")
    if alert.get("updated_at") and alert.get("updated_at") != alert.get("opened_at"):
        facts.append(f"*Updated:* {slack_escape(_s(alert.get('updated_at')))}")
    blocks.append({"type": "section", "text": _mrkdwn("\n".join(facts)[:2900])})
    counts = alert_counts(alert)
    if counts:
        fields = [_mrkdwn(f"*{slack_escape(label)}*\n{slack_escape(value)}"[:1900]) for label, value in counts[:10]]
        blocks.append({"type": "section", "fields": fields})
    mentions = top_mentions(alert)
    if mentions:
        blocks.append({"type": "divider"})
        blocks.append({"type": "section", "text": _mrkdwn("*Top mentions*")})
        for mention in mentions:
            who = slack_escape(mention.author)
            if mention.url:
                who = f"<{slack_escape(mention.url)}|{who}>"
            head = f"*{who}*"
            if mention.impact is not None:
                head += f"  ·  impact {slack_escape(mention.impact)}"
            body = slack_escape(mention.text)
            blocks.append({"type": "section", "text": _mrkdwn(f"{head}\n{body}"[:2900])})
    if alert.get("alert_id"):
        blocks.append({"type": "context", "elements": [_mrkdwn(f"Lytter alert `{slack_escape(_one_line(_s(alert.get('alert_id'))))}`")]})
    return {"text": text, "blocks": blocks, raw_key: dict(alert)}


def idempotency_key(alert: Mapping[str, Any]) -> str:
    """One key per alert version (id, updates, action): delivery is at-least-once, and a crash between a
    delivery and its record sends that version again, so receivers that honour the key can drop the repeat."""
    return f"{_s(alert.get('alert_id'), '?')}-{int(alert.get('updates') or 0)}-{_s(alert.get('action'), _s(alert.get('status'), 'open'))}"


def redact_url(url: str) -> str:
    """``scheme://host[:port]/…``: what may be shown of a secret URL (no user info, path or query)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid url>"
    if not parts.scheme or not host:
        return "<invalid url>"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}/…"


# While a webhook delivery runs (in this task), httpx's INFO line "HTTP Request: POST <url> ..." is redacted.
_SECRETS: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar("lytter_delivery_secrets", default=())


class _RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _SECRETS.get()
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's business, not ours
            return True
        redacted = message
        for secret, shown in secrets:
            redacted = redacted.replace(secret, shown)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


_REDACTOR = _RedactSecrets()


def _install_redactor() -> None:
    # Logger filters apply only to records logged on that very logger, hence the list of httpcore's.
    for name in ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactSecrets) for f in logger.filters):
            logger.addFilter(_REDACTOR)


_install_redactor()


def _secret_parts(url: str) -> tuple[str, ...]:
    """Substrings of ``url`` that must never be shown: the whole URL, its path+query, and its path segments."""
    parts = urlsplit(url)
    found = {url, url.rstrip("/")}
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(tail) > 1:
        found.add(tail)
    for segment in re.split(r"[/?&=#]", tail):
        # token-like segments alone too (a server may echo a token); plain words such as "services" or
        # "hooks" are no secret, and blanking them would garble ordinary messages.
        if len(segment) >= 6 and not re.fullmatch(r"[a-z_-]+", segment):
            found.add(segment)
    if parts.password:
        found.add(parts.password)
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


class WebhookChannel:
    """POST alerts to a Slack-compatible incoming webhook (also fine for any JSON consumer).

    The body is :func:`slack_payload`: ``text`` and ``blocks`` for Slack, plus the alert itself under
    ``lytter_alert``. Connection errors, timeouts, 408, 429 and 5xx are retried up to ``max_attempts``
    with exponential back-off and jitter (``backoff`` seconds before the first retry, doubling, capped at
    ``max_backoff``); a 429's ``Retry-After`` (seconds or HTTP date) is waited instead, up to
    ``max_retry_after``. Other 4xx (a revoked token, a bad payload) fail at once with the status named.
    """

    def __init__(
        self,
        url: str,
        timeout: float = 5.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        *,
        max_backoff: float = 30.0,
        max_retry_after: float = 60.0,
        name: str = "webhook",
        raw_key: str = "lytter_alert",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if hasattr(url, "get_secret_value"):  # pydantic SecretStr
            url = url.get_secret_value()
        if not isinstance(url, str):
            raise TypeError("webhook url must be a str")
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook url must be an http(s) URL, got {redact_url(url)}")
        self._url = url.strip()
        self.name = name
        self.timeout = float(timeout)
        self.policy = RetryPolicy(max_attempts=max_attempts, backoff=backoff, max_backoff=max_backoff, max_retry_after=max_retry_after)
        self.raw_key = raw_key
        self.headers = {"User-Agent": "lytter-alerts/1", **dict(headers or {})}
        self.redacted_url = redact_url(self._url)
        self._secrets = tuple((secret, self.redacted_url if secret == self._url else "…") for secret in _secret_parts(self._url))

    def __repr__(self) -> str:
        return f"WebhookChannel(name={self.name!r}, url={self.redacted_url!r}, timeout={self.timeout}, max_attempts={self.policy.max_attempts})"

    __str__ = __repr__

    def _scrub(self, text: str) -> str:
        for secret, shown in self._secrets:
            text = text.replace(secret, shown)
        return text

    def body(self, alert: Mapping[str, Any]) -> bytes:
        payload = slack_payload(alert, raw_key=self.raw_key)
        return json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")

    async def deliver(self, alert: dict[str, Any]) -> None:
        body = self.body(alert)
        headers = {**self.headers, "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key(alert)}
        token = _SECRETS.set(_SECRETS.get() + self._secrets)
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), follow_redirects=False) as client:

                async def attempt() -> None:
                    try:
                        response = await client.post(self._url, content=body, headers=headers)
                    except httpx.TransportError as exc:  # connect/read/write errors, timeouts, protocol errors
                        detail = self._scrub(str(exc)).strip()
                        raise _Retryable(f"{type(exc).__name__} posting to {self.redacted_url}" + (f": {detail}" if detail else "")) from None
                    status = response.status_code
                    if 200 <= status < 300:
                        return
                    reason = response.reason_phrase or ""
                    detail = self._scrub(_shorten(response.text, 200)) if response.content else ""
                    message = f"{self.redacted_url} answered HTTP {status} {reason}".rstrip() + (f": {detail}" if detail else "")
                    if status == 429:
                        raise _Retryable(message, retry_after=parse_retry_after(response.headers.get("retry-after")))
                    if status >= 500 or status == 408:
                        raise _Retryable(message)
                    raise _Permanent(message)

                await _with_retries(self.name, self.policy, attempt)
        finally:
            _SECRETS.reset(token)
        log.info("%s: delivered alert %s to %s", self.name, _s(alert.get("alert_id"), "?"), self.redacted_url)


# --------------------------------------------------------------------------------------------------
# e-mail


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
        self.policy = RetryPolicy(max_attempts=max_attempts, backoff=backoff, max_backoff=max_backoff)

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


# --------------------------------------------------------------------------------------------------
# console


class ConsoleChannel:
    """Print alerts with rich. Every value from the alert is printed literally (never read as rich markup)."""

    def __init__(self, console: Any = None, *, name: str = "console", show_mentions: int = TOP_MENTIONS_SHOWN) -> None:
        from rich.console import Console

        self.console = console if console is not None else Console()
        self.name = name
        self.show_mentions = show_mentions

    def __repr__(self) -> str:
        return f"ConsoleChannel(name={self.name!r})"

    def renderable(self, alert: Mapping[str, Any]) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        severity = _severity(alert)
        colour = SEVERITY_COLOUR[severity]
        title = Text.assemble((f"{severity.upper()} ", f"bold {colour}"), (_headline(alert), "bold"))
        facts = Text.assemble(
            ("rule ", "dim"), _one_line(_s(alert.get("rule"), "-")),
            ("  status ", "dim"), _status_phrase(alert),
        )
        if alert.get("opened_at"):
            facts.append_text(Text.assemble(("  opened ", "dim"), _s(alert.get("opened_at"))))
        if alert.get("updated_at") and alert.get("updated_at") != alert.get("opened_at"):
            facts.append_text(Text.assemble(("  updated ", "dim"), _s(alert.get("updated_at"))))
        parts: list[Any] = [facts]
        counts = alert_counts(alert)
        if counts:
            table = Table.grid(padding=(0, 2))
            table.add_column(style="dim")
            table.add_column(justify="right")
            for label, value in counts:
                table.add_row(Text(label), Text(value))
            parts.append(table)
        for mention in top_mentions(alert, self.show_mentions):
            line = Text.assemble(("• ", colour), (mention.author, "bold"))
            if mention.impact is not None:
                line.append(f"  impact {mention.impact}", style="dim")
            line.append("\n  ")
            line.append(mention.text)
            if mention.url:
                line.append("\n  ")
                line.append(mention.url, style="underline")
            parts.append(line)
        subtitle = Text(_s(alert.get("alert_id")), style="dim") if alert.get("alert_id") else None
        return Panel(Group(*parts), title=title, subtitle=subtitle, border_style=colour, title_align="left")

    async def deliver(self, alert: dict[str, Any]) -> None:
        try:
            self.console.print(self.renderable(alert))
        except OSError as exc:  # a closed pipe (e.g. `lytter alerts --follow | head`)
            raise DeliveryError(self.name, f"could not print: {exc}") from None


# --------------------------------------------------------------------------------------------------
# fan-out and configuration


@dataclass(frozen=True)
class DeliveryResult:
    channel: str
    ok: bool
    error: str | None = None
    seconds: float = 0.0


async def deliver_all(channels: Iterable[AlertChannel], alert: dict[str, Any], *, timeout: float | None = None) -> list[DeliveryResult]:
    """Deliver ``alert`` on every channel concurrently; return one :class:`DeliveryResult` per channel, in order.

    A channel that fails (or exceeds ``timeout`` seconds, when given) does not stop the others; its
    result carries the error message. Only cancellation of ``deliver_all`` itself propagates.
    """
    channels = list(channels)

    async def one(channel: AlertChannel) -> DeliveryResult:
        name = _s(getattr(channel, "name", None), type(channel).__name__)
        started = time.monotonic()
        try:
            if timeout is None:
                await channel.deliver(alert)
            else:
                await asyncio.wait_for(channel.deliver(alert), timeout)
        except DeliveryError as exc:
            log.error("alert %s not delivered: %s", _s(alert.get("alert_id"), "?"), exc)
            return DeliveryResult(name, False, str(exc), time.monotonic() - started)
        except asyncio.TimeoutError:
            message = f"{name}: no answer within {timeout:g}s"
            log.error("alert %s not delivered: %s", _s(alert.get("alert_id"), "?"), message)
            return DeliveryResult(name, False, message, time.monotonic() - started)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in one channel must not cost the others their alert
            message = f"{name}: unexpected {type(exc).__name__}: {exc}"
            log.error("alert %s not delivered: %s", _s(alert.get("alert_id"), "?"), message)
            return DeliveryResult(name, False, message, time.monotonic() - started)
        return DeliveryResult(name, True, None, time.monotonic() - started)

    return list(await asyncio.gather(*(one(channel) for channel in channels)))


_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def _env_bool(env: Mapping[str, str], key: str) -> bool:
    value = env.get(key, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{key} must be true or false, not {value!r}")


def channels_from_env(
    env: Mapping[str, str] | None = None,
    *,
    console: bool | Any = False,
    webhook_options: Mapping[str, Any] | None = None,
    email_options: Mapping[str, Any] | None = None,
) -> list[AlertChannel]:
    """The channels the environment configures (``os.environ`` unless ``env`` is given).

    * ``LYTTER_WEBHOOK_URL`` → :class:`WebhookChannel` (``LYTTER_WEBHOOK_TIMEOUT`` seconds, optional).
    * ``LYTTER_SMTP_HOST`` → :class:`EmailChannel`, which then needs ``LYTTER_SMTP_SENDER`` and
      ``LYTTER_SMTP_RECIPIENTS`` (comma separated); optional ``LYTTER_SMTP_PORT`` (default 587 with
      STARTTLS, 465 with SSL, else 25), ``LYTTER_SMTP_USERNAME``, ``LYTTER_SMTP_PASSWORD``,
      ``LYTTER_SMTP_STARTTLS`` and ``LYTTER_SMTP_SSL`` (true/false).
    * ``console=True`` (or a rich ``Console``) adds a :class:`ConsoleChannel`.

    An unset or empty variable builds no channel; a half-configured e-mail raises ``ValueError`` naming
    what is missing (a silently missing alert channel is worse than a failed start).
    """
    env = os.environ if env is None else env
    channels: list[AlertChannel] = []
    if console is not False and console is not None:
        channels.append(ConsoleChannel(None if console is True else console))
    url = env.get("LYTTER_WEBHOOK_URL", "").strip()
    if url:
        options = dict(webhook_options or {})
        if env.get("LYTTER_WEBHOOK_TIMEOUT", "").strip():
            options.setdefault("timeout", float(env["LYTTER_WEBHOOK_TIMEOUT"]))
        channels.append(WebhookChannel(url, **options))
    host = env.get("LYTTER_SMTP_HOST", "").strip()
    if host:
        sender = env.get("LYTTER_SMTP_SENDER", "").strip()
        recipients = _split_recipients(env.get("LYTTER_SMTP_RECIPIENTS", ""))
        missing = [k for k, v in (("LYTTER_SMTP_SENDER", sender), ("LYTTER_SMTP_RECIPIENTS", recipients)) if not v]
        if missing:
            raise ValueError(f"LYTTER_SMTP_HOST is set but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not")
        starttls = _env_bool(env, "LYTTER_SMTP_STARTTLS")
        use_ssl = _env_bool(env, "LYTTER_SMTP_SSL")
        port_text = env.get("LYTTER_SMTP_PORT", "").strip()
        try:
            port = int(port_text) if port_text else (587 if starttls else 465 if use_ssl else 25)
        except ValueError:
            raise ValueError(f"LYTTER_SMTP_PORT must be a port number, not {port_text!r}") from None
        channels.append(
            EmailChannel(
                host,
                port,
                sender,
                recipients,
                username=env.get("LYTTER_SMTP_USERNAME", "").strip() or None,
                password=env.get("LYTTER_SMTP_PASSWORD") or None,
                starttls=starttls,
                use_ssl=use_ssl,
                **dict(email_options or {}),
            )
        )
    return channels

