"""`lytter inbox`: the team's reply queue (bare: the list) and its actions."""

from __future__ import annotations

import getpass
import json
import time
from contextlib import contextmanager
from typing import Iterator

import typer
from rich.table import Table
from rich.text import Text

from streams.cli._common import clear_errors, console, fail, settings

app = typer.Typer(invoke_without_command=True, no_args_is_help=False)

AS_HELP = "Record the action as this person (default: LYTTER_INBOX_USER, else your login name)."
VERSION_HELP = "Act only if the mention is still at this version (from `list --json` / `show`); default: the current one."


@contextmanager
def _inbox_errors() -> Iterator[None]:
    """Inbox failures as one line: bad input, unknown id, and a conflict (exit 1, who changed it)."""
    from streams.inbox.actions import InboxConflict, InboxNotFound
    from streams.inbox.queue import InboxError

    with clear_errors():
        try:
            yield
        except InboxConflict as exc:
            fail(f"conflict: {exc}")
        except (InboxError, InboxNotFound) as exc:
            fail(str(exc))


def _user(as_name: str | None) -> str:
    if as_name:
        return as_name
    configured = settings().inbox_user
    if configured:
        return configured
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        fail("cannot tell who you are: pass --as NAME or set LYTTER_INBOX_USER")
        raise


def _waited(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours < 48 else f"{hours // 24}d{hours % 24:02d}h"


def _snippet(doc: dict, width: int = 90) -> str:
    text = " ".join(str(doc.get("text") or doc.get("title") or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def queue_table(queue, target_minutes: float) -> Table:
    table = Table(title=f"reply queue: {queue.total} waiting (target {target_minutes:g} min)", expand=True)
    for name, opts in (("priority", {"justify": "right"}), ("waited", {"justify": "right"}), ("brand", {}), ("source", {}),
                       ("author", {}), ("intent", {}), ("status", {}), ("id", {"overflow": "fold"}), ("text", {"ratio": 1})):
        table.add_column(name, no_wrap=name not in ("text", "id"), **opts)
    for item in queue.items:
        doc = item.mention
        late = item.waiting_s > target_minutes * 60
        status = item.inbox.get("status", "open") + (f" → {item.inbox['assignee']}" if item.inbox.get("assignee") else "")
        table.add_row(f"{item.priority:.1f}", Text(_waited(item.waiting_s), style="bold red" if late else ""),
                      ", ".join(doc.get("addressed_to") or []), str(doc.get("source", "")),
                      str((doc.get("author") or {}).get("handle", "-")), str(doc.get("intent") or "-"), status,
                      item.id, Text(_snippet(doc)))
    return table


@app.callback()
def inbox(ctx: typer.Context) -> None:
    """The reply queue: mentions that wait for an answer, most urgent first. Bare: `lytter inbox list`."""
    if ctx.invoked_subcommand is None:  # the defaults of `list` (typer's Option objects are no values)
        list_queue(brand=None, lang=None, source=None, limit=30, as_json=False, follow=False, every=5.0)


@app.command("list")
def list_queue(
    brand: str = typer.Option(None, "--brand", "-b", help="Only mentions addressed to this brand."),
    lang: str = typer.Option(None, "--lang", help="Only this language (da, nb, nn, sv, en)."),
    source: str = typer.Option(None, "--source", help="Only this source (mastodon, bluesky, reddit, ...)."),
    limit: int = typer.Option(30, "--limit", "-n", help="How many to show (1-1000)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per queued mention (with its version)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Refresh every few seconds (Ctrl-C stops)."),
    every: float = typer.Option(5.0, "--every", help="Seconds between refreshes with --follow."),
) -> None:
    """The queue, most urgent first: priority, waiting time, brand, source, author, intent, text."""
    from streams.inbox.queue import QueueFilter, fetch_queue

    with _inbox_errors():
        s = settings()
        filters = QueueFilter(brand=brand, lang=lang, source=source)
        if as_json:
            for item in fetch_queue(s, filters, limit=limit).items:
                typer.echo(json.dumps(item.as_dict(), ensure_ascii=False))
            return
        if not follow:
            console.print(queue_table(fetch_queue(s, filters, limit=limit), s.reply_target_minutes))
            return
        _follow(lambda: queue_table(fetch_queue(s, filters, limit=limit), s.reply_target_minutes), max(1.0, every))


def _follow(render, every: float) -> None:
    from rich.live import Live

    try:
        with Live(render(), console=console, refresh_per_second=1) as live:
            while True:
                time.sleep(every)
                live.update(render())
    except KeyboardInterrupt:
        pass


def _act(mention_id: str, name: str, as_name: str | None, version: str | None, **inputs) -> None:
    from streams.inbox.actions import make_action, perform
    from streams.inbox.queue import Version

    with _inbox_errors():
        s = settings()
        action = make_action(name, **inputs)
        seen = Version.parse(version) if version else None
        result = perform(s, mention_id, action, _user(as_name), version=seen)
        status = result.inbox.get("status")
        extra = f" ({result.inbox['audit'][-1]['detail']})" if result.inbox["audit"][-1].get("detail") else ""
        console.print(f"{mention_id}: {name.replace('_', ' ')} done{extra}; status {status}, version {result.version}", highlight=False)


@app.command()
def assign(mention_id: str = typer.Argument(..., help="The mention's id."),
           to: str = typer.Option(..., "--to", help="Who answers it."),
           as_name: str = typer.Option(None, "--as", help=AS_HELP), version: str = typer.Option(None, "--version", help=VERSION_HELP)) -> None:
    """Give the mention to someone to answer."""
    _act(mention_id, "assign", as_name, version, to=to)


@app.command()
def handled(mention_id: str = typer.Argument(..., help="The mention's id."),
            as_name: str = typer.Option(None, "--as", help=AS_HELP), version: str = typer.Option(None, "--version", help=VERSION_HELP)) -> None:
    """Mark the mention answered by the team (it leaves the queue)."""
    _act(mention_id, "handled", as_name, version)


@app.command("no-reply")
def no_reply(mention_id: str = typer.Argument(..., help="The mention's id."),
             as_name: str = typer.Option(None, "--as", help=AS_HELP), version: str = typer.Option(None, "--version", help=VERSION_HELP)) -> None:
    """Mark that the mention needs no reply after all (it leaves the queue)."""
    _act(mention_id, "no_reply_needed", as_name, version)


@app.command()
def note(mention_id: str = typer.Argument(..., help="The mention's id."), text: str = typer.Argument(..., help="The note."),
         as_name: str = typer.Option(None, "--as", help=AS_HELP), version: str = typer.Option(None, "--version", help=VERSION_HELP)) -> None:
    """Add a note for the team (the status stays)."""
    _act(mention_id, "note", as_name, version, text=text)


@app.command()
def snooze(mention_id: str = typer.Argument(..., help="The mention's id."),
           for_: str = typer.Option(None, "--for", help="How long: 30m, 2h, 1d."),
           until: str = typer.Option(None, "--until", help="Until this ISO time, e.g. 2026-12-24T09:00:00+01:00."),
           as_name: str = typer.Option(None, "--as", help=AS_HELP), version: str = typer.Option(None, "--version", help=VERSION_HELP)) -> None:
    """Hide the mention from the queue until a time (it comes back by itself)."""
    _act(mention_id, "snooze", as_name, version, duration=for_, until=until)


@app.command()
def reopen(mention_id: str = typer.Argument(..., help="The mention's id."),
           as_name: str = typer.Option(None, "--as", help=AS_HELP), version: str = typer.Option(None, "--version", help=VERSION_HELP)) -> None:
    """Put the mention back in the queue, unassigned."""
    _act(mention_id, "reopen", as_name, version)


@app.command()
def show(mention_id: str = typer.Argument(..., help="The mention's id."),
         as_json: bool = typer.Option(False, "--json", help="The document and its version as JSON.")) -> None:
    """The mention, its inbox state, notes and audit trail, and its version."""
    from streams.inbox.actions import current
    from streams.sinks.elasticsearch import sync_client

    with _inbox_errors():
        s = settings()
        client = sync_client(s)
        try:
            found = current(s, mention_id, client)
        finally:
            client.close()
        if as_json:
            typer.echo(json.dumps({"id": found.id, "version": str(found.version), "mention": found.doc}, ensure_ascii=False))
            return
        _print_mention(found)


def _print_mention(found) -> None:
    doc, state = found.doc, found.inbox
    author = (doc.get("author") or {}).get("handle", "-")
    console.print(f"[bold]{found.id}[/] version {found.version}  {doc.get('source')} · {author} · {doc.get('published_at')}", highlight=False)
    console.print(f"brands {', '.join(doc.get('addressed_to') or doc.get('brands') or [])} · intent {doc.get('intent') or '-'} · "
                  f"needs reply {doc.get('needs_reply')} · answered {doc.get('answered_at') or 'no'}", highlight=False)
    if doc.get("url"):
        console.print(Text(str(doc["url"]), style="dim"))
    console.print(Text(str(doc.get("text") or "")))
    console.print(f"[bold]inbox[/]: {state.get('status', 'open')}" + (f" → {state['assignee']}" if state.get("assignee") else "")
                  + (f", snoozed until {state['snoozed_until']}" if state.get("snoozed_until") else ""), highlight=False)
    for entry in state.get("notes") or []:
        console.print(Text(f"  note {entry.get('at')} {entry.get('by')}: {entry.get('text')}"))
    for entry in state.get("audit") or []:
        console.print(Text(f"  {entry.get('at')} {entry.get('by')} {entry.get('action')} {entry.get('detail') or ''}".rstrip(), style="dim"))
