"""Running the ingest agents: the connectors (through the runner), the push endpoint and the metrics, together.

``run_agents`` is what ``lytter ingest run`` and the per-source commands call; it owns the publisher, the
HTTP client and the checkpoints, and stops cleanly on SIGINT/SIGTERM (or when ``stop`` is set).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Sequence

from streams.settings import Settings
from streams.sources.base import Checkpoints, Connector, Publisher, is_loopback, serve_metrics
from streams.sources.config import PushConf
from streams.sources.http import SourceHttp
from streams.sources.runner import KafkaPublisher, ProgressHook, Runner, SourceReport, log_progress

log = logging.getLogger(__name__)


class AgentError(RuntimeError):
    pass


def push_token(settings: Settings) -> str:
    token = settings.push_token.get_secret_value() if settings.push_token is not None else ""
    if not token.strip():
        raise AgentError(
            "the push endpoint needs a token: set LYTTER_PUSH_TOKEN to a long random string "
            "(for example `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) and give it to the senders"
        )
    return token


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            pass


async def run_agents(
    settings: Settings,
    connectors: Sequence[Connector],
    *,
    once: bool = False,
    push: PushConf | None = None,
    publisher: Publisher | None = None,
    http: SourceHttp | None = None,
    stop: asyncio.Event | None = None,
    metrics_port: int | None = None,
    on_batch: ProgressHook | None = log_progress,
    handle_signals: bool = True,
) -> dict[str, SourceReport]:
    """Run the connectors once (``once``) or until stopped, with the push endpoint when ``push.enabled``."""
    serve_push = push is not None and push.enabled
    if not connectors and not serve_push:
        raise AgentError("nothing to run: no connectors are configured (see `lytter ingest run --help` for the `connectors:` section)")
    token = push_token(settings) if serve_push and not once else None
    stop = stop or asyncio.Event()
    if handle_signals:
        _install_signals(stop)
    if metrics_port:
        host = settings.ingest_metrics_host
        try:
            serve_metrics(metrics_port, addr=host)
            log.info("ingest metrics on http://%s:%d/metrics", host, metrics_port)
            if not is_loopback(host):
                log.warning("ingest metrics listen on %s without authentication (LYTTER_INGEST_METRICS_HOST): anyone on that network can read them", host)
        except OSError as exc:
            raise AgentError(f"cannot serve the ingest metrics on {host}:{metrics_port} ({exc.strerror}); set LYTTER_INGEST_METRICS_PORT (0 = off) or LYTTER_INGEST_METRICS_HOST") from None
    own_publisher = publisher is None
    publisher = publisher or KafkaPublisher(settings)
    own_http = http is None
    http = http or SourceHttp()
    runner = Runner(connectors, publisher, Checkpoints(settings.ingest_state_dir), http, on_batch=on_batch)
    try:
        if once:
            if serve_push:
                log.info("--once: the push endpoint is not served (it only makes sense running)")
            return await runner.run_once()
        tasks = [asyncio.create_task(runner.run_forever(stop), name="connectors")]
        if serve_push:
            from streams.sources.push import create_app, serve

            assert push is not None and token is not None
            app = create_app(token, publisher, max_batch=push.max_batch, max_body_bytes=push.max_body_bytes)
            tasks.append(asyncio.create_task(serve(app, settings.push_host, settings.push_port, stop), name="push"))
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise task.exception()  # type: ignore[misc]
        return runner.reports
    finally:
        if own_http:
            await http.aclose()
        if own_publisher:
            await publisher.aclose()
