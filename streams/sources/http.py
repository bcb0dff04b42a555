"""HTTP for connectors: one ``httpx.AsyncClient`` with the back-off, rate limits and clear errors built in.

``SourceHttp.get`` is the only way a polling connector fetches. For every request it

* waits for the source's token bucket (``limiter``) and for a rate-limit window the same host said was
  exhausted (``X-RateLimit-Remaining: 0`` -> wait until ``X-RateLimit-Reset``),
* retries unreachable hosts, timeouts and 5xx with exponential back-off and jitter (``RetryPolicy``),
* on 429 waits what the source asks (``Retry-After``, else ``X-RateLimit-Reset``, else the back-off),
* turns what cannot be retried (4xx, a source still failing after the last attempt) into a ``SourceError``
  naming the source and URL, what was wrong and what to do,
* counts failed attempts in ``lytter_ingest_errors_total``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, AsyncIterator, Mapping
from urllib.parse import urlsplit

import httpx

from streams.sources.base import RetryPolicy, Sleep, SourceError, TokenBucket, errors_total, exhausted_until, retry_after

log = logging.getLogger(__name__)

USER_AGENT = "lytter/0.1 (brand-mention monitor)"

_HINTS = {
    400: "The source refused the request's parameters; check the connector's settings",
    401: "The source wants credentials: set the access token (token_env in the connector's settings)",
    403: "The source refuses access: check the token's scopes, or whether the resource is private",
    404: "Nothing at that address: check the URL, the instance, the hashtag or the subreddit name",
    410: "The resource is gone: remove it from the connector's settings",
    422: "The source refused the request's parameters; check the connector's settings",
}


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    try:
        text = response.text
    except Exception:  # undecodable body
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


class SourceHttp:
    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        timeout: float = 30.0,
        user_agent: str = USER_AGENT,
    ) -> None:
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            follow_redirects=True,
            headers={"User-Agent": user_agent},
        )
        self.policy = policy or RetryPolicy()
        self.sleep: Sleep = sleep or asyncio.sleep
        self._not_before: dict[str, float] = {}  # host -> monotonic time its rate-limit window reopens

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    async def __aenter__(self) -> "SourceHttp":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    # -- the request loop ----------------------------------------------------------------------------

    async def _wait_for_window(self, host: str, source: str) -> None:
        until = self._not_before.get(host)
        if until is None:
            return
        wait = until - time.monotonic()
        if wait > 0:
            log.info("%s: rate limit of %s exhausted; waiting %.1fs for it to reset", source, host, wait)
            await self.sleep(wait)
        self._not_before.pop(host, None)

    def _note_window(self, host: str, headers: Mapping[str, str]) -> None:
        wait = exhausted_until(headers)
        if wait is not None:
            self._not_before[host] = time.monotonic() + min(wait, self.policy.max_retry_after_s)

    async def request(
        self,
        source: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        limiter: TokenBucket | None = None,
        ok: tuple[int, ...] = (200,),
        stream: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request with retries; returns a response whose status is in ``ok`` (streamed responses are
        returned open: close them), or raises ``SourceError``."""
        host = urlsplit(url).netloc
        auth = kwargs.pop("auth", None)
        attempt = 0
        while True:
            attempt += 1
            await self._wait_for_window(host, source)
            if limiter is not None:
                await limiter.acquire()
            request = self.client.build_request(method, url, params=params, headers=headers, **kwargs)
            shown = str(request.url)
            try:
                response = await self.client.send(request, stream=stream, auth=auth)
            except httpx.TransportError as exc:
                await self._after_transport_error(source, shown, exc, attempt)
                continue
            if response.status_code in ok:
                self._note_window(host, response.headers)
                return response
            if stream:
                await response.aread()
                await response.aclose()
            errors_total.labels(source).inc()
            await self._after_bad_status(source, shown, response, attempt)

    async def _after_transport_error(self, source: str, shown: str, exc: httpx.TransportError, attempt: int) -> None:
        """An unreachable host or a timeout: wait the back-off, or raise once the attempts are spent."""
        errors_total.labels(source).inc()
        problem = f"cannot reach the source ({type(exc).__name__}: {exc or 'no detail'})"
        hint = "Check the URL and that the host is up and reachable from here"
        if attempt >= self.policy.max_attempts:
            raise SourceError(source, shown, f"{problem}; gave up after {attempt} attempts", hint, retryable=True) from None
        wait = self.policy.delay(attempt)
        log.warning("%s: %s; retrying in %.1fs (attempt %d of %d)", source, problem, wait, attempt, self.policy.max_attempts)
        await self.sleep(wait)

    async def _after_bad_status(self, source: str, shown: str, response: httpx.Response, attempt: int) -> None:
        """A status not in ``ok``: 429 and 5xx wait (``Retry-After`` or the back-off) for another attempt;
        anything else, a 429 asking too long, or the last attempt raises ``SourceError``."""
        status = response.status_code
        if status != 429 and status < 500:
            raise SourceError(
                source,
                shown,
                f"HTTP {status} {response.reason_phrase}: {_snippet(response) or '(empty body)'}",
                _HINTS.get(status, "Check the connector's settings"),
                status=status,
            )
        asked = retry_after(response.headers)
        if status == 429 and asked is not None and asked > self.policy.max_retry_after_s:
            raise SourceError(
                source,
                shown,
                f"rate limited (HTTP 429): the source asks to wait {asked:.0f}s",
                "Lower the connector's rate_per_s or raise interval_s; it will be retried on the next poll",
                retryable=True,
                status=status,
            )
        if attempt >= self.policy.max_attempts:
            what = "rate limited (HTTP 429)" if status == 429 else f"server error (HTTP {status} {response.reason_phrase})"
            raise SourceError(
                source,
                shown,
                f"{what} after {attempt} attempts: {_snippet(response)}",
                "The source is overloaded or failing; it will be retried on the next poll",
                retryable=True,
                status=status,
            )
        wait = min(asked, self.policy.max_retry_after_s) if asked is not None else self.policy.delay(attempt)
        log.warning("%s: HTTP %d from %s; retrying in %.1fs (attempt %d of %d)", source, status, shown, wait, attempt, self.policy.max_attempts)
        await self.sleep(wait)

    async def get(self, source: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request(source, "GET", url, **kwargs)

    async def get_json(self, source: str, url: str, **kwargs: Any) -> tuple[Any, httpx.Response]:
        """GET and decode JSON; a body that is not JSON is a ``SourceError`` saying what came instead."""
        response = await self.get(source, url, **kwargs)
        return decode_json(source, response), response

    @contextlib.asynccontextmanager
    async def stream(self, source: str, url: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """A streamed GET (server-sent events), with the same retries for connecting."""
        response = await self.request(source, "GET", url, stream=True, **kwargs)
        try:
            yield response
        finally:
            await response.aclose()


def decode_json(source: str, response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError as exc:
        kind = response.headers.get("content-type", "no content type")
        raise SourceError(
            source,
            str(response.request.url),
            f"the response is not JSON ({kind}; {exc}): {_snippet(response, 120)!r}",
            "Check that the URL is the API endpoint, not a web page (a proxy or login page answers like this too)",
        ) from None


def malformed(source: str, response: httpx.Response | str | None, what: str) -> SourceError:
    """The error for a response that is JSON but not of the API's documented shape."""
    url = str(response.request.url) if isinstance(response, httpx.Response) else response
    return SourceError(source, url, f"malformed response: {what}", "Check that the URL is this API's endpoint (and its version)")


def parse_link_header(value: str | None) -> dict[str, str]:
    """``Link: <https://x/?max_id=1>; rel="next", <https://x/?min_id=9>; rel="prev"`` -> {rel: url}."""
    links: dict[str, str] = {}
    if not value:
        return links
    for part in value.split(","):
        section = part.strip()
        if not section.startswith("<") or ">" not in section:
            continue
        url, _, params = section[1:].partition(">")
        for param in params.split(";"):
            name, _, val = param.strip().partition("=")
            if name.strip().lower() == "rel":
                for rel in val.strip().strip('"').split():
                    links[rel.lower()] = url.strip()
    return links
