"""`lytter digest`: an HTML report per brand with charts, from Elasticsearch; --send e-mails it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

import typer

from streams.cli._common import clear_errors, console, fail, settings

app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


def _build_with_progress(config, brand: str | None, since: str | None):
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from streams.digest.build import STEPS, build_digest

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("digest", total=len(STEPS))
        labels = {"queries": "querying Elasticsearch", "charts": "drawing charts", "html": "writing HTML"}

        def step(name: str) -> None:  # told as each step starts: the steps before it are done
            progress.update(task, description=labels.get(name, name), completed=STEPS.index(name))

        return build_digest(config, brand, since, progress=step)


def _send(config, digest) -> None:
    from streams.alerting.delivery.base import DeliveryError
    from streams.digest.mail import digest_channel, send_digest

    channel = digest_channel(config)
    with console.status(f"sending to {', '.join(channel.recipients)} via {channel.host}:{channel.port}"):
        try:
            asyncio.run(send_digest(config, digest, channel))
        except DeliveryError as exc:
            fail(f"the digest was written but not sent: {exc}")
    console.print(f"sent to {len(channel.recipients)} recipient(s)", highlight=False)


@app.callback()
def digest_command(
    ctx: typer.Context,
    brand: str = typer.Option(None, "--brand", "-b", help="A brand of the watch file (default: one report across all brands)."),
    since: str = typer.Option(None, "--since", help="Period up to now: 24h, 7d, 30d, 2w (default: setting LYTTER_DIGEST_SINCE)."),
    out: Path = typer.Option(None, "--out", "-o", help="HTML file to write (default: .lytter/digests/<brand>-<date>.html)."),
    send: bool = typer.Option(False, "--send", help="Also e-mail it to LYTTER_DIGEST_RECIPIENTS (or LYTTER_SMTP_RECIPIENTS)."),
) -> None:
    """Write the digest of a brand (volume, sentiment, share of voice, top stories, alerts, response times) as HTML."""
    if ctx.invoked_subcommand is not None:
        return
    from streams.digest.build import default_path
    from streams.digest.queries import DigestError

    config = settings()
    with clear_errors():
        try:
            digest = _build_with_progress(config, brand, since)
            path = digest.write(out or default_path(brand, digest.generated_at))
            if send:
                _send(config, digest)
        except DigestError as exc:
            fail(str(exc))
    timings = ", ".join(f"{step} {seconds:.2f}s" for step, seconds in digest.timings.items())
    console.print(f"{digest.data.total} mentions; made in {digest.seconds:.2f}s ({timings})", highlight=False)
    console.print(str(path), highlight=False, markup=False)


@app.command("next")
def next_run() -> None:
    """When the worker sends the next scheduled digest (setting LYTTER_DIGEST_SCHEDULE)."""
    from streams.digest.queries import DigestError
    from streams.digest.schedule import DigestScheduler, ScheduleError

    config = settings()
    try:
        scheduler = DigestScheduler(config, now=datetime.now(timezone.utc))
    except (ScheduleError, DigestError) as exc:
        fail(str(exc))
        return
    local = scheduler.next_due.astimezone(scheduler.schedule.zone)
    last = scheduler.last_sent.isoformat() if scheduler.last_sent else "never"
    console.print(f"next digest: {local:%a %Y-%m-%d %H:%M %Z} (schedule {config.digest_schedule}; last sent {last})", highlight=False)
