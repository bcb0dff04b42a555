"""`lytter web`: the crisis-room page (streams/inbox/page.py) and the JSON API it uses (aiohttp).

API (all JSON)::

    GET  /api/queue?brand=&lang=&source=&limit=     the reply queue, most urgent first
    GET  /api/alerts?brand=&limit=                  the newest alerts (settings.es_alerts_index)
    GET  /api/chart?brand=&hours=                   mentions per minute and net sentiment
    GET  /api/brands                                brands to choose from
    GET  /api/mentions/{id}                         one mention, its inbox state and audit trail
    POST /api/mentions/{id}/actions                 {"action", "version", "to"|"text"|"for"|"until", "as"}
    POST /api/login  {"token"}  /  POST /api/logout

Security: with ``settings.web_token`` every request except the login page and its assets needs the token,
as ``Authorization: Bearer <token>`` or the session cookie the login sets (HttpOnly, SameSite=Strict);
401 otherwise. Without a token the server only listens on a loopback address. POSTs must be JSON (a form
on another site cannot send that) and, when the browser says where they come from (Origin), from this
host. Every page is served with a strict Content-Security-Policy (scripts and styles from this server
only), so even a mention that gets past ``textContent`` cannot run a script.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from streams.inbox import page
from streams.inbox.actions import ACTIONS, InboxConflict, InboxNotFound, clean_name, current, make_action, perform
from streams.inbox.queue import InboxError, QueueFilter, Version, fetch_queue
from streams.settings import Settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "lytter_session"
PUBLIC_PATHS = frozenset({"/login", "/api/login", "/static/login.js", "/static/inbox.css"})
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
ACTION_FIELDS = frozenset({"action", "version", "to", "text", "for", "until", "as"})
MAX_ID_CHARS = 512
CHART_HOURS = 3
SETTINGS_KEY = web.AppKey("settings", Settings)
CLIENT_KEY = web.AppKey("es", object)
SESSIONS_KEY = web.AppKey("sessions", dict)  # session id -> expiry (monotonic seconds)
SESSION_SECONDS = 12 * 3600


class WebConfigError(ValueError):
    """`lytter web` cannot start with these settings."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen_address(settings: Settings) -> None:
    if not is_loopback(settings.web_host) and settings.web_token is None:
        raise WebConfigError(
            f"refusing to serve the inbox on {settings.web_host} (LYTTER_WEB_HOST) without a token: anyone who can reach "
            "it could read mentions and act on them. Set LYTTER_WEB_TOKEN (a long random string), or listen on 127.0.0.1."
        )


def _json_error(status: int, message: str, **extra) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _authorized(request: web.Request) -> bool:
    token = request.app[SETTINGS_KEY].web_token
    if token is None:
        return True
    expected = token.get_secret_value()
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), expected.encode()):
        return True
    session = request.cookies.get(SESSION_COOKIE)
    expires = request.app[SESSIONS_KEY].get(session) if session else None
    return expires is not None and expires > time.monotonic()


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin:  # not sent by every client (curl, same-origin GET-like fetches in older browsers)
        return True
    return urlsplit(origin).netloc == request.host


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _trusted_host(request: web.Request) -> bool:
    """Without a token, only loopback names: a DNS-rebinding page (evil.example resolving to 127.0.0.1)
    would otherwise read the queue through the visitor's browser."""
    settings = request.app[SETTINGS_KEY]
    if settings.web_token is not None:
        return True
    hostname = urlsplit(f"//{request.host}").hostname or ""
    return hostname == settings.web_host or is_loopback(hostname)


@web.middleware
async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _trusted_host(request):
        response: web.StreamResponse = _json_error(421, f"this server answers to {request.app[SETTINGS_KEY].web_host} only, not {request.host}")
    elif request.path not in PUBLIC_PATHS and not _authorized(request):
        if request.path.startswith("/api/"):
            response = _json_error(401, "the token is missing or wrong: log in at /login or send Authorization: Bearer <LYTTER_WEB_TOKEN>")
        else:
            response = web.Response(text=page.UNAUTHORIZED_HTML, content_type="text/html", status=401)
    elif request.method == "POST" and request.content_type != "application/json":
        response = _json_error(415, "POST bodies must be JSON (Content-Type: application/json)")
    elif request.method == "POST" and not _same_origin(request):
        response = _json_error(403, f"cross-origin request from {request.headers.get('Origin')} refused")
    else:
        response = await _with_errors(request, handler)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


async def _with_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    from elasticsearch import exceptions as es_exceptions

    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400:
            return _json_error(exc.status, exc.reason)
        raise
    except InboxConflict as exc:
        return _json_error(409, str(exc), current_version=str(exc.current), last_change=exc.last_change)
    except InboxNotFound as exc:
        return _json_error(404, str(exc))
    except InboxError as exc:
        return _json_error(400, str(exc))
    except (es_exceptions.TransportError, es_exceptions.ApiError) as exc:
        settings = request.app[SETTINGS_KEY]
        log.warning("Elasticsearch failed for %s: %s", request.path, exc)
        return _json_error(503, f"Elasticsearch at {settings.es_url} does not answer or refused the request ({type(exc).__name__}); "
                                "the page retries by itself. Check `lytter services status` or LYTTER_ES_URL.")


def _run(request: web.Request, function, *args, **kwargs):
    """The inbox functions use the synchronous client: run them off the event loop."""
    return asyncio.to_thread(function, request.app[SETTINGS_KEY], *args, client=request.app[CLIENT_KEY], **kwargs)


def _public_item(item) -> dict[str, Any]:
    """What the page needs of a queue item (not the raw source payload)."""
    doc = item.mention
    out = item.as_dict()
    out["notes"] = list((item.inbox.get("notes") or [])[-3:])
    out["mention"] = {
        "text": doc.get("text") or "", "title": doc.get("title"), "source": doc.get("source"), "url": doc.get("url"),
        "author": (doc.get("author") or {}).get("handle"), "lang": doc.get("lang"), "intent": doc.get("intent"),
        "addressed_to": doc.get("addressed_to") or [], "published_at": doc.get("published_at"),
    }
    return out


def _optional(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    return value or None


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InboxError(f"?{name}={raw!r} is not a whole number from {low} to {high}")
    return int(raw)


async def queue_api(request: web.Request) -> web.Response:
    filters = QueueFilter(brand=_optional(request, "brand"), lang=_optional(request, "lang"), source=_optional(request, "source"))
    limit = _int_param(request, "limit", 50, 1, 500)
    queue = await _run(request, fetch_queue, filters, limit=limit)
    settings = request.app[SETTINGS_KEY]
    return web.json_response({"total": queue.total, "target_minutes": settings.reply_target_minutes,
                              "items": [_public_item(item) for item in queue.items]})


def latest_alerts(settings: Settings, brand: str | None, limit: int, *, client) -> list[dict[str, Any]]:
    if not client.indices.exists(index=settings.es_alerts_index):
        return []
    query = {"term": {"brand": brand}} if brand else {"match_all": {}}
    response = client.search(index=settings.es_alerts_index, query=query, sort=[{"updated_at": "desc"}], size=limit,
                             source_excludes=["evidence"])
    return [hit["_source"] for hit in response["hits"]["hits"]]


async def alerts_api(request: web.Request) -> web.Response:
    alerts = await _run(request, latest_alerts, _optional(request, "brand"), _int_param(request, "limit", 10, 1, 100))
    return web.json_response({"alerts": alerts})


def volume_chart(settings: Settings, brand: str | None, hours: int, *, client, now: datetime | None = None) -> dict[str, Any]:
    """Per-minute mention counts and net sentiment in [-1, 1]: for a brand (positive - negative) / mentions
    from its own stance (``brand_label``); for all brands the mean ``sentiment.score``, or the brand
    stances' labels when no mention of the minute has a sentiment score."""
    now = now or datetime.now(timezone.utc)
    start = (now - timedelta(hours=hours)).replace(second=0, microsecond=0)
    filters: list[dict[str, Any]] = [{"range": {"published_at": {"gte": start.isoformat(), "lte": now.isoformat()}}}]
    if brand:
        filters.append({"term": {"brands": brand}})
        sub = {"positive": {"filter": {"term": {"brand_label": f"{brand}:positive"}}},
               "negative": {"filter": {"term": {"brand_label": f"{brand}:negative"}}}}
    else:
        sub = {"mean": {"avg": {"field": "sentiment.score"}},
               "positive": {"filter": {"term": {"brand_sentiment.label": "positive"}}},
               "negative": {"filter": {"term": {"brand_sentiment.label": "negative"}}}}
    histogram = {"date_histogram": {"field": "published_at", "fixed_interval": "1m", "min_doc_count": 0,
                                    "extended_bounds": {"min": start.isoformat(), "max": now.isoformat()}}, "aggs": sub}
    response = client.search(index=settings.es_index_prefix, size=0, query={"bool": {"filter": filters, "must_not": [{"term": {"deleted": True}}]}},
                             aggs={"minutes": histogram}, ignore_unavailable=True, allow_no_indices=True)
    buckets = response.get("aggregations", {}).get("minutes", {}).get("buckets", [])
    return {"brand": brand, "hours": hours, "buckets": [_chart_bucket(b, brand) for b in buckets]}


def _chart_bucket(bucket: dict[str, Any], brand: str | None) -> dict[str, Any]:
    count = int(bucket["doc_count"])
    by_labels = (bucket["positive"]["doc_count"] - bucket["negative"]["doc_count"]) / count if count else None
    # all brands: the mentions' own sentiment; when the worker scored none (sentiment off), the brand stances
    net = by_labels if brand else (bucket["mean"]["value"] if bucket["mean"]["value"] is not None else by_labels)
    return {"t": bucket["key_as_string"], "count": count, "net": None if net is None else round(float(net), 3)}


async def chart_api(request: web.Request) -> web.Response:
    chart = await _run(request, volume_chart, _optional(request, "brand"), _int_param(request, "hours", CHART_HOURS, 1, 24))
    return web.json_response(chart)


def known_brands(settings: Settings, *, client) -> list[str]:
    response = client.search(index=settings.es_index_prefix, size=0, ignore_unavailable=True, allow_no_indices=True,
                             aggs={"to": {"terms": {"field": "addressed_to", "size": 200}},
                                   "named": {"terms": {"field": "brands", "size": 200}}})
    aggs = response.get("aggregations", {})
    return sorted({b["key"] for name in ("to", "named") for b in aggs.get(name, {}).get("buckets", [])})


async def brands_api(request: web.Request) -> web.Response:
    return web.json_response({"brands": await _run(request, known_brands)})


def _mention_id(request: web.Request) -> str:
    mention_id = request.match_info["mention_id"]
    if not mention_id.strip() or len(mention_id) > MAX_ID_CHARS:
        raise InboxError(f"mention id must be 1 to {MAX_ID_CHARS} characters")
    return mention_id


async def mention_api(request: web.Request) -> web.Response:
    mention_id = _mention_id(request)
    found = await asyncio.to_thread(current, request.app[SETTINGS_KEY], mention_id, request.app[CLIENT_KEY])
    doc = {k: v for k, v in found.doc.items() if k != "raw"}
    return web.json_response({"id": found.id, "version": str(found.version), "mention": doc})


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise InboxError("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InboxError("the request body must be a JSON object")
    return body


def parse_action_request(body: dict[str, Any], default_user: str) -> tuple[Any, Version, str]:
    """Re-check everything the page sent: action name, inputs, version, who (InboxError names the field)."""
    unknown = sorted(set(body) - ACTION_FIELDS)
    if unknown:
        raise InboxError(f"unknown field(s) {', '.join(unknown)}: an action takes {', '.join(sorted(ACTION_FIELDS))}")
    for name, value in body.items():
        if value is not None and not isinstance(value, str):
            raise InboxError(f"field {name!r} must be a string")
    if body.get("action") not in ACTIONS:
        raise InboxError(f"field 'action' must be one of {', '.join(ACTIONS)}")
    if not body.get("version"):
        raise InboxError("field 'version' is required: the version of the mention you saw (from /api/queue)")
    version = Version.parse(body["version"])
    action = make_action(body["action"], to=body.get("to"), text=body.get("text"), until=body.get("until"), duration=body.get("for"))
    return action, version, clean_name(body.get("as") or default_user, "field 'as' (who acts)")


async def action_api(request: web.Request) -> web.Response:
    mention_id = _mention_id(request)
    settings = request.app[SETTINGS_KEY]
    action, version, user = parse_action_request(await _json_object(request), settings.inbox_user or "web")
    result = await asyncio.to_thread(perform, settings, mention_id, action, user, version=version, client=request.app[CLIENT_KEY])
    return web.json_response({"id": result.id, "version": str(result.version), "status": result.inbox.get("status"), "inbox": result.inbox})


async def login_api(request: web.Request) -> web.Response:
    token = request.app[SETTINGS_KEY].web_token
    if token is None:
        return web.json_response({"ok": True})
    body = await _json_object(request)
    given = body.get("token")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        await asyncio.sleep(0.5)  # slows guessing down
        return _json_error(401, "wrong token (LYTTER_WEB_TOKEN of the server)")
    session = secrets.token_urlsafe(32)
    sessions = request.app[SESSIONS_KEY]
    for stale in [key for key, expires in sessions.items() if expires <= time.monotonic()]:
        del sessions[stale]
    sessions[session] = time.monotonic() + SESSION_SECONDS
    response = web.json_response({"ok": True})
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Strict", secure=request.secure, path="/", max_age=SESSION_SECONDS)
    return response


async def logout_api(request: web.Request) -> web.Response:
    request.app[SESSIONS_KEY].pop(request.cookies.get(SESSION_COOKIE), None)
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def _static(text: str, content_type: str) -> Handler:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type=content_type, charset="utf-8")

    return serve


def make_app(settings: Settings, client=None) -> web.Application:
    """The aiohttp application (the Elasticsearch client is made here unless given)."""
    from streams.sinks.elasticsearch import sync_client

    check_listen_address(settings)
    app = web.Application(middlewares=[security], client_max_size=64 * 1024)
    app[SETTINGS_KEY] = settings
    app[CLIENT_KEY] = client or sync_client(settings)
    app[SESSIONS_KEY] = {}
    app.router.add_get("/", _static(page.PAGE_HTML, "text/html"))
    app.router.add_get("/login", _static(page.LOGIN_HTML, "text/html"))
    app.router.add_get("/static/inbox.css", _static(page.CSS, "text/css"))
    app.router.add_get("/static/inbox.js", _static(page.INBOX_JS, "application/javascript"))
    app.router.add_get("/static/login.js", _static(page.LOGIN_JS, "application/javascript"))
    app.router.add_get("/api/queue", queue_api)
    app.router.add_get("/api/alerts", alerts_api)
    app.router.add_get("/api/chart", chart_api)
    app.router.add_get("/api/brands", brands_api)
    app.router.add_get("/api/mentions/{mention_id}", mention_api)
    app.router.add_post("/api/mentions/{mention_id}/actions", action_api)
    app.router.add_post("/api/login", login_api)
    app.router.add_post("/api/logout", logout_api)

    async def close_client(app: web.Application) -> None:
        if client is None:
            app[CLIENT_KEY].close()

    app.on_cleanup.append(close_client)
    return app
