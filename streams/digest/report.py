"""The digest as HTML (charts inline) and as plain text, from :class:`~streams.digest.queries.DigestData`.

Every text that comes from a mention, an alert or the watch file is HTML-escaped (``html.escape``); a link
is only a link when it is http(s). The HTML is self-contained: styles inline, charts as ``data:`` URIs in
the file, or ``cid:`` references in the e-mail (``image_src``).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from streams.digest.charts import Chart
from streams.digest.queries import DigestData, ResponseStats, Story

e = html.escape
EXAMPLE_CHARS = 280


def data_uri(chart: Chart) -> str:
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


def _shorten(text: str, limit: int = EXAMPLE_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def period_text(data: DigestData) -> str:
    zone = data.period.zone
    start, end = data.period.start.astimezone(zone), data.period.end.astimezone(zone)
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} ({zone.key})"


def period_text_short(period) -> str:
    """``1-7 Dec 2026`` style: the local dates the period covers, for a subject line."""
    start, end = period.start.astimezone(period.zone), period.end.astimezone(period.zone)
    return f"{start:%d %b} – {end:%d %b %Y}"


def summary_sentence(data: DigestData) -> str:
    """``180 mentions: 24% negative, 50% neutral, 26% positive. Busiest day: Mon 30 Nov (30).``"""
    totals = {label: sum(counts.get(label, 0) for _, counts in data.sentiment_per_day) for label in ("negative", "neutral", "positive")}
    scored = sum(totals.values())
    text = f"{data.total} mentions"
    if scored:
        text += ": " + ", ".join(f"{count / scored:.0%} {label}" for label, count in totals.items())
    busiest = max(data.per_day, key=lambda item: item[1], default=None)
    if busiest and busiest[1]:
        text += f". Busiest day: {busiest[0]:%a %d %b} ({busiest[1]})"
    return text + "."


def response_sentence(stats: ResponseStats | None) -> str:
    if stats is None:
        return "No response times yet: no mention in this period needed a reply or was answered."
    if not stats.answered:
        return f"No mention was answered in this period; {stats.open_queue} wait for a reply."
    share = stats.within_target_share or 0.0
    return (
        f"{stats.answered} answered: median {_duration(stats.median_s)}, p90 {_duration(stats.p90_s)}; "
        f"{share:.0%} within the target of {stats.target_minutes:g} min. Open queue: {stats.open_queue}."
    )


def _link(url: str | None, label: str) -> str:
    if url and url.lower().startswith(("https://", "http://")):
        return f'<a href="{e(url, quote=True)}">{e(label)}</a>'
    return e(label)


def local_time(value: str | None, zone: ZoneInfo) -> str:
    """An ISO timestamp from a document as ``2026-12-01 09:15`` in the digest time zone ('' if unreadable)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    if moment.tzinfo is None:  # Elasticsearch dates without an offset are UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"


def _story_rows(stories: list[Story], zone: ZoneInfo) -> list[str]:
    rows = ['<table class="stories"><tr><th>#</th><th>Example (first mention)</th><th>Mentions</th><th>Reach</th><th>Impact</th></tr>']
    for rank, story in enumerate(stories, 1):
        who = " · ".join(part for part in (story.author, story.source, local_time(story.published_at, zone)) if part)
        title = f"<strong>{e(_shorten(story.title or '', 120))}</strong><br>" if story.title else ""
        text = e(_shorten(story.text)) if story.text else "<em>(deleted)</em>"
        rows.append(
            f"<tr><td>{rank}</td><td>{title}{text}<br><small>{_link(story.url, who or 'link')}</small></td>"
            f'<td class="n">{story.mentions}</td><td class="n">{story.reach:,.0f}</td><td class="n">{story.impact:,.2f}</td></tr>'
        )
    rows.append("</table>")
    return rows


def _alert_rows(alerts: list[dict], zone: ZoneInfo) -> list[str]:
    rows = ['<table class="alerts"><tr><th>Opened</th><th>Brand</th><th>Severity</th><th>Rule</th><th>Alert</th><th>Status</th><th>Updates</th></tr>']
    for alert in alerts:
        severity = str(alert.get("severity") or "")
        cells = [
            e(local_time(alert.get("opened_at"), zone)),
            e(str(alert.get("brand") or "")),
            f'<span class="sev-{e(severity, quote=True)}">{e(severity)}</span>',
            e(str(alert.get("rule") or "")),
            e(str(alert.get("title") or "")),
            e(str(alert.get("status") or "")),
            e(str(alert.get("updates") if alert.get("updates") is not None else "")),
        ]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    rows.append("</table>")
    return rows


_STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #222; max-width: 860px; margin: 1em auto; line-height: 1.4 }
h1 { margin-bottom: 0 } .meta { color: #666; margin-top: 4px }
table { border-collapse: collapse; width: 100%; font-size: 14px } th, td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top }
td.n { text-align: right; white-space: nowrap } .sev-critical { color: #c0392b; font-weight: bold } .sev-warning { color: #b58105 }
img.chart { max-width: 100%; height: auto; display: block; margin: 0.5em 0 1em }
"""


def render_html(data: DigestData, charts: list[Chart], generated_at: datetime, image_src: Callable[[Chart], str] = data_uri) -> str:
    """The whole report; ``image_src`` gives each chart's ``src`` (a data: URI, or a cid: in the e-mail)."""
    title = f"Lytter digest: {data.title}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title><style>{_STYLE}</style></head><body>',
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">{e(period_text(data))} · {data.total} mentions · brands: {e(", ".join(data.brands))} · made {generated_at:%Y-%m-%d %H:%M} UTC</p>',
        f'<p id="summary">{e(summary_sentence(data))}</p>',
        "<h2>Volume and sentiment</h2>",
    ]
    for chart in charts:
        empty = "true" if chart.empty else "false"
        parts.append(f'<img class="chart" id="chart-{e(chart.name, quote=True)}" data-empty="{empty}" alt="{e(chart.title, quote=True)}" src="{image_src(chart)}">')
    parts.append("<h2>Top stories</h2>")
    parts += _story_rows(data.stories, data.period.zone) if data.stories else ["<p>No stories in this period.</p>"]
    parts.append("<h2>Alerts and incidents</h2>")
    parts += _alert_rows(data.alerts, data.period.zone) if data.alerts else ["<p>No alerts in this period.</p>"]
    parts.append("<h2>Response times</h2>")
    parts.append(f'<p id="responses">{e(response_sentence(data.responses))}</p>')
    parts.append('<p class="meta">Made by Lytter (`lytter digest`).</p></body></html>')
    return "\n".join(parts) + "\n"


def render_text(data: DigestData, generated_at: datetime) -> str:
    """The plain-text part of the e-mail: the same figures without the charts."""
    lines = [f"Lytter digest: {data.title}", period_text(data), f"{data.total} mentions; brands: {', '.join(data.brands)}", ""]
    lines.append(summary_sentence(data))
    voice = sum(count for _, count in data.share_of_voice)
    if voice:
        lines.append("Share of voice: " + ", ".join(f"{name} {count / voice:.0%}" for name, count in data.share_of_voice))
    lines += ["", "Top stories:"]
    for rank, story in enumerate(data.stories, 1):
        lines.append(f"{rank:2d}. {_shorten(story.text, 160) or '(deleted)'} [{story.mentions} mentions, reach {story.reach:,.0f}, impact {story.impact:,.2f}]")
    if not data.stories:
        lines.append("  none")
    lines += ["", f"Alerts and incidents: {len(data.alerts)}"]
    lines += [f"  {local_time(a.get('opened_at'), data.period.zone)} {a.get('severity', '')} {a.get('brand', '')}: {a.get('title', '')} ({a.get('status', '')})" for a in data.alerts[:20]]
    lines += ["", "Response times: " + response_sentence(data.responses), "", f"Made {generated_at:%Y-%m-%d %H:%M} UTC by Lytter."]
    return "\n".join(lines) + "\n"
