"""`run_agents`: connectors, the push endpoint and the metrics together, until stopped (what `lytter ingest run` does)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from streams.settings import Settings
from streams.sources.agent import AgentError, run_agents
from streams.sources.base import TokenBucket
from streams.sources.config import PushConf
from streams.sources.connectors.rss import RssConnector
from tests.streams.sources.fakes import FakeBlog, MemoryPublisher, free_port


async def test_connectors_push_and_metrics_run_together_until_stopped(tmp_path):
    blog = FakeBlog()
    await blog.start()
    blog.add_post("Nordlys", "<p>Nordlys Energi</p>")
    settings = Settings(push_token="tok-123", push_port=free_port(), push_host="127.0.0.1", ingest_state_dir=tmp_path / "state")
    metrics_port = free_port()
    publisher = MemoryPublisher()
    stop = asyncio.Event()
    connector = RssConnector(f"{blog.url}/feed/", interval_s=0.2, limiter=TokenBucket(100, burst=100))
    task = asyncio.create_task(
        run_agents(settings, [connector], push=PushConf(enabled=True), publisher=publisher, stop=stop, metrics_port=metrics_port, handle_signals=False, on_batch=None)
    )
    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"http://127.0.0.1:{settings.push_port}/healthz")).status_code == 200 and publisher.ids:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
        response = await client.post(
            f"http://127.0.0.1:{settings.push_port}/mentions",
            json={"id": "push:1", "source": "crm", "text": "Nordlys Energi ringede", "published_at": "2024-11-20T09:00:00Z"},
            headers={"Authorization": "Bearer tok-123"},
        )
        assert response.status_code == 202
        blog.add_post("Igen", "<p>Nordlys Energi igen</p>", hours=1)  # picked up by the next poll
        while len(publisher.ids) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        metrics = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    stop.set()
    reports = await asyncio.wait_for(task, 10)
    expected = sorted(["push:1", f"rss:{blog.guid(blog.posts[0])}", f"rss:{blog.guid(blog.posts[1])}"])
    await blog.close()
    assert sorted(publisher.ids) == expected
    assert reports[connector.source_id].published == 2
    assert f'lytter_ingest_published_total{{source="{connector.source_id}"}}' in metrics
    assert 'lytter_ingest_fetched_total{source="push"}' in metrics and "lytter_ingest_errors_total" in metrics


async def test_nothing_to_run_and_push_without_token_are_clear_errors(tmp_path):
    settings = Settings(push_token=None, ingest_state_dir=tmp_path)
    with pytest.raises(AgentError, match="no connectors are configured"):
        await run_agents(settings, [], publisher=MemoryPublisher(), handle_signals=False)
    with pytest.raises(AgentError, match="LYTTER_PUSH_TOKEN"):
        await run_agents(settings, [], push=PushConf(enabled=True), publisher=MemoryPublisher(), handle_signals=False)


async def test_ingest_metrics_bind_their_host_and_warn_off_loopback(tmp_path, monkeypatch, caplog):
    import logging

    import streams.sources.agent as agent
    from streams.sources.base import serve_metrics

    server, _thread = serve_metrics(free_port())  # the default address: loopback only
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
        server.server_close()
    bound: list[tuple[int, str]] = []
    monkeypatch.setattr(agent, "serve_metrics", lambda port, addr: bound.append((port, addr)))  # no real bind on all interfaces
    caplog.set_level(logging.INFO, logger="streams.sources.agent")
    for host in ("127.0.0.1", "0.0.0.0"):
        settings = Settings(ingest_metrics_host=host, push_token="tok-123", ingest_state_dir=tmp_path / host)
        await run_agents(settings, [], push=PushConf(enabled=True), once=True, metrics_port=9999, publisher=MemoryPublisher(), handle_signals=False, on_batch=None)
    assert bound == [(9999, "127.0.0.1"), (9999, "0.0.0.0")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "0.0.0.0" in warnings[0] and "LYTTER_INGEST_METRICS_HOST" in warnings[0], warnings
