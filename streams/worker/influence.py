"""Per-author influence in the stream: author state in a table, the reply graph, reach and impact."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any

from models.influence import (
    AuthorState,
    ReplyGraph,
    author_key,
    estimated_reach,
    impact,
    influence_score,
    mention_targets,
    observe_mention,
)
from streams.schema import EnrichedMention

#: Mention ids remembered per author, so a replayed mention (at-least-once delivery) is not counted twice.
RECENT_IDS_PER_AUTHOR = 32
#: Mention id -> author key, for resolving who a reply answers (bounded: the graph signal is approximate
#: for replies to old posts, which is the price of bounded memory).
PARENT_CACHE_SIZE = 200_000


class InfluenceStage:
    """Scores each enriched mention's author and sets ``influence``, ``reach`` and ``impact`` on it."""

    def __init__(self, authors: MutableMapping, max_nodes: int = 20_000) -> None:
        self.authors = authors
        self.graph = ReplyGraph(max_nodes=max_nodes)
        self._authors_of: OrderedDict[str, str] = OrderedDict()
        self.rebuild_graph()

    def rebuild_graph(self) -> None:
        """The graph is not stored on its own: it is rebuilt from the authors' out-edge summaries, which
        live in the (changelog-backed) author table, so a restart restores it with the table."""
        states = []
        for key, stored in list(self.authors.items()):
            states.append((key, AuthorState.from_dict(stored["state"])))
        for key, state in sorted(states, key=lambda item: item[1].last_seen):
            self.graph.touch(key, state.last_seen)
            for target, count in state.out_edges.items():
                self.graph.add_edge(key, target, weight=float(count), now=state.last_seen)
        self.graph.update(iterations=20)

    def _remember(self, mention_id: str, key: str) -> None:
        self._authors_of[mention_id] = key
        self._authors_of.move_to_end(mention_id)
        if len(self._authors_of) > PARENT_CACHE_SIZE:
            self._authors_of.popitem(last=False)

    def score(self, enriched: EnrichedMention, now: float) -> None:
        mention = enriched.mention
        key = author_key(mention)
        parent_author = self._authors_of.get(mention.parent_id) if mention.parent_id else None
        stored: dict[str, Any] | None = self.authors.get(key) if key else None
        state = AuthorState.from_dict(stored["state"]) if stored else None
        recent: list[str] = list(stored["recent"]) if stored else []
        if key is not None and mention.id not in recent:
            state = observe_mention(state, mention, now, parent_author=parent_author)
            for target in mention_targets(mention, parent_author):
                self.graph.add_edge(key, target, now=now)
            self.graph.touch(key, now)
            state = replace(state, pagerank=self.graph.rank(key) or 0.0)
            recent = (recent + [mention.id])[-RECENT_IDS_PER_AUTHOR:]
            self.authors[key] = {"state": state.to_dict(), "recent": recent}
        if key is not None:
            self._remember(mention.id, key)
        # The graph signal counts once somebody has answered the author: a newcomer with no replies yet
        # is unknown to the graph, not at its bottom (their weight goes to the other signals).
        percentile = self.graph.percentile(key) if key and self.graph.in_degree(key) else None
        enriched.influence = round(influence_score(state, percentile, now=now), 3) if state else 0.0
        enriched.reach = round(estimated_reach(state, mention), 1)
        score = enriched.sentiment.score if enriched.sentiment is not None else None
        enriched.impact = round(impact(enriched.reach, score), 2)

    def score_batch(self, batch: list[EnrichedMention], now: float) -> None:
        # PageRank moves a few steps per batch (not per mention): O(edges) per step.
        for enriched in batch:
            self.score(enriched, now)
        self.graph.update(iterations=3)
