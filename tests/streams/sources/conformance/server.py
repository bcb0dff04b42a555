"""A scripted local server for the conformance suite: it answers each request with the project's fixture
files (written in the exact shape of the real services' responses), so a connector's real fetch and stream
paths (``SourceHttp``, ``aiohttp`` WebSockets) run against them on 127.0.0.1.

* ``on(path, *replies, when={...})``: the replies to ``GET path`` (and whose query holds ``when``), one per
  request in order, the last one repeated. The most specific matching ``when`` wins.
* ``Reply`` bodies are fixture files (``fixture="mastodon/tag_newest.json"``) or inline text; ``@BASE@`` in a
  body or header is replaced by the server's own URL (Link headers, ``rel="next"``, comment feeds).
* ``Reply(etag=..., last_modified=...)``: a conditional GET that matches gets ``304 Not Modified``.
* ``websocket(path, *sessions)``: each connection gets the next session's messages (JSONL fixture lines),
  then the server closes it; ``refuse`` answers the handshake with an HTTP status instead.
* ``requests``: what was asked (method, path, query, the conditional and auth headers).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).resolve().parent
BASE = "@BASE@"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def fixture_json(name: str) -> Any:
    return json.loads(fixture_text(name))


def jsonl(name: str) -> list[str]:
    return [line for line in fixture_text(name).splitlines() if line.strip()]


@dataclass
class Reply:
    status: int = 200
    fixture: str | None = None
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Session:
    """One WebSocket connection: the messages it sends (then it closes), or an HTTP status refusing it."""

    messages: list[str] = field(default_factory=list)
    refuse: int | None = None


class ScriptedServer:
    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)
        self.routes: list[tuple[str, str, dict[str, str], list[Reply]]] = []
        self.sockets: dict[str, list[Session]] = {}
        self.requests: list[dict[str, Any]] = []
        self.server: TestServer | None = None

    # -- script ------------------------------------------------------------------------------------------

    def on(self, path: str, *replies: Reply, when: dict[str, str] | None = None, method: str = "GET") -> "ScriptedServer":
        self.routes.append((method, path, dict(when or {}), list(replies)))
        return self

    def websocket(self, path: str, *sessions: Session) -> "ScriptedServer":
        self.sockets.setdefault(path, []).extend(sessions)
        return self

    # -- serving -------------------------------------------------------------------------------------------

    async def start(self) -> "ScriptedServer":
        self.server = TestServer(self.app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def _fill(self, text: str) -> str:
        return text.replace(BASE, self.url)

    def asked(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    def _route(self, request: web.Request) -> list[Reply] | None:
        query = dict(request.query)
        matches = [
            (len(when), replies)
            for method, path, when, replies in self.routes
            if method == request.method and path == request.path and all(query.get(k) == v for k, v in when.items())
        ]
        return max(matches, key=lambda m: m[0])[1] if matches else None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("if-none-match", "if-modified-since", "authorization", "accept")}
        self.requests.append({"method": request.method, "path": request.path, "query": dict(request.query), "headers": headers})
        if request.path in self.sockets:
            return await self._socket(request)
        replies = self._route(request)
        if not replies:
            return web.json_response({"error": f"no fixture for {request.method} {request.path_qs}"}, status=404)
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        out_headers = {k: self._fill(v) for k, v in reply.headers.items()}
        if reply.etag:
            out_headers["ETag"] = reply.etag
        if reply.last_modified:
            out_headers["Last-Modified"] = reply.last_modified
        if (reply.etag and request.headers.get("If-None-Match") == reply.etag) or (
            reply.last_modified and not reply.etag and request.headers.get("If-Modified-Since") == reply.last_modified
        ):
            return web.Response(status=304, headers=out_headers)
        body = self._fill(fixture_text(reply.fixture) if reply.fixture else reply.body)
        return web.Response(status=reply.status, body=body.encode("utf-8"), headers={"Content-Type": f"{reply.content_type}; charset=utf-8", **out_headers})

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        sessions = self.sockets[request.path]
        session = sessions.pop(0) if len(sessions) > 1 else (sessions[0] if sessions else Session())
        if session.refuse is not None:
            return web.json_response({"error": "refused"}, status=session.refuse)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for message in session.messages:
            await ws.send_str(message)
        await asyncio.sleep(0.05)  # let the client read them before the close frame
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"fixture session over")
        return ws
