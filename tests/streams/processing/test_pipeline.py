import asyncio
import json
import time
from dataclasses import dataclass

from streams.processing.pipeline import MentionPipeline, RawRecord
from streams.sinks.elasticsearch import BulkResult


@dataclass
class FakeSentiment:
    label: str
    score: float
    probabilities: dict
    model_version: str


class SlowScorer:
    """Blocks its thread like a real model does (time.sleep holds no event loop)."""

    def __init__(self, seconds=0.0, fail_on=None):
        self.seconds = seconds
        self.fail_on = fail_on
        self.batches = []

    def predict(self, texts):
        self.batches.append(len(texts))
        if self.fail_on and any(self.fail_on in t for t in texts):
            raise RuntimeError("tokenizer exploded")
        time.sleep(self.seconds)
        return [FakeSentiment("positive", 0.5, {"negative": 0.1, "neutral": 0.3, "positive": 0.6}, "test") for _ in texts]


class MemoryIndex:
    def __init__(self, refuse=()):
        self.docs = {}
        self.refuse = set(refuse)

    async def index(self, documents):
        result = BulkResult()
        for doc in documents:
            if doc["id"] in self.refuse:
                result.failed.append((doc["id"], 400, "mapper_parsing_exception: nope"))
            else:
                self.docs[doc["id"]] = doc
                result.indexed += 1
        return result


class MemoryDeadLetters:
    def __init__(self):
        self.letters = []

    async def send(self, letters):
        self.letters.extend(letters)


def record(value, key=None, offset=0):
    if isinstance(value, dict):
        value = json.dumps(value).encode()
    return RawRecord(key=key, value=value, topic="mentions.raw", partition=0, offset=offset, timestamp=time.time())


def mention(i, **extra):
    data = {"id": f"m{i}", "source": "test", "text": f"Jeg elsker Lego nummer {i}", "published_at": "2026-11-23T08:00:00Z"}
    data.update(extra)
    return data


def make(scorer=None, refuse=()):
    index, dead = MemoryIndex(refuse), MemoryDeadLetters()
    return MentionPipeline(index=index, deadletters=dead, sentiment=scorer), index, dead


async def test_counts_add_up_and_reasons_are_kept():
    pipeline, index, dead = make(SlowScorer(), refuse={"m3"})
    records = [record(mention(i), offset=i) for i in range(5)]
    records += [record(b"{not json", offset=5), record(b"\xff\xfe", offset=6), record(mention(7, text=None), offset=7)]
    outcome = await pipeline.process(records)
    assert outcome.received == 8
    assert outcome.indexed == 4 and set(index.docs) == {"m0", "m1", "m2", "m4"}
    assert outcome.dead_lettered == 4 == len(dead.letters)
    stages = sorted(letter.stage for _, letter in dead.letters)
    assert stages == ["decode", "decode", "index", "validate"]
    refused = next(letter for _, letter in dead.letters if letter.stage == "index")
    assert refused.mention_id == "m3" and "mapper_parsing_exception" in refused.reason and refused.offset == 3
    assert index.docs["m0"]["sentiment"]["label"] == "positive"
    assert index.docs["m0"]["lang"] == "da"


async def test_a_record_that_breaks_enrichment_is_isolated():
    pipeline, index, dead = make(SlowScorer(fail_on="BOOM"))
    outcome = await pipeline.process([record(mention(1)), record(mention(2, text="BOOM")), record(mention(3))])
    assert set(index.docs) == {"m1", "m3"}
    assert [letter.stage for _, letter in dead.letters] == ["enrich"]
    assert "tokenizer exploded" in dead.letters[0][1].reason
    assert outcome.indexed + outcome.dead_lettered == 3


async def test_sentiment_runs_off_the_event_loop():
    """While a batch is scored (0.6 s of blocking work), the event loop keeps ticking."""
    pipeline, index, _ = make(SlowScorer(seconds=0.6))
    ticks = []

    async def ticker():
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.02)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await pipeline.process([record(mention(i)) for i in range(10)])
    task.cancel()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 20
    assert max(gaps) < 0.3, f"event loop stalled for {max(gaps):.2f}s"
    assert pipeline.sentiment.batches == [10]  # one batched call, not one per mention


async def test_replayed_ids_in_one_batch_are_both_accounted():
    pipeline, index, dead = make(None)
    outcome = await pipeline.process([record(mention(1)), record(mention(1))])
    assert outcome.indexed == 2 and len(index.docs) == 1 and not dead.letters
    assert "sentiment" not in index.docs["m1"]


class TargetedScorer(SlowScorer):
    """Positive for the brand before 'bedre enn', negative for the one after: what the real model does."""

    def __init__(self):
        super().__init__()
        self.targeted = []

    def predict_targets(self, items):
        self.targeted.append(items)
        out = []
        for text, brands in items:
            first = min(brands, key=text.find)
            out.append([FakeSentiment("positive" if b == first else "negative", 0.8 if b == first else -0.8, {}, "test") for b in brands])
        return out


class NamedBrands:
    """Enricher: the brands whose names occur in the text (what BrandMatcher does with the watch file)."""

    def enrich(self, enriched):
        for e in enriched:
            e.brands = [b for b in ("Fjordbank", "Nordlys Energi") if b in e.mention.text]


async def test_each_brand_gets_its_own_sentiment_and_one_brand_reuses_the_text_sentiment():
    scorer = TargetedScorer()
    index, dead = MemoryIndex(), MemoryDeadLetters()
    pipeline = MentionPipeline(index=index, deadletters=dead, sentiment=scorer, enrichers=[NamedBrands()])
    records = [
        record(mention(1, text="Fjordbank er mye bedre enn Nordlys Energi"), offset=1),
        record(mention(2, text="Fjordbank har nye åpningstider"), offset=2),
        record(mention(3, text="Ingen merkevare her"), offset=3),
    ]
    outcome = await pipeline.process(records)
    assert outcome.indexed == 3
    both = index.docs["m1"]["brand_sentiment"]
    assert [(b["brand"], b["label"], b["brand_label"]) for b in both] == [
        ("Fjordbank", "positive", "Fjordbank:positive"), ("Nordlys Energi", "negative", "Nordlys Energi:negative")]
    assert index.docs["m2"]["brand_sentiment"] == [{"brand": "Fjordbank", "label": "positive", "score": 0.5, "brand_label": "Fjordbank:positive"}]
    assert "brand_sentiment" not in index.docs["m3"]
    # only the mention naming two brands needed a second pass through the model
    assert [[t for t, _ in items] for items in scorer.targeted] == [["Fjordbank er mye bedre enn Nordlys Energi"]]
