"""Stories in the influence stage: each mention's ``story_id`` (streams/stories), set before the one write.

The index is built on the first batch, when the changelog-backed table is restored, and rebuilt from it
(``StoryIndex.rebuild``), so stories survive a restart. One index serves all the partitions a worker
holds, so copies that arrive on different partitions meet. With several workers, each groups the
partitions it holds: copies that land on two workers make two stories (a known limit; one worker per
deployment is the documented default, docs in README "Stories").
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping

from streams.schema import EnrichedMention
from streams.stories.index import StoryIndex, StoryMatch

__all__ = ["StoryAssigner", "story_text"]


def story_text(enriched: EnrichedMention) -> str:
    """What a copy repeats: the title of a post (feeds syndicate headlines) and its text."""
    m = enriched.mention
    return f"{m.title} {m.text}" if m.kind == "post" and m.title and m.title not in m.text else m.text


class StoryAssigner:
    def __init__(self, store: MutableMapping[str, dict], make_index: Callable[[MutableMapping[str, dict]], StoryIndex]) -> None:
        self.store = store
        self._make_index = make_index
        self.index: StoryIndex | None = None

    def assign(self, batch: list[EnrichedMention]) -> dict[str, StoryMatch]:
        """Sets ``story_id`` on each live mention; the matches by mention id (for the alert rules)."""
        if self.index is None:
            self.index = self._make_index(self.store)
        matches: dict[str, StoryMatch] = {}
        for enriched in batch:
            if enriched.deleted_at is not None:
                continue  # a tombstone has no text to compare
            m = enriched.mention
            match = self.index.assign(m.id, story_text(enriched), m.published_at.timestamp(), m.author.handle if m.author else None)
            enriched.story_id = match.story_id
            matches[m.id] = match
        return matches
