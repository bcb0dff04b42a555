from datetime import datetime, timedelta, timezone

from streams.sources.text import SeenIds, html_to_text, keyword_pattern, normal_lang, parse_time, stable_id


def test_html_to_text_drops_markup_keeps_paragraphs_and_decodes_entities():
    html = (
        "<p>Lego er <b>fedt</b> &amp; sjovt&nbsp;&#8211; ja&hellip;</p>"
        "<script>alert('x')</script><style>p{}</style>"
        "<p>Linje 1<br/>Linje 2</p><ul><li>en</li><li>to</li></ul><img alt='et billede' src='x.png'>"
    )
    text = html_to_text(html)
    assert text == "Lego er fedt & sjovt – ja…\n\nLinje 1\nLinje 2\n\nen\nto\n\net billede"
    assert "<" not in text and "&" + "amp;" not in text and "alert" not in text


def test_html_to_text_joins_mastodons_link_spans_and_passes_plain_text():
    html = (
        '<p>Læs: <a href="https://example.dk/nyhed/lego" rel="nofollow noopener" target="_blank">'
        '<span class="invisible">https://</span><span class="ellipsis">example.dk/nyhed</span>'
        '<span class="invisible">/lego</span></a> <a href="https://m.example/tags/lego" class="mention hashtag">#<span>lego</span></a></p>'
    )
    assert html_to_text(html) == "Læs: https://example.dk/nyhed/lego #lego"
    assert html_to_text("bare tekst 3 < 4") == "bare tekst 3 < 4"
    assert html_to_text("") == "" and html_to_text(None) == ""


def test_parse_time_is_always_timezone_aware():
    assert parse_time("Sat, 23 Nov 2024 09:00:00 +0100") == datetime(2024, 11, 23, 9, tzinfo=timezone(timedelta(hours=1)))
    assert parse_time("2024-11-20T08:00:00.123Z") == datetime(2024, 11, 20, 8, 0, 0, 123000, tzinfo=timezone.utc)
    assert parse_time("2024-11-20T08:00:00+02:00").utcoffset() == timedelta(hours=2)
    assert parse_time("2024-11-20T08:00:00").tzinfo is timezone.utc  # naive: taken as UTC
    assert parse_time("2024-11-20T08:00:00", assume_utc=False) is None
    assert parse_time(1732100000.5) == datetime.fromtimestamp(1732100000.5, tz=timezone.utc)
    assert parse_time("yesterday") is None and parse_time(None) is None


def test_stable_ids_hash_only_what_is_too_long():
    assert stable_id("rss", "https://x/?p=1") == "rss:https://x/?p=1"
    long = "https://x/" + "a" * 600
    assert stable_id("rss", long) == stable_id("rss", long)
    assert stable_id("rss", long).startswith("rss:sha256:") and len(stable_id("rss", long)) < 512


def test_seen_ids_are_bounded_and_forget_the_oldest():
    seen = SeenIds(["a", "b"], maxlen=3)
    seen.update(["c", "d"])
    assert seen.to_list() == ["b", "c", "d"] and "a" not in seen and "d" in seen
    seen.add("b")  # seen again: now the newest
    seen.add("e")
    assert seen.to_list() == ["d", "b", "e"]


def test_keyword_pattern_matches_at_word_starts_any_case():
    pattern = keyword_pattern(["lego", "Nordlys Energi"])
    assert pattern.search("Jeg elsker LEGO!")
    assert pattern.search("#lego er sjovt") and pattern.search("legoland i dag")
    assert pattern.search("skiftet til nordlys energi i går")
    assert not pattern.search("an allegory") and not pattern.search("nordlysenergi")
    assert keyword_pattern([" ", ""]) is None


def test_parse_time_reads_rfc822_with_a_colon_offset():
    # email.utils read "+01:00" as no zone at all, so it came out as 10:00 UTC
    assert parse_time("Mon, 02 Dec 2024 10:00:00 +01:00") == datetime(2024, 12, 2, 9, tzinfo=timezone.utc)
    assert parse_time("Mon, 02 Dec 2024 10:00:00 EST") == datetime(2024, 12, 2, 15, tzinfo=timezone.utc)
    assert parse_time("2024-12-02T10:00:00-01:01") == datetime(2024, 12, 2, 11, 1, tzinfo=timezone.utc)


def test_parse_time_refuses_what_cannot_be_trusted():
    assert parse_time("Mon, 02 Dec 2024 10:00:00 XST") is None  # a zone name no one knows: not UTC
    assert parse_time("9999-12-31T23:59:59-05:00") is None and parse_time("Fri, 31 Dec 9999 23:00:00 -0500") is None
    assert parse_time("1970-01-01T00:00:00Z") is None and parse_time(0) is None
    assert parse_time(1732100000 * 1000) is None  # milliseconds taken for seconds: far in the future
    tomorrow = datetime.now(timezone.utc) + timedelta(hours=20)
    assert parse_time(tomorrow.isoformat()) == tomorrow  # clocks a little ahead are still believed
    assert parse_time("Dec 2 10:00") is None  # no year: dateutil would make it this year's


def test_normal_lang_keeps_the_primary_subtag_and_leaves_norwegian_ambiguous():
    assert [normal_lang(v) for v in ("nb-NO", "en_US", " DA ", "sv-SE", "nob", "nno", "dan", "no", "no-NO", "nn")] == [
        "nb", "en", "da", "sv", "nb", "nn", "da", "no", "no", "nn",
    ]
    assert [normal_lang(v) for v in ("", None, "x-default", "1", "english", 7, "zh-Hant-TW")] == [None, None, None, None, None, None, "zh"]
