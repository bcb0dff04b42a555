"""The ingest-connector framework: the interfaces, and the few small pieces every connector shares.

A *connector* reads one source (one feed, one hashtag on one Mastodon instance, one subreddit listing, one
Jetstream subscription) and turns what it reads into ``Mention``s. It never talks to Kafka and never
writes its checkpoint itself: it yields ``Batch``es (the mentions of one page plus the checkpoint state
that is true once they are published), and the *runner* (``streams.sources.runner``) publishes each batch,
waits for Kafka's acknowledgement, and only then saves the state::

    connector.poll(http) ──Batch(mentions, state)──> runner: publish ─ack─> Checkpoints.save(state)
                                                               └─> connector.commit(state)

So a restart resumes exactly where the last acknowledged page ended: nothing is skipped. A crash between
the acknowledgement and the save re-publishes one page, which is harmless: mention ids are stable and the
worker indexes with ``_id`` = mention id.

Here: ``Batch``, ``Connector`` / ``StreamingConnector`` (interfaces), ``Publisher`` (protocol),
``Checkpoints`` (atomic JSON files), ``RetryPolicy`` (back-off with jitter, Retry-After), ``TokenBucket``
(per-source rate limit), ``SourceError`` (the one error type a connector raises: source, URL, what was
wrong, what to do) and the Prometheus metrics. The HTTP plumbing is in ``streams.sources.http``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import re
import time
from abc import ABC, abstractmethod
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, ClassVar, Mapping, Protocol, Sequence

from prometheus_client import Counter

from streams.schema import Deletion, Mention

if TYPE_CHECKING:
    from streams.sources.http import SourceHttp

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


# --- errors -----------------------------------------------------------------------------------------


class SourceError(RuntimeError):
    """A source could not be read. The message names the source and the URL, says what was wrong and what
    to do. ``retryable`` is True for conditions that may pass by themselves (unreachable, 5xx, rate limit)."""

    def __init__(self, source: str, url: str | None, problem: str, hint: str = "", *, retryable: bool = False, status: int | None = None) -> None:
        self.source = source
        self.url = url
        self.problem = problem
        self.hint = hint
        self.retryable = retryable
        self.status = status
        where = f"{source}: {url}" if url else source
        super().__init__(f"{where}: {problem}" + (f". {hint}" if hint else ""))


# --- what a connector yields ------------------------------------------------------------------------


@dataclass
class Batch:
    """The mentions of one page, and the connector state that holds once they are acknowledged.

    ``mentions`` may be empty (a page of items that were all seen, a 304, a stretch of a firehose where
    nothing matched): the state still moves on. ``fetched`` counts the items read from the source (before
    filtering and de-duplication), for the metrics and the progress lines.
    """

    mentions: list[Mention]
    state: dict[str, Any]
    fetched: int = 0
    note: str = ""
    #: mentions the source reports gone (published to ``mentions.deletions``); an edit is a mention with
    #: the same id again (``Mention.edited_at`` set), published to ``mentions.raw`` like any other
    deletions: list[Deletion] = field(default_factory=list)


class Connector(ABC):
    """One source, polled. Subclasses implement ``poll``; the runner drives it.

    ``state`` is the last committed checkpoint (a JSON-able dict). ``poll`` reads from the committed state
    and yields batches whose ``state`` is the next one; it must not assume a yielded state was committed
    until it is resumed (the runner resumes it only after the batch is published and saved).
    """

    kind: ClassVar[str] = "source"

    def __init__(self, source_id: str, *, interval_s: float = 60.0) -> None:
        self.source_id = source_id
        self.interval_s = interval_s
        self.state: dict[str, Any] = {}

    @property
    def streams(self) -> bool:
        """Whether the runner keeps ``stream()`` open after each catch-up ``poll()`` (else it polls every
        ``interval_s``)."""
        return False

    def restore(self, state: Mapping[str, Any]) -> None:
        """Start from a saved checkpoint (an empty one: from the beginning)."""
        self.state = dict(state)

    def commit(self, state: Mapping[str, Any]) -> None:
        """The runner published the batch and saved ``state``: it is now the connector's state."""
        self.state = dict(state)

    @abstractmethod
    def poll(self, http: "SourceHttp") -> AsyncIterator[Batch]:
        """One catch-up pass: read from the committed state to the end of what the source has now, page by
        page, yielding one ``Batch`` per page."""

    async def poll_once(self, http: "SourceHttp") -> list[Mention]:
        """One pass without publishing (a dry run, and handy in tests): every batch is committed in memory."""
        mentions: list[Mention] = []
        async with aclosing(self.poll(http)) as batches:
            async for batch in batches:
                mentions.extend(batch.mentions)
                self.commit(batch.state)
        return mentions

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.source_id}>"


class StreamingConnector(Connector):
    """A source that pushes (a WebSocket firehose, server-sent events). ``stream`` runs until the source
    closes (then the runner reconnects, from the committed state) or, with ``until``, until the stream has
    caught up with that moment (``lytter ingest run --once``). ``poll`` is the catch-up pass."""

    @property
    def streams(self) -> bool:
        return True

    @abstractmethod
    def stream(self, http: "SourceHttp", *, until: datetime | None = None) -> AsyncIterator[Batch]:
        ...


class Publisher(Protocol):
    """Where batches go. ``publish`` returns once every mention is acknowledged, or raises."""

    async def publish(self, mentions: Sequence[Mention]) -> None: ...

    async def publish_deletions(self, deletions: Sequence[Deletion]) -> None:
        """Deletions the source reported, acknowledged like ``publish``."""

    async def aclose(self) -> None: ...


# --- checkpoints ------------------------------------------------------------------------------------


class Checkpoints:
    """Per-source JSON state in one directory (``settings.ingest_state_dir``), written atomically.

    One file per source id: ``<readable part>-<hash>.json`` holding ``{"source_id", "saved_at", "state"}``.
    The write goes to a temporary file in the same directory, is fsynced, then ``os.replace``d over the
    old one, so a crash leaves either the old or the new checkpoint, never half of one.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, source_id: str) -> Path:
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", source_id).strip("._")[:80] or "source"
        digest = hashlib.sha256(source_id.encode("utf-8")).hexdigest()[:12]
        return self.directory / f"{readable}-{digest}.json"

    def load(self, source_id: str) -> dict[str, Any]:
        path = self.path_for(source_id)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise SourceError(
                source_id,
                None,
                f"checkpoint {path} is not valid JSON ({exc})",
                "Delete the file to read the source again from its beginning (mentions already indexed are not duplicated)",
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("state"), dict):
            raise SourceError(source_id, None, f"checkpoint {path} has no 'state' object", "Delete the file to start the source over")
        return data["state"]

    def save(self, source_id: str, state: Mapping[str, Any]) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(source_id)
        payload = {"source_id": source_id, "saved_at": datetime.now(timezone.utc).isoformat(), "state": dict(state)}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path


# --- back-off, Retry-After, rate limit --------------------------------------------------------------


@dataclass
class RetryPolicy:
    """Exponential back-off with jitter for unreachable hosts and 5xx; 429 waits what the server says.

    ``delay(n)`` for the n-th failure (1-based) is uniform in ``[d/2, d]`` with ``d = min(cap, base * 2**(n-1))``
    ("equal jitter": never a thundering herd, never a zero wait). The one back-off policy Lytter has: the
    ingest connectors (``streams.sources.http``, the runner's reconnects) and alert delivery
    (``streams.alerting.delivery``) use it.

    ``max_retry_after_s`` is the longest ``Retry-After`` honoured. What a caller does with a longer one is
    its own choice: a source that asks for longer is reported, not waited for; alert delivery waits
    ``max_retry_after_s`` and tries again.
    """

    max_attempts: int = 5
    base_s: float = 1.0
    cap_s: float = 60.0
    max_retry_after_s: float = 900.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_s < 0 or self.cap_s < 0 or self.max_retry_after_s < 0:
            raise ValueError("back-off times cannot be negative")

    def delay(self, attempt: int) -> float:
        d = min(self.cap_s, self.base_s * (2 ** max(0, attempt - 1)))
        return d / 2 + self.rng.uniform(0, d / 2)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # plain dicts (tests, aiohttp's CIMultiDict is already case-insensitive)
        lower = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lower), None)
    return value.strip() if isinstance(value, str) else value


def seconds_until(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a rate-limit header value: delta-seconds (``Retry-After: 30``, Reddit's
    ``X-Ratelimit-Reset: 412``), epoch seconds (``1732350000``), an HTTP date (``Retry-After: Wed, 21 Oct
    2015 07:28:00 GMT``) or an ISO 8601 time (Mastodon's ``X-RateLimit-Reset: 2024-11-23T10:05:00.000Z``)."""
    if not value:
        return None
    now = time.time() if now is None else now
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if number != number or number < 0:  # NaN, negative
            return None
        return max(0.0, number - now) if number > 1_000_000_000 else number
    when: datetime | None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """How long a 429/503 asks us to wait: ``Retry-After`` first, then ``X-RateLimit-Reset``."""
    for name in ("Retry-After", "X-RateLimit-Reset", "X-Ratelimit-Reset"):
        wait = seconds_until(_header(headers, name), now)
        if wait is not None:
            return wait
    return None


def exhausted_until(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """When ``X-RateLimit-Remaining`` has hit 0 (Reddit sends ``0.0``), the seconds until the window resets."""
    remaining = _header(headers, "X-RateLimit-Remaining")
    if remaining is None:
        return None
    try:
        if float(remaining) > 0:
            return None
    except ValueError:
        return None
    return seconds_until(_header(headers, "X-RateLimit-Reset"), now) or 1.0


class TokenBucket:
    """A per-source rate limit: ``rate_per_s`` requests a second on average, bursts up to ``burst``."""

    def __init__(self, rate_per_s: float, burst: float = 1.0, *, clock: Callable[[], float] = time.monotonic, sleep: Sleep | None = None) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.rate = rate_per_s
        self.burst = max(1.0, burst)
        self.tokens = self.burst
        self._clock = clock
        self._sleep = sleep or asyncio.sleep
        self._last = clock()
        self._lock: asyncio.Lock | None = None

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
        self._last = now

    async def acquire(self) -> float:
        """Take one token, waiting for it if needed; returns the seconds waited."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        waited = 0.0
        async with self._lock:
            self._refill()
            while self.tokens < 1.0:
                wait = (1.0 - self.tokens) / self.rate
                await self._sleep(wait)
                waited += wait
                self._refill()
            self.tokens -= 1.0
        return waited


# --- metrics ----------------------------------------------------------------------------------------

#: The ingest agents' own registry (the worker has its own): served by ``lytter ingest run`` on
#: ``settings.ingest_metrics_port`` and by ``lytter ingest push`` at ``/metrics``.
from streams.ops.metrics import REGISTRY  # noqa: E402  (the one registry)
fetched_total = Counter("lytter_ingest_fetched_total", "Items read from a source (before de-duplication)", ["source"], registry=REGISTRY)
published_total = Counter("lytter_ingest_published_total", "Mentions acknowledged by Kafka", ["source"], registry=REGISTRY)
errors_total = Counter("lytter_ingest_errors_total", "Failed source requests and failed publishes (retried ones included)", ["source"], registry=REGISTRY)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or name (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.strip().lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_metrics(port: int, addr: str = "127.0.0.1"):
    """Serve the ingest metrics at ``http://addr:port/metrics`` (a daemon thread); 0 = off."""
    if not port:
        return None
    from prometheus_client import start_http_server

    return start_http_server(port, addr=addr, registry=REGISTRY)


# --- small shared helpers ----------------------------------------------------------------------------


async def drain(batches: AsyncIterator[Batch]) -> list[Batch]:
    """All batches of an iterator (closing it properly); for tests and dry runs."""
    out: list[Batch] = []
    async with aclosing(batches) as it:
        async for batch in it:
            out.append(batch)
    return out
