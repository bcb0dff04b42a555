"""`lytter web`: serve the crisis-room page (the live reply queue, the newest alerts, volume and sentiment)."""

from __future__ import annotations

import typer

from streams.cli._common import clear_errors, console, fail, settings

app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


@app.callback()
def web(
    host: str = typer.Option(None, "--host", help="Address to listen on (default LYTTER_WEB_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, "--port", help="Port (default LYTTER_WEB_PORT, 8470)."),
) -> None:
    """Serve the page until Ctrl-C. On any address but loopback LYTTER_WEB_TOKEN is required."""
    from aiohttp import web as aiohttp_web

    from streams.inbox.web import WebConfigError, make_app

    with clear_errors():
        s = settings()
        overrides = {k: v for k, v in (("web_host", host), ("web_port", port)) if v is not None}
        s = s.model_copy(update=overrides) if overrides else s
        try:
            application = make_app(s)
        except WebConfigError as exc:
            fail(str(exc))
        auth = "token required (log in at /login)" if s.web_token else "no token (loopback only)"
        console.print(f"crisis room on http://{s.web_host}:{s.web_port}/ · {auth} · Elasticsearch {s.es_url} · Ctrl-C stops", highlight=False)
        aiohttp_web.run_app(application, host=s.web_host, port=s.web_port, print=None, access_log=None)
