"""Each chart: a real PNG of some size for data, the small "no data" placeholder without."""

import io
import struct
from datetime import date, timedelta

import pytest

from streams.digest import charts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DAYS = [date(2026, 11, 26) + timedelta(days=i) for i in range(7)]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC, "not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height


def distinct_colours(data: bytes) -> int:
    from matplotlib import image

    pixels = image.imread(io.BytesIO(data), format="png")
    return len({tuple(p) for p in pixels.reshape(-1, pixels.shape[-1])[::7].round(2).tolist()})


WITH_DATA = [
    (charts.volume_per_day, ([(d, 10 + 3 * i) for i, d in enumerate(DAYS)],)),
    (charts.volume_by_hour, ([h % 5 + (8 if 8 <= h <= 17 else 0) for h in range(24)],)),
    (charts.sentiment_mix, ([(d, {"negative": i, "neutral": 5, "positive": 7 - i}) for i, d in enumerate(DAYS)],)),
    (charts.share_of_voice, ([("Nordlys Energi", 120), ("Fjordbank", 45)], "Nordlys Energi")),
]
WITHOUT_DATA = [
    (charts.volume_per_day, ([(d, 0) for d in DAYS],)),
    (charts.volume_by_hour, ([0] * 24,)),
    (charts.sentiment_mix, ([(d, {"negative": 0, "neutral": 0, "positive": 0}) for d in DAYS],)),
    (charts.share_of_voice, ([("Nordlys Energi", 0), ("Fjordbank", 0)], "Nordlys Energi")),
]


@pytest.mark.parametrize("draw, args", WITH_DATA, ids=lambda x: getattr(x, "__name__", ""))
def test_chart_with_data_is_a_full_png(draw, args):
    chart = draw(*args)
    width, height = png_size(chart.png)
    assert not chart.empty
    assert width >= 600 and height >= 150
    assert len(chart.png) > 8_000  # bars, ticks and labels; the placeholder is far smaller
    assert distinct_colours(chart.png) > 5


@pytest.mark.parametrize("draw, args", WITHOUT_DATA, ids=lambda x: getattr(x, "__name__", ""))
def test_chart_without_data_is_the_placeholder(draw, args):
    chart = draw(*args)
    assert chart.empty
    width, height = png_size(chart.png)
    assert width >= 600 and height < 150  # a slim strip that says so
    full = next(d(*a) for d, a in WITH_DATA if d is draw)
    assert chart.name == full.name and len(chart.png) < len(full.png)


def test_empty_inputs_are_placeholders_too():
    assert charts.volume_per_day([]).empty
    assert charts.sentiment_mix([]).empty
    assert charts.share_of_voice([]).empty


def test_hour_chart_needs_24_hours():
    with pytest.raises(ValueError, match="24 hourly counts, got 23"):
        charts.volume_by_hour([1] * 23)


def test_month_of_days_still_draws():
    month = [(date(2026, 11, 1) + timedelta(days=i), i % 9) for i in range(30)]
    assert png_size(charts.volume_per_day(month).png)[0] >= 600
