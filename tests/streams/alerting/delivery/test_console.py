"""The console channel prints every value from the alert literally (never as rich markup)."""

from __future__ import annotations

import io

from rich.console import Console

from streams.alerting.delivery import ConsoleChannel
from tests.streams.alerting.delivery.conftest import make_alert


async def test_console_prints_mention_text_literally():
    out = io.StringIO()
    channel = ConsoleChannel(Console(file=out, width=200, color_system=None, force_terminal=False))
    await channel.deliver(make_alert(title="[red]Volume[/red] spike"))
    text = out.getvalue()
    assert "[bold red]not markup[/bold red]" in text
    assert "[red]Volume[/red] spike" in text
    assert "CRITICAL" in text and "forbrukerkrigeren" in text and "negative share" in text

