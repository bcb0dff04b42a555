"""Push: an authenticated HTTP endpoint for systems that deliver mentions themselves (aiohttp.web).

``POST /mentions`` with ``Authorization: Bearer <LYTTER_PUSH_TOKEN>`` and a JSON body: one mention (the
schema of ``streams.schema.Mention``) or a list of them. An edit is the same ``id`` again, with
``edited_at``.

``POST /deletions`` (same token, same rules and answers) reports mentions gone at the source:
``{"deletions": [{"id": "...", "reason": "deleted", "deleted_at": "2024-11-22T09:00:00+01:00"}]}``
(``reason``: ``deleted`` by the author, ``removed`` by a moderator, ``account deleted``; ``deleted_at``
timezone-aware, default now; ``source``, default ``push``, is recorded with it). Each is published to
``mentions.deletions`` keyed by the mention id, and the worker strips the indexed document of its text and
personal data (a tombstone stays for the counts; README, "Edits and deleted posts"). 202
``{"accepted": [ids], "count": n}`` once Kafka acknowledged every one; a deletion of an id never pushed
is accepted (and honoured should that mention arrive later).

=====================================================  ====================================================
request                                                answer
=====================================================  ====================================================
no ``Authorization`` header / not ``Bearer``            401, ``WWW-Authenticate: Bearer realm="lytter-push"``
wrong token (compared in constant time)                401, ``... error="invalid_token"``
body larger than ``max_body_bytes`` / a list longer    413, what the limit is
than ``max_batch``
not JSON (or not UTF-8)                                 400, where it broke
not a mention / a list of mentions (``/deletions``:    422, ``{"errors": [{"loc": "[2].author.followers",
not ``{"deletions": [...]}`` of valid deletions)        "msg": "Input should be ..."}]}``; nothing is published
valid                                                  202 ``{"accepted": [ids], "count": n}`` once Kafka has
                                                       acknowledged every one of them
Kafka does not acknowledge                             503, ``Retry-After: 5``; send the same body again
=====================================================  ====================================================

``GET /healthz`` answers 200 ``{"status": "ok"}`` (no token needed); ``GET /metrics`` the ingest metrics.
The token is never logged or echoed; the access log shows neither headers nor bodies.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any, Literal

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from streams.schema import Deletion, Mention
from streams.sources.base import REGISTRY, Publisher, errors_total, fetched_total, is_loopback, published_total

log = logging.getLogger(__name__)

SOURCE = "push"
REALM = 'Bearer realm="lytter-push"'
MAX_BATCH = 1000
MAX_BODY_BYTES = 8 * 1024 * 1024

PUBLISHER_KEY = web.AppKey("publisher", object)
TOKEN_KEY = web.AppKey("token", bytes)
LIMITS_KEY = web.AppKey("limits", tuple)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    headers = extra.pop("headers", None)
    return web.json_response({"error": message, **extra}, status=status, headers=headers)


def _loc(prefix: str, loc: tuple) -> str:
    text = prefix
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def validate_mentions(body: Any, max_batch: int = MAX_BATCH) -> tuple[list[Mention], list[dict[str, str]]]:
    """A decoded body (one mention or a list) -> (mentions, errors); errors name the field at fault
    (``loc`` with the list index first, ``msg`` as pydantic words it)."""
    items = body if isinstance(body, list) else [body]
    many = isinstance(body, list)
    if many and not items:
        return [], [{"loc": "(body)", "msg": "the list is empty: send at least one mention"}]
    mentions: list[Mention] = []
    errors: list[dict[str, str]] = []
    for index, item in enumerate(items):
        prefix = f"[{index}]" if many else ""
        if not isinstance(item, dict):
            errors.append({"loc": prefix or "(body)", "msg": f"a mention must be a JSON object, got {type(item).__name__}"})
            continue
        try:
            mentions.append(Mention.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False):
                errors.append({"loc": _loc(prefix, tuple(err["loc"])), "msg": err["msg"]})
    return mentions, errors[:100]


class PushedDeletion(BaseModel):
    """One deletion as a pushing client sends it (unknown fields are refused: a typo never passes unseen)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=512, description="The id the mention was pushed with")
    reason: Literal["deleted", "removed", "account deleted"] = "deleted"
    deleted_at: AwareDatetime | None = None
    source: str = Field(SOURCE, min_length=1, max_length=64)

    def to_deletion(self) -> Deletion:
        when = {"deleted_at": self.deleted_at} if self.deleted_at is not None else {}
        return Deletion(id=self.id, source=self.source, reason=self.reason, **when)


def validate_deletions(body: Any) -> tuple[list[Deletion], list[dict[str, str]]]:
    """A decoded ``{"deletions": [...]}`` body -> (deletions, errors naming the field at fault)."""
    if not isinstance(body, dict) or set(body) != {"deletions"} or not isinstance(body["deletions"], list):
        return [], [{"loc": "(body)", "msg": 'send an object with one key, "deletions": a list of {"id", "reason", "deleted_at"}'}]
    items = body["deletions"]
    if not items:
        return [], [{"loc": "deletions", "msg": "the list is empty: send at least one deletion"}]
    deletions: list[Deletion] = []
    errors: list[dict[str, str]] = []
    for index, item in enumerate(items):
        prefix = f"deletions[{index}]"
        if not isinstance(item, dict):
            errors.append({"loc": prefix, "msg": f"a deletion must be a JSON object, got {type(item).__name__}"})
            continue
        try:
            deletions.append(PushedDeletion.model_validate(item).to_deletion())
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False):
                errors.append({"loc": _loc(prefix, tuple(err["loc"])), "msg": err["msg"]})
    return deletions, errors[:100]


def _authorized(request: web.Request) -> web.Response | None:
    """None when the request carries the right bearer token, else the 401 to answer."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return _error(401, "missing bearer token: send 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": REALM})
    expected: bytes = request.app[TOKEN_KEY]
    if not hmac.compare_digest(credentials.strip().encode("utf-8"), expected):
        return _error(
            401,
            "invalid token",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token", error_description="the token is not valid"'},
        )
    return None


def _refused(status: int, message: str, **extra: Any) -> web.Response:
    errors_total.labels(SOURCE).inc()
    return _error(status, message, **extra)


async def _json_body(request: web.Request, what: str) -> Any | web.Response:
    """The request's decoded JSON body, or the answer refusing it (auth, size, type, encoding, syntax):
    the same rules for every POST. ``what`` names the items in the messages."""
    denied = _authorized(request)
    if denied is not None:
        errors_total.labels(SOURCE).inc()
        return denied
    max_batch, max_body = request.app[LIMITS_KEY]
    if request.content_length is not None and request.content_length > max_body:
        return _refused(413, f"the body has {request.content_length} bytes; at most {max_body} are accepted: split the batch")
    content_type = request.content_type
    if content_type and content_type not in ("application/json", "application/octet-stream", "text/plain") and not content_type.endswith("+json"):
        return _refused(415, f"the body must be JSON (Content-Type: application/json), not {content_type}")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _refused(413, f"the body is larger than {max_body} bytes: split the batch")
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return _refused(400, f"the body is not UTF-8 ({exc.reason} at byte {exc.start})")
    except ValueError as exc:
        return _refused(400, f"the body is not JSON: {exc}")
    except RecursionError:
        return _refused(400, "the body is JSON nested too deeply")
    items = body.get(what) if what == "deletions" and isinstance(body, dict) else body
    if isinstance(items, list) and len(items) > max_batch:
        return _refused(413, f"the batch has {len(items)} {what}; at most {max_batch} are accepted per request: split it")
    return body


async def post_mentions(request: web.Request) -> web.Response:
    body = await _json_body(request, "mentions")
    if isinstance(body, web.Response):
        return body
    mentions, errors = validate_mentions(body, request.app[LIMITS_KEY][0])
    fetched_total.labels(SOURCE).inc(len(body) if isinstance(body, list) else 1)
    if errors:
        return _refused(422, "invalid mention(s): nothing was published", errors=errors)
    publisher: Publisher = request.app[PUBLISHER_KEY]  # type: ignore[assignment]
    try:
        await publisher.publish(mentions)
    except Exception as exc:  # Kafka down or refusing: the client retries the same body (ids are stable)
        log.error("push: %d mentions not acknowledged by Kafka: %s", len(mentions), exc)
        return _refused(503, "the mentions could not be stored (Kafka did not acknowledge them); send the same body again", headers={"Retry-After": "5"})
    published_total.labels(SOURCE).inc(len(mentions))
    ids = [m.id for m in mentions]
    log.info("push: accepted %d mentions", len(ids))
    return web.json_response({"accepted": ids, "count": len(ids)}, status=202)


async def post_deletions(request: web.Request) -> web.Response:
    body = await _json_body(request, "deletions")
    if isinstance(body, web.Response):
        return body
    deletions, errors = validate_deletions(body)
    items = body.get("deletions") if isinstance(body, dict) else None
    fetched_total.labels(SOURCE).inc(len(items) if isinstance(items, list) else 1)
    if errors:
        return _refused(422, "invalid deletion(s): nothing was published", errors=errors)
    publisher: Publisher = request.app[PUBLISHER_KEY]  # type: ignore[assignment]
    try:
        await publisher.publish_deletions(deletions)
    except Exception as exc:  # as for mentions: a deletion is keyed by its id, sending it twice is harmless
        log.error("push: %d deletions not acknowledged by Kafka: %s", len(deletions), exc)
        return _refused(503, "the deletions could not be stored (Kafka did not acknowledge them); send the same body again", headers={"Retry-After": "5"})
    ids = [d.id for d in deletions]
    log.info("push: accepted %d deletions", len(ids))
    return web.json_response({"accepted": ids, "count": len(ids)}, status=202)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(token: str, publisher: Publisher, *, max_batch: int = MAX_BATCH, max_body_bytes: int = MAX_BODY_BYTES) -> web.Application:
    if not token or not token.strip():
        raise ValueError("the push endpoint needs a token: set LYTTER_PUSH_TOKEN (a long random string)")
    app = web.Application(client_max_size=max_body_bytes)
    app[PUBLISHER_KEY] = publisher
    app[TOKEN_KEY] = token.strip().encode("utf-8")
    app[LIMITS_KEY] = (max_batch, max_body_bytes)
    app.router.add_post("/mentions", post_mentions)
    app.router.add_post("/deletions", post_deletions)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def serve(app: web.Application, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set."""
    runner = web.AppRunner(app, access_log=log)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(f"the push endpoint cannot listen on {host}:{port} ({exc.strerror}); set LYTTER_PUSH_PORT / LYTTER_PUSH_HOST") from None
    log.info("push: listening on http://%s:%d/mentions and /deletions", host, port)
    if not is_loopback(host):
        # POST /mentions and /deletions need the token anywhere; these two never do
        log.warning("push: /healthz and /metrics on %s answer without the token (LYTTER_PUSH_HOST): anyone on that network can read the ingest metrics", host)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
