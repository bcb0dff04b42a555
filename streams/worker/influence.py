"""The influence stage: per-author influence (author state in a table, the reply graph), reach and impact,
the story (streams/worker/stories.py) and the answer loop (streams/worker/answers.py); then the one
Elasticsearch write of each complete document, and the fan-out per brand to the alert stage.

Order, per batch: score -> story -> answer loop -> index (refusals become dead letters) -> the answer
loop's updates of earlier mentions -> per-brand records to Kafka; the caller
acknowledges the batch only after :meth:`InfluenceStage.process` returned, so a crash replays it
(idempotent: document ids, and the author table remembers recent mention ids).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

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
from streams.alerting.mentions import MentionInfo
from streams.processing.pipeline import DeadLetterSink, DocumentSink, RawRecord, index_or_dead_letter
from streams.schema import EnrichedMention
from streams.sinks.kafka import KeyedSink

if TYPE_CHECKING:
    from streams.worker.answers import AnswerLoop
    from streams.worker.stories import StoryAssigner

#: Mention ids remembered per author, so a replayed mention (at-least-once delivery) is not counted twice.
RECENT_IDS_PER_AUTHOR = 32
#: Mention id -> author key, for resolving who a reply answers (bounded: the graph signal is approximate
#: for replies to old posts, which is the price of bounded memory).
PARENT_CACHE_SIZE = 200_000


class InfluenceScorer:
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


@dataclass
class InfluenceOutcome:
    received: int = 0
    indexed: int = 0
    dead_lettered: int = 0
    reasons: list[str] = field(default_factory=list)
    ingested: list[float] = field(default_factory=list)  # raw-record times of the indexed mentions (latency)


def brand_records(enriched: Sequence[EnrichedMention], stories: Mapping[str, Any] | None = None) -> list[tuple[bytes, bytes]]:
    """One record per (mention, matched brand), keyed by brand: each brand's alert rules read that
    brand's own sentiment, and the mention's story (distinct stories, campaigns)."""
    stories = stories or {}
    return [
        (brand.encode("utf-8"), json.dumps(MentionInfo.from_enriched(e, brand, story=stories.get(e.mention.id)).to_dict(), ensure_ascii=False).encode("utf-8"))
        for e in enriched
        for brand in e.brands
    ]


class InfluenceStage:
    """Scores a batch of enriched records (influence, story, who waits for a reply), writes each complete
    document once, sends the answer loop's updates, fans out per brand."""

    def __init__(
        self,
        scorer: Callable[[], InfluenceScorer],
        *,
        index: DocumentSink,
        deadletters: DeadLetterSink,
        by_brand: KeyedSink,
        clock: Callable[[], float],
        stories: StoryAssigner | None = None,
        answers: AnswerLoop | None = None,
    ) -> None:
        self._make_scorer = scorer  # built on the first batch: the author table is restored by then
        self._scorer: InfluenceScorer | None = None
        self.index = index
        self.deadletters = deadletters
        self.by_brand = by_brand
        self.clock = clock
        self.stories = stories
        self.answers = answers

    async def process(self, records: Sequence[RawRecord]) -> InfluenceOutcome:
        if self._scorer is None:
            self._scorer = self._make_scorer()
        batch = [EnrichedMention.model_validate_json(r.value) for r in records if r.value]
        self._scorer.score_batch(batch, now=self.clock())
        stories = self.stories.assign(batch) if self.stories is not None else {}
        answered = self.answers.observe(batch) if self.answers is not None else None
        written = await index_or_dead_letter(self.index, batch)
        if written.letters:
            await self.deadletters.send(written.letters)
        if answered is not None:
            await self.answers.after_write(answered)
        await self.by_brand.send(brand_records(written.indexed, stories))
        return InfluenceOutcome(
            received=len(records),
            indexed=len(written.indexed),
            dead_lettered=len(written.letters),
            reasons=[letter.reason for _, letter in written.letters],
            ingested=[e.ingested_at.timestamp() for e in written.indexed if e.ingested_at is not None],
        )
