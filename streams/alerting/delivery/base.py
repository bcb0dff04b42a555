"""What every channel shares: the interface, the errors, the retry loop, the fan-out and the rendering helpers.

* :class:`AlertChannel` (a ``name`` and ``async deliver(alert)``), :class:`DeliveryError` (a clear,
  secret-free message naming the channel), :func:`deliver_all` and its :class:`DeliveryResult`.
* :func:`_with_retries`: one attempt after another under a :class:`streams.sources.base.RetryPolicy`
  (the one back-off policy Lytter has); an attempt raises :class:`_Retryable` (maybe with the server's
  Retry-After, capped at the policy's ``max_retry_after_s``) or :class:`_Permanent`.
* Reading an alert (tolerant: it comes from another component and may grow new fields) and the plain
  text rendering, which the e-mail and the logs use; :func:`alert_counts`, :func:`top_mentions` and
  :func:`_headline` are what the webhook, e-mail and console renderings are made of.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

from streams.sources.base import RetryPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

SEVERITY_EMOJI = {"info": "ℹ️", "warning": "⚠️", "critical": "🚨"}

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


async def _with_retries(channel: str, policy: RetryPolicy, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` up to ``policy.max_attempts`` times. Before retry *n* wait ``policy.delay(n)``, or the
    attempt's Retry-After (capped at ``policy.max_retry_after_s``); raise :class:`DeliveryError` at the end."""
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
                wait = min(max(0.0, exc.retry_after), policy.max_retry_after_s)
            else:
                wait = policy.delay(number)
            log.warning("%s: attempt %d of %d failed: %s; retrying in %.2fs", channel, number, policy.max_attempts, exc, wait)
            await asyncio.sleep(wait)
    attempts = policy.max_attempts
    raise DeliveryError(channel, f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {last}", attempts=attempts) from None


# --------------------------------------------------------------------------------------------------
# fan-out


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
