"""The worker's web pages: state views for people and tests, Prometheus metrics, the status counters."""

from __future__ import annotations

from typing import Any, Callable

from streams.worker import metrics

__all__ = ["register_pages"]


def register_pages(app: Any, *, brands_view: Callable[[bool], dict], authors: Any, status: Callable[[], dict]) -> None:
    @app.page("/lytter/brands/")
    async def brands_page(web, request):
        """Open window and baseline per brand (what the alert rules see now); ?windows=all: every open
        window with the ids it counted."""
        return web.json(brands_view(request.query.get("windows") == "all"))

    @app.page("/lytter/authors/")
    async def authors_page(web, request):
        """Author states (influence inputs); ?top=N for the N most active."""
        top = int(request.query.get("top", "0") or 0)
        items = [(key, value["state"]) for key, value in authors.items()]
        if top:
            items = sorted(items, key=lambda kv: kv[1]["mentions"], reverse=True)[:top]
        return web.json(dict(items))

    @app.page("/metrics")
    async def metrics_page(web, request):
        """Prometheus metrics (text format); consumer lag is read from the consumer at scrape time."""
        await metrics.observe_lag(app.consumer)
        return web.bytes(metrics.render(), content_type="text/plain; version=0.0.4")

    @app.page("/lytter/status/")
    async def status_page(web, request):
        return web.json(status())
