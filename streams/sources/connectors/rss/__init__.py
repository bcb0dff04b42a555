"""RSS and Atom feeds (blogs, news sites) and WordPress comment feeds, parsed with feedparser.

* Conditional GET: the feed's ``ETag`` / ``Last-Modified`` are kept in the checkpoint and sent back as
  ``If-None-Match`` / ``If-Modified-Since``; a ``304 Not Modified`` costs nothing.
* Paging (RFC 5005): when every item of a page is new and the feed links a ``rel="next"`` page (Atom
  archives, WordPress ``?paged=2``), the next page is read too, up to ``max_pages`` in a chain. An
  interrupted chain is continued after a restart (``next_url`` in the checkpoint).
* Comments: an item with ``<wfw:commentRss>`` (WordPress) has its comment feed read as well; each comment
  is a mention of kind ``comment`` whose ``parent_id`` is the post's mention id. The comment feeds of the
  latest ``max_comment_feeds`` posts are re-read (conditionally) on every poll, as comments keep coming.
* De-duplication by GUID across restarts: a bounded seen-set in the checkpoint.
* Edits: the checkpoint keeps, per seen id, the item's version (its ``<updated>``, else a short hash of its
  title and text); an item read again with a later ``<updated>`` or, without one, another title or text is
  published again under the same id with ``edited_at`` (its ``<updated>``, else the fetch time) and its
  first publication time. An item that drops out of the feed is no deletion: feeds show only the latest.
* HTML to plain text (entities decoded, no markup) where feedparser says a field is HTML; times
  timezone-aware (a feed time without a zone is UTC).

Mention ids are ``rss:<guid>`` (the item's ``<guid>``/``<id>``, else its link; an http(s) URL in one
spelling: ``http://``, lower-case host, no trailing slash), so the same item read from two feeds, over
https or http, through a mirror, or twice, is one mention. Dates are feedparser's own (``*_parsed``),
bounded by ``text.within_bounds``; an item whose dates cannot be trusted gets the fetch time and a
``raw["date_problem"]``. A ``rel="next"`` page that is gone for good ends the chain (a warning).

Declared language (``declared_lang``): the item's own ``xml:lang``, else the feed's (RSS 2.0
``<channel><language>``, RSS 1.0 ``<dc:language>``, Atom ``<feed xml:lang>``), as its primary subtag
(``text.normal_lang``: ``nb-NO`` -> ``nb``; ``no`` stays ``no``, a weak Bokmål/Nynorsk hint for the
language priors).

Modules: ``mapping`` (items as mentions, pure), ``connector`` (the connector and its watch-file entry).
"""

from streams.sources.connectors.rss.connector import RSS_EXAMPLE, SEEN_MAX, FeedMemory, RssConf, RssConnector, rss_command, rss_connectors
from streams.sources.connectors.rss.mapping import (
    ID_SCHEME,
    atom_feed,
    check_feed,
    declared_language,
    entry_id,
    entry_key,
    entry_to_mention,
    entry_updated,
    entry_version,
    feed_language,
    is_edit,
    next_page_url,
    parse_feed_bytes,
)

__all__ = [
    "ID_SCHEME", "RSS_EXAMPLE", "SEEN_MAX", "FeedMemory", "RssConf", "RssConnector", "atom_feed", "check_feed", "declared_language",
    "entry_id", "entry_key", "entry_to_mention", "entry_updated", "entry_version", "feed_language", "is_edit", "next_page_url",
    "parse_feed_bytes", "rss_command", "rss_connectors",
]
