"""Pure helpers the connectors' mapping functions share: HTML to text, stable ids, times, a bounded seen-set."""

from __future__ import annotations

import hashlib
import html
import re
from collections import OrderedDict
from datetime import datetime, timedelta, timezone, tzinfo
from html.parser import HTMLParser
from typing import Iterable

from dateutil import parser as dateutil_parser
from dateutil import tz

# Elements that end a line or a paragraph when the markup is flattened to text.
_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "aside", "blockquote", "pre", "figure", "figcaption",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "hr", "address",
}
_SKIP = {"script", "style", "template", "noscript", "head", "title", "iframe", "object", "svg"}


_PARAGRAPH = {"p", "blockquote", "pre", "table", "ul", "ol", "dl", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}


class _TextExtractor(HTMLParser):
    """Collects text; block elements leave a pending line break (1) or paragraph break (2) that is written
    only before the next text, so nested and adjacent blocks never pile up blank lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._break = 0

    def _pending(self, strength: int) -> None:
        if self.parts:
            self._break = max(self._break, strength)

    def _text(self, text: str) -> None:
        if not text:
            return
        if self._break and text.strip():
            self.parts.append("\n" * self._break)
            self._break = 0
        self.parts.append(text)

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif self._skip:
            return
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self._pending(2 if tag in _PARAGRAPH else 1)
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self._pending(1)
                self._text(alt)

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _SKIP:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif not self._skip and tag in _BLOCK:
            self._pending(2 if tag in _PARAGRAPH else 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._text(data)


_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def html_to_text(markup: str | None) -> str:
    """Markup to plain text: tags dropped, entities decoded, paragraphs kept as blank lines, whitespace
    collapsed. Scripts and styles are dropped with their content. Plain text passes through unchanged
    (apart from entities and whitespace)."""
    if not markup:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # html.parser is lenient; this is a last resort for pathological input
        text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    return normalize_whitespace(text)


def normalize_whitespace(text: str | None) -> str:
    """Runs of spaces to one, lines trimmed, at most one blank line in a row."""
    if not text:
        return ""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


#: Longest mention id (the schema allows 512); longer natural keys are hashed.
MAX_ID_CHARS = 500


def stable_id(prefix: str, key: str) -> str:
    """``prefix:key``, or ``prefix:sha256:<hex>`` when that would be longer than an id may be."""
    candidate = f"{prefix}:{key}"
    if len(candidate) <= MAX_ID_CHARS:
        return candidate
    return f"{prefix}:sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


#: The project's window of believable times: older items are no news, and a time more than a day ahead is
#: a broken clock or a sentinel (``9999-12-31``) rather than a post.
EARLIEST_TIME = datetime(1990, 1, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(days=1)

# Two defaults that differ in every date field: a string whose reading changes with the default lacks
# part of its date (``"Dec 2 10:00"``, ``"10:00"``), which dateutil would silently fill in.
_DEFAULTS = (datetime(2001, 2, 3), datetime(2002, 4, 5))


class _UnknownZone(ValueError):
    pass


def within_bounds(when: datetime) -> datetime | None:
    """``when`` if it lies between ``EARLIEST_TIME`` and a day from now, else None."""
    return when if EARLIEST_TIME <= when <= datetime.now(timezone.utc) + FUTURE_SLACK else None


def _zone(name: str | None, offset: int | None) -> tzinfo | None:
    """dateutil's ``tzinfos`` hook: numeric offsets as given, zone names through the tz database; a name it
    does not know raises, so such a time is refused instead of being taken as UTC."""
    if offset is not None:
        return tz.UTC if offset == 0 else tz.tzoffset(name, offset)
    if name:
        zone = tz.gettz(name)
        if zone is None:
            raise _UnknownZone(name)
        return zone
    return None


def _parse_string(text: str) -> datetime | None:
    try:
        return dateutil_parser.isoparse(text)  # strict ISO 8601: what APIs send, read first
    except (ValueError, OverflowError):
        pass
    try:
        first, second = (dateutil_parser.parse(text, default=d, tzinfos=_zone) for d in _DEFAULTS)
    except (ValueError, OverflowError, TypeError):
        return None
    return first if first == second else None


def parse_time(value: str | int | float | None, *, assume_utc: bool = True) -> datetime | None:
    """A timezone-aware datetime from what sources send: ISO 8601 (``2024-11-23T08:00:00Z``, ``+01:00``),
    RFC 822 (``Sat, 23 Nov 2024 09:00:00 +0100``, also ``+01:00`` and tz-database names such as ``EST``),
    both read by dateutil, or epoch seconds. Naive values are taken as UTC (``assume_utc``) or refused (None); an
    unknown zone name, an incomplete date and a time outside ``within_bounds`` are None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            parsed: datetime | None = datetime.fromtimestamp(float(value), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    else:
        parsed = _parse_string(str(value).strip())
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        if not assume_utc:
            return None
        parsed = parsed.replace(tzinfo=timezone.utc)
    return within_bounds(parsed)


#: ISO 639-2 codes feeds and sources use for Lytter's languages, as the ISO 639-1 codes the rest uses.
_LANG_ALIASES = {"dan": "da", "nob": "nb", "nno": "nn", "nor": "no", "swe": "sv", "eng": "en"}


def normal_lang(value: object) -> str | None:
    """A declared language tag as its primary language subtag, lower-case: ``nb-NO`` -> ``nb``, ``en_US``
    -> ``en``, ``nob`` -> ``nb``. ``no`` (Norwegian) stays ``no``: it is Bokmål or Nynorsk, and the
    language priors read it as a weak hint for both (``language_priors.DECLARED``), so it is not guessed
    into ``nb`` here. Anything that is not a language tag (empty, ``x-default``, digits) is None."""
    if not isinstance(value, str):
        return None
    primary = value.strip().lower().replace("_", "-").split("-")[0]
    if not (2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha()):
        return None
    return _LANG_ALIASES.get(primary, primary)


class SeenIds:
    """A bounded, insertion-ordered set of ids (the oldest are forgotten first), kept in checkpoints as a list."""

    def __init__(self, items: Iterable[str] = (), maxlen: int = 5000) -> None:
        self.maxlen = maxlen
        self._items: OrderedDict[str, None] = OrderedDict()
        for item in items:
            self.add(item)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))  # a copy: callers may add while they look

    def add(self, item: str) -> None:
        self._items[item] = None
        self._items.move_to_end(item)
        while len(self._items) > self.maxlen:
            self._items.popitem(last=False)

    def update(self, items: Iterable[str]) -> None:
        for item in items:
            self.add(item)

    def to_list(self) -> list[str]:
        return list(self._items)

    def copy(self) -> "SeenIds":
        return SeenIds(self._items, self.maxlen)


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for a list of keywords or phrases, each matching at a word start
    (``lego`` matches "Lego", "#lego" and "legoland", not "allegory"); None for no keywords."""
    words = [k.strip() for k in keywords if k and k.strip()]
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alternatives})", re.IGNORECASE)


def clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"
