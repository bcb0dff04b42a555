"""The Slack-compatible webhook channel: :class:`WebhookChannel`, its body (:func:`slack_payload`) and its secrets.

:class:`WebhookChannel` POSTs a Slack-compatible message (``text`` + ``blocks``) to an incoming-webhook
URL, with the raw alert under ``lytter_alert`` for machine consumers (Slack ignores unknown keys). It
retries connection errors, timeouts, 408, 429 (honouring ``Retry-After``, read by
:func:`streams.sources.base.seconds_until`) and 5xx with exponential back-off and jitter; other 4xx fail
at once. The URL is a secret (the token is in its path): it is shown only as ``scheme://host/…``
(:func:`redact_url`) in ``repr``, logs and errors, and httpx's own request log line is redacted (by a
log filter on the httpx/httpcore loggers) while a delivery runs.

Mention text is escaped for Slack mrkdwn (:func:`slack_escape`: ``&``, ``<``, ``>``), so a mention cannot
inject links or ``<!channel>``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

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
    top_mentions,
)
from streams.sources.base import RetryPolicy, seconds_until

log = logging.getLogger(__name__)


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
        self.policy = RetryPolicy(max_attempts=max_attempts, base_s=backoff, cap_s=max_backoff, max_retry_after_s=max_retry_after)
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
                        raise _Retryable(message, retry_after=seconds_until(response.headers.get("retry-after")))
                    if status >= 500 or status == 408:
                        raise _Retryable(message)
                    raise _Permanent(message)

                await _with_retries(self.name, self.policy, attempt)
        finally:
            _SECRETS.reset(token)
        log.info("%s: delivered alert %s to %s", self.name, _s(alert.get("alert_id"), "?"), self.redacted_url)
