"""The console channel: :class:`ConsoleChannel` prints alerts with rich (``lytter alerts --follow``, the demo).

Every value from the alert is printed as literal text, never read as rich markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.alerting.delivery.base import (
    TOP_MENTIONS_SHOWN,
    DeliveryError,
    _headline,
    _one_line,
    _s,
    _severity,
    _status_phrase,
    alert_counts,
    top_mentions,
)

SEVERITY_COLOUR = {"info": "blue", "warning": "yellow", "critical": "red"}  # rich styles


class ConsoleChannel:
    """Print alerts with rich. Every value from the alert is printed literally (never read as rich markup)."""

    def __init__(self, console: Any = None, *, name: str = "console", show_mentions: int = TOP_MENTIONS_SHOWN) -> None:
        from rich.console import Console

        self.console = console if console is not None else Console()
        self.name = name
        self.show_mentions = show_mentions

    def __repr__(self) -> str:
        return f"ConsoleChannel(name={self.name!r})"

    def renderable(self, alert: Mapping[str, Any]) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        severity = _severity(alert)
        colour = SEVERITY_COLOUR[severity]
        title = Text.assemble((f"{severity.upper()} ", f"bold {colour}"), (_headline(alert), "bold"))
        facts = Text.assemble(
            ("rule ", "dim"), _one_line(_s(alert.get("rule"), "-")),
            ("  status ", "dim"), _status_phrase(alert),
        )
        if alert.get("opened_at"):
            facts.append_text(Text.assemble(("  opened ", "dim"), _s(alert.get("opened_at"))))
        if alert.get("updated_at") and alert.get("updated_at") != alert.get("opened_at"):
            facts.append_text(Text.assemble(("  updated ", "dim"), _s(alert.get("updated_at"))))
        parts: list[Any] = [facts]
        counts = alert_counts(alert)
        if counts:
            table = Table.grid(padding=(0, 2))
            table.add_column(style="dim")
            table.add_column(justify="right")
            for label, value in counts:
                table.add_row(Text(label), Text(value))
            parts.append(table)
        for mention in top_mentions(alert, self.show_mentions):
            line = Text.assemble(("• ", colour), (mention.author, "bold"))
            if mention.impact is not None:
                line.append(f"  impact {mention.impact}", style="dim")
            line.append("\n  ")
            line.append(mention.text)
            if mention.url:
                line.append("\n  ")
                line.append(mention.url, style="underline")
            parts.append(line)
        subtitle = Text(_s(alert.get("alert_id")), style="dim") if alert.get("alert_id") else None
        return Panel(Group(*parts), title=title, subtitle=subtitle, border_style=colour, title_align="left")

    async def deliver(self, alert: dict[str, Any]) -> None:
        try:
            self.console.print(self.renderable(alert))
        except OSError as exc:  # a closed pipe (e.g. `lytter alerts --follow | head`)
            raise DeliveryError(self.name, f"could not print: {exc}") from None
