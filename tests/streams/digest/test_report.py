"""The digest's HTML and text: hostile mention text is escaped; empty sections say so; the e-mail's parts."""

import html.parser
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from streams.digest.build import Digest, brands_for, draw_charts
from streams.digest.mail import digest_channel, render_digest_email
from streams.digest.queries import DigestData, DigestError, Period, ResponseStats, Story, parse_since
from streams.digest.report import render_html, render_text
from streams.settings import Settings
from streams.watch import parse_watch

HOSTILE = 'Boikott! <script>alert("x")</script> <img src=x onerror=alert(1)> & "quotes"'
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def sample(stories=True, responses=True) -> DigestData:
    period = Period.ending(NOW, timedelta(days=7), ZoneInfo("Europe/Copenhagen"))
    data = DigestData("Nordlys <Energi>", ["Nordlys <Energi>"], period, total=70)
    days = period.local_days()
    data.per_day = [(d, 10) for d in days]
    data.per_hour = [3] * 24
    data.sentiment_per_day = [(d, {"negative": 3, "neutral": 4, "positive": 3}) for d in days]
    data.share_of_voice = [("Nordlys <Energi>", 70), ("Fjordbank", 30)]
    if stories:
        data.stories = [Story("s1", 4, 12000, 3.5, HOSTILE, "<b>title</b>", "javascript:alert(1)", "<evil>", "bluesky", "2026-12-01T10:00:00+00:00")]
    data.alerts = [{"opened_at": "2026-12-01T10:00:00+00:00", "brand": "Nordlys <Energi>", "severity": "critical", "rule": "volume_spike", "title": "<script>spike</script>", "status": "open", "updates": 2}]
    if responses:
        data.responses = ResponseStats(answered=10, median_s=1500, p90_s=9000, within_target=7, target_minutes=60, open_queue=3)
    return data


class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parsed_tags(document: str):
    collector = _Collector()
    collector.feed(document)
    return collector.tags


def test_mention_text_is_escaped():
    data = sample()
    page = render_html(data, draw_charts(data), NOW)
    tags = parsed_tags(page)
    assert not [t for t, _ in tags if t == "script"]
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<img src=x" not in page and all(a.get("onerror") is None for _, a in tags)
    assert "&lt;b&gt;title&lt;/b&gt;" in page and "&lt;evil&gt;" in page
    assert "javascript:" not in page  # not a link, and not shown
    assert "<td>2026-12-01 11:00</td>" in page  # the alert opened at 10:00 UTC, shown in Copenhagen time
    assert "Nordlys &lt;Energi&gt;" in page and "<Energi>" not in page


def test_every_chart_is_an_inline_png_marked_with_its_state():
    data = sample()
    page = render_html(data, draw_charts(data), NOW)
    images = [a for t, a in parsed_tags(page) if t == "img"]
    assert [a["id"] for a in images] == ["chart-volume-per-day", "chart-volume-by-hour", "chart-sentiment-mix", "chart-share-of-voice"]
    assert all(a["src"].startswith("data:image/png;base64,") and a["data-empty"] == "false" for a in images)


def test_empty_sections_have_plain_sentences():
    data = sample(stories=False, responses=False)
    data.alerts = []
    data.per_day = [(d, 0) for d, _ in data.per_day]
    page = render_html(data, draw_charts(data), NOW)
    assert "No stories in this period." in page
    assert "No alerts in this period." in page
    assert "No response times yet" in page
    assert 'id="chart-volume-per-day" data-empty="true"' in page


def test_text_part_has_the_figures():
    text = render_text(sample(), NOW)
    assert "Nordlys <Energi>" in text.splitlines()[0]
    assert "median 25 min, p90 2.5 h; 70% within the target of 60 min. Open queue: 3." in text
    assert "Share of voice: Nordlys <Energi> 70%, Fjordbank 30%" in text
    assert "reach 12,000" in text


def test_email_has_text_html_and_the_charts_as_cid_parts():
    data = sample()
    drawn = draw_charts(data)
    digest = Digest(data, drawn, NOW, render_html(data, drawn, NOW), render_text(data, NOW))
    msg = render_digest_email(digest, "lytter@example.org", ["team@example.org"])
    types = [part.get_content_type() for part in msg.walk()]
    assert types[:3] == ["multipart/alternative", "text/plain", "multipart/related"]
    assert types.count("image/png") == 4 and "text/html" in types
    html_part = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    cids = [p["Content-ID"].strip("<>") for p in msg.walk() if p.get_content_type() == "image/png"]
    assert all(f'src="cid:{cid}"' in html_part for cid in cids)
    assert "data:image" not in html_part
    assert "Nordlys <Energi>" in msg["Subject"]


def test_digest_channel_names_missing_settings():
    with pytest.raises(DigestError, match="LYTTER_SMTP_HOST, LYTTER_SMTP_SENDER, LYTTER_DIGEST_RECIPIENTS"):
        digest_channel(Settings(smtp_host=None, smtp_sender=None, smtp_recipients="", digest_recipients=""))
    channel = digest_channel(Settings(smtp_host="mail.example", smtp_sender="a@example.org", smtp_recipients="x@example.org", digest_recipients=""))
    assert channel.recipients == ["x@example.org"] and channel.port == 25  # falls back to the alert recipients
    channel = digest_channel(Settings(smtp_host="mail.example", smtp_sender="a@example.org", smtp_recipients="x@example.org", digest_recipients="d@example.org, e@example.org"))
    assert channel.recipients == ["d@example.org", "e@example.org"]


@pytest.mark.parametrize("text, hours", [("24h", 24), ("7d", 168), ("30d", 720), ("2w", 336), (" 7D ", 168)])
def test_since_periods(text, hours):
    assert parse_since(text) == timedelta(hours=hours)


@pytest.mark.parametrize("text", ["7", "d7", "0d", "7 days", "-1d", "7m", ""])
def test_bad_since_names_the_option(text):
    with pytest.raises(DigestError, match=r"--since .* is not a period: use a number and h, d or w"):
        parse_since(text)


def test_since_longer_than_a_year_is_refused():
    assert parse_since("366d") == timedelta(days=366)
    with pytest.raises(DigestError, match="--since '53w' is longer than 366 days"):
        parse_since("53w")


WATCH = """
brands:
  - {name: Nordlys Energi, query: nordlys, competitors: [Fjordbank]}
  - {name: Fjordbank, query: fjordbank}
"""


def test_brands_for_a_brand_its_competitors_and_all():
    watch = parse_watch(WATCH)
    assert brands_for(watch, "Nordlys Energi") == (["Nordlys Energi"], ["Nordlys Energi", "Fjordbank"])
    assert brands_for(watch, None) == (["Nordlys Energi", "Fjordbank"], ["Nordlys Energi", "Fjordbank"])
    with pytest.raises(DigestError, match=r"'nordlys energi' is not in .*did you mean 'Nordlys Energi'.*its brands: Nordlys Energi, Fjordbank"):
        brands_for(watch, "nordlys energi")


def test_period_local_days_cover_both_ends():
    period = Period.ending(NOW, timedelta(days=7), ZoneInfo("Europe/Copenhagen"))
    assert period.local_days()[0] == date(2026, 11, 26) and period.local_days()[-1] == date(2026, 12, 3)
