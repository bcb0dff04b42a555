"""One batch through the worker's first stage: validate, enrich off the event loop, dead-letter the rest.

The Faust agent (``streams.worker``) only moves records in and acknowledges them; everything between is
here, behind small interfaces, so the whole path is tested without Faust and the I/O ends are tested
against the real services.

Where the document is written: with an ``enriched_sink`` (the worker's default) the enriched mentions go
on to the influence stage, which indexes each complete document once (:func:`index_or_dead_letter`);
without one the pipeline indexes them itself.

Accounting invariant, per batch: ``len(records) == passed + dead_lettered``, where ``passed`` (reported
as ``indexed``) went to Elasticsearch or to the enriched sink. The caller acknowledges the batch's offsets
only after ``process`` returned, that is after Elasticsearch (or Kafka) acknowledged the documents and
Kafka acknowledged the dead letters: a crash in between replays the batch, and the mention id as document
``_id`` makes the replay harmless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, Sequence

from streams.processing.language import LanguageIdentifier
from streams.processing.validate import Invalid, parse_mention
from models.intent.rules import rule_intent
from streams.schema import BrandSentiment, DeadLetter, EnrichedMention, Mention, RecordOrigin, Sentiment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawRecord:
    key: bytes | None
    value: bytes | None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp: float | None = None  # seconds since epoch, the Kafka record's timestamp


class SentimentScorer(Protocol):
    def predict(self, texts: list[str]) -> list[Any]: ...


class TargetedScorer(SentimentScorer, Protocol):
    """A scorer that can also give one sentiment per brand (``models.sentiment.SentimentModel``)."""

    def predict_targets(self, items: list[tuple[str, list[str]]]) -> list[list[Any]]: ...


class Enricher(Protocol):
    """A stateless step run with the batch off the event loop (e.g. brand matching)."""

    def enrich(self, enriched: list[EnrichedMention]) -> None: ...


class DocumentSink(Protocol):
    async def index(self, documents: Sequence[dict[str, Any]]) -> Any: ...


class DeadLetterSink(Protocol):
    async def send(self, letters: Sequence[tuple[bytes | None, DeadLetter]]) -> None: ...


class EnrichedSink(Protocol):
    async def send(self, enriched: Sequence[EnrichedMention]) -> None: ...


@dataclass
class BatchOutcome:
    received: int = 0
    indexed: int = 0
    dead_lettered: int = 0
    enrich_seconds: float = 0.0
    index_seconds: float = 0.0
    reasons: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    enriched: list[EnrichedMention] = field(default_factory=list)


def _sentiment_of(result: Any) -> Sentiment:
    if isinstance(result, Sentiment):  # the model's own type: no copy
        return result
    return Sentiment(
        label=result.label,
        score=float(result.score),
        probabilities={k: float(v) for k, v in result.probabilities.items()},
        model_version=result.model_version,
    )


def sentiment_text(mention: Mention) -> str:
    # A post's headline carries its stance as much as its first paragraph; comments have no own title.
    if mention.kind == "post" and mention.title and mention.title not in mention.text[:200]:
        return f"{mention.title}. {mention.text}"
    return mention.text


class MentionPipeline:
    def __init__(
        self,
        *,
        index: DocumentSink | None,
        deadletters: DeadLetterSink,
        language: LanguageIdentifier | None = None,
        sentiment: SentimentScorer | None = None,
        enrichers: Sequence[Enricher] = (),
        enriched_sink: EnrichedSink | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.index = index
        self.deadletters = deadletters
        self.language = language or LanguageIdentifier()
        self.sentiment = sentiment
        self.enrichers = list(enrichers)
        self.enriched_sink = enriched_sink
        # One thread: model inference is already multi-threaded inside torch; what matters is that
        # it runs off the event loop so Kafka heartbeats and other agents keep going.
        self.executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="lytter-enrich")

    def enrich_sync(self, mentions: Sequence[Mention], ingested: Sequence[datetime | None]) -> list[EnrichedMention]:
        """CPU-bound enrichment of a batch; runs in the executor thread, never on the event loop."""
        # The model first: its language head is one more signal for the language decision below.
        sentiments, intents, encoder = self._model_outputs(mentions)
        # With the stream's priors (declared language, thread, author) when the identifier has them;
        # an identifier with only ``identify(texts)`` (lingua alone) still works.
        with_priors = getattr(self.language, "identify_mentions", None)
        if with_priors is None:
            guesses = self.language.identify([m.text for m in mentions])
        else:
            guesses = with_priors(mentions, encoder) if any(encoder) else with_priors(mentions)
        enriched = [
            EnrichedMention(
                mention=m,
                lang=guess.lang,
                lang_confidence=guess.confidence,
                lang_candidates=list(getattr(guess, "candidates", ())),
                sentiment=_sentiment_of(s) if s is not None else None,
                ingested_at=ts,
            )
            for m, guess, s, ts in zip(mentions, guesses, sentiments, ingested)
        ]
        for item, intent in zip(enriched, intents):
            # no intent head (or no model): the rule baseline, so the answer loop still works
            intent = intent or rule_intent(item.mention.text, item.lang)
            item.intent, item.intent_confidence = intent.label, intent.confidence
        for enricher in self.enrichers:  # stateless (brand matching): safe off the loop
            enricher.enrich(enriched)
        self._brand_sentiment(enriched)
        return enriched

    def _model_outputs(self, mentions: Sequence[Mention]) -> tuple[list[Any], list[Any], list[Any]]:
        """Sentiment and, from the same forward pass, intent (models/intent) and the language head's
        probabilities (models/language) of each mention; None where the model has no such head."""
        none: list[Any] = [None] * len(mentions)
        if self.sentiment is None or not mentions:
            return none, none, none
        texts = [sentiment_text(m) for m in mentions]
        every = getattr(self.sentiment, "predict_all", None)
        if every is not None:
            rows = every(texts)
            return [s for s, _, _ in rows], [i for _, i, _ in rows], [lang for _, _, lang in rows]
        both = getattr(self.sentiment, "predict_with_intent", None)
        if both is None:
            return self.sentiment.predict(texts), none, none
        pairs = both(texts)
        return [s for s, _ in pairs], [i for _, i in pairs], none

    def _brand_sentiment(self, enriched: list[EnrichedMention]) -> None:
        """One sentiment per matched brand. A mention naming one brand gives it the mention's own
        sentiment (no second forward pass); only mentions with several brands are scored per brand."""
        several = [e for e in enriched if len(e.brands) > 1 and e.sentiment is not None]
        targeted = getattr(self.sentiment, "predict_targets", None)
        per_brand = targeted([(sentiment_text(e.mention), list(e.brands)) for e in several]) if several and targeted else []
        scored = {id(e): rows for e, rows in zip(several, per_brand)}
        for e in enriched:
            if e.sentiment is None or not e.brands:
                continue
            rows = scored.get(id(e))
            if rows is None:
                rows = [e.sentiment] * len(e.brands)
            e.brand_sentiment = [
                BrandSentiment(brand=brand, label=r.label, score=float(r.score)) for brand, r in zip(e.brands, rows)
            ]

    def _timed_enrich(self, mentions: Sequence[Mention], ingested: Sequence[datetime | None]) -> tuple[list[EnrichedMention], float]:
        # Timed in the executor thread: with batches in flight, a batch may wait for the one before it to
        # leave the thread, and that wait is not enrichment.
        started = time.perf_counter()
        return self.enrich_sync(mentions, ingested), time.perf_counter() - started

    async def _enrich(
        self, mentions: list[Mention], ingested: list[datetime | None]
    ) -> tuple[list[EnrichedMention], list[tuple[int, str]], float]:
        """Enrich a batch; if the batch fails, isolate the record(s) at fault one by one.

        Returns the enriched mentions, (position, reason) of those that failed, and the seconds spent.
        """
        loop = asyncio.get_running_loop()
        try:
            enriched, seconds = await loop.run_in_executor(self.executor, self._timed_enrich, mentions, ingested)
            return enriched, [], seconds
        except Exception as exc:  # noqa: BLE001 - any failure is isolated below, record by record
            log.warning("enrichment of a batch of %d failed (%r); retrying one by one", len(mentions), exc)
        enriched = []
        failed: list[tuple[int, str]] = []
        seconds = 0.0
        for i, (mention, ts) in enumerate(zip(mentions, ingested)):
            started = time.perf_counter()
            try:
                enriched.extend(await loop.run_in_executor(self.executor, self.enrich_sync, [mention], [ts]))
            except Exception as exc:  # noqa: BLE001
                failed.append((i, f"enrichment failed: {type(exc).__name__}: {exc}"))
            seconds += time.perf_counter() - started
        return enriched, failed, seconds

    async def process(self, records: Sequence[RawRecord]) -> BatchOutcome:
        outcome = BatchOutcome(received=len(records))
        letters: list[tuple[bytes | None, DeadLetter]] = []

        def dead(record: RawRecord, stage: str, reason: str, errors: list | None = None, mention_id: str | None = None) -> None:
            letters.append(
                (
                    record.key,
                    DeadLetter.for_bytes(
                        record.value or b"",
                        stage=stage,
                        reason=reason,
                        errors=errors or [],
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        key=record.key.decode("utf-8", "replace") if record.key else None,
                        mention_id=mention_id,
                    ),
                )
            )

        valid: list[tuple[RawRecord, Mention]] = []
        for record in records:
            result = parse_mention(record.value)
            if isinstance(result, Invalid):
                dead(record, result.stage, result.reason, result.errors)
            else:
                valid.append((record, result))

        mentions = [m for _, m in valid]
        ingested = [
            datetime.fromtimestamp(r.timestamp, tz=timezone.utc) if r.timestamp else None for r, _ in valid
        ]
        enriched, failed, outcome.enrich_seconds = await self._enrich(mentions, ingested)
        for position, reason in failed:
            record, mention = valid[position]
            dead(record, "enrich", reason, mention_id=mention.id)

        started = time.perf_counter()
        records_by_id: dict[str, list[RawRecord]] = {}
        for (record, mention), item in zip(valid, enriched_in_order(enriched, len(valid), {i for i, _ in failed})):
            records_by_id.setdefault(mention.id, []).append(record)
            if item is not None:
                item.origin = RecordOrigin(
                    topic=record.topic, partition=record.partition, offset=record.offset,
                    key=record.key.decode("utf-8", "replace") if record.key else None,
                )
        refused: list[tuple[str, int, str]] = []
        if enriched and (self.index is not None and self.enriched_sink is None):
            refused = list((await self.index.index([e.to_document() for e in enriched])).failed)
        for doc_id, status, reason in refused:
            record = records_by_id[doc_id].pop(0)
            dead(record, "index", f"Elasticsearch refused the document ({status}): {reason}", mention_id=doc_id)
        outcome.index_seconds = time.perf_counter() - started
        refused_ids = {doc_id for doc_id, _, _ in refused}
        outcome.enriched = [e for e in enriched if e.mention.id not in refused_ids]
        # A batch may hold the same id twice (a replay racing a live source): one document, two records.
        outcome.indexed = len(records) - len(letters)
        outcome.dead_lettered = len(letters)
        outcome.reasons = [letter.reason for _, letter in letters]
        outcome.stages = [letter.stage for _, letter in letters]
        if letters:
            await self.deadletters.send(letters)
        if self.enriched_sink is not None and outcome.enriched:
            await self.enriched_sink.send(outcome.enriched)
        return outcome


def enriched_in_order(enriched: Sequence[EnrichedMention], count: int, failed: set[int]) -> list[EnrichedMention | None]:
    """The enriched mention of each of ``count`` valid records, None at the positions that failed
    (``_enrich`` keeps the order of the ones that did not)."""
    rest = iter(enriched)
    return [None if i in failed else next(rest) for i in range(count)]


@dataclass
class IndexOutcome:
    indexed: list[EnrichedMention] = field(default_factory=list)
    letters: list[tuple[bytes | None, DeadLetter]] = field(default_factory=list)


async def index_or_dead_letter(index: DocumentSink, enriched: Sequence[EnrichedMention]) -> IndexOutcome:
    """Index complete documents; each one Elasticsearch refuses becomes a dead letter that names the
    raw record it came from (``origin``) and holds the mention as JSON. Outages raise (the sink retries)."""
    outcome = IndexOutcome()
    if not enriched:
        return outcome
    refused = {doc_id: (status, reason) for doc_id, status, reason in (await index.index([e.to_document() for e in enriched])).failed}
    for e in enriched:
        if e.mention.id not in refused:
            outcome.indexed.append(e)
            continue
        status, reason = refused.pop(e.mention.id)
        origin = e.origin or RecordOrigin()
        letter = DeadLetter.for_bytes(
            e.mention.to_json_bytes(),
            stage="index",
            reason=f"Elasticsearch refused the document ({status}): {reason}",
            topic=origin.topic,
            partition=origin.partition,
            offset=origin.offset,
            key=origin.key,
            mention_id=e.mention.id,
        )
        outcome.letters.append((origin.key.encode("utf-8") if origin.key else None, letter))
    return outcome
