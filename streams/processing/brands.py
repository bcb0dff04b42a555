"""Brand matching: which watched brands a mention is about (the queries of the brand watch)."""

from __future__ import annotations

from streams.query import Document
from streams.watch import WatchFile

__all__ = ["BrandMatcher"]


class BrandMatcher:
    """Enricher: sets ``EnrichedMention.brands`` from the current watch (stateless; runs off the loop)."""

    def __init__(self, watch_file: WatchFile) -> None:
        self.watch_file = watch_file

    def enrich(self, enriched: list) -> None:
        watch = self.watch_file.current()
        if not watch.brands:
            return
        for item in enriched:
            m = item.mention
            document = Document.from_mapping(
                {
                    "title": m.title or "",
                    "text": m.text,
                    "author": m.author.model_dump() if m.author else "",
                    "source": m.source,
                    "lang": item.lang,
                    "url": m.url or "",
                }
            )
            item.brands = watch.match(document)
