"""A local webhook receiver for integration tests and benchmarks: records every POST with its arrival time."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    def __init__(self) -> None:
        self.received: list[tuple[float, dict]] = []
        self.keys: list[str | None] = []  # the Idempotency-Key header of each POST
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append((time.time(), json.loads(body)))
                    receiver.keys.append(self.headers.get("Idempotency-Key"))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-token"

    def __enter__(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def alerts(self) -> list[tuple[float, dict]]:
        with self._lock:
            return [(at, body["lytter_alert"]) for at, body in self.received if "lytter_alert" in body]

    def distinct_alerts(self) -> list[tuple[float, dict]]:
        """What a receiver that honours ``Idempotency-Key`` keeps: each alert version once."""
        with self._lock:
            seen, out = set(), []
            for (at, body), key in zip(self.received, self.keys):
                if "lytter_alert" in body and key not in seen:
                    seen.add(key)
                    out.append((at, body["lytter_alert"]))
            return out
