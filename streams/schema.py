"""Wire types: what travels on Kafka between the ingest agents, the worker and the alerting.

Every record is UTF-8 JSON with a ``schema_version``. The ingest agents publish ``Mention``s keyed by
``Mention.id`` to ``mentions.raw``; the worker validates them with the same model, so a producer and the
worker can never disagree on what a valid mention is.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1

#: Longest text accepted. A mention longer than this is almost always a scraping error (a whole page);
#: it is dead-lettered rather than truncated so that nobody reads a silently cut quote.
MAX_TEXT_CHARS = 100_000

MentionKind = Literal["post", "comment", "reply", "quote", "share", "pingback"]

LANGUAGES = ("da", "nb", "nn", "sv", "en")
Language = Literal["da", "nb", "nn", "sv", "en", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Author(_Strict):
    handle: str = Field(min_length=1, max_length=512, description="Stable handle or account id at the source")
    display_name: str | None = Field(None, max_length=1024)
    followers: int | None = Field(None, ge=0, description="Follower count when the source gives it")
    profile_url: str | None = Field(None, max_length=4096)


class Engagement(_Strict):
    likes: int | None = Field(None, ge=0)
    shares: int | None = Field(None, ge=0)
    replies: int | None = Field(None, ge=0)
    views: int | None = Field(None, ge=0)
    quotes: int | None = Field(None, ge=0, description="Posts quoting this one (Mastodon 4.4+, Bluesky)")

    def total(self) -> int:
        return sum(v or 0 for v in (self.likes, self.shares, self.replies, self.quotes))


class Mention(_Strict):
    """A post, comment or reply that may mention a brand, as an ingest agent saw it."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str = Field(min_length=1, max_length=512, description="Stable id: the same item always gets the same id")
    source: str = Field(min_length=1, max_length=64, description="blog, mastodon, bluesky, reddit, push, file, ...")
    url: str | None = Field(None, max_length=8192)
    title: str | None = Field(None, max_length=4096)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    author: Author | None = None
    published_at: AwareDatetime
    parent_id: str | None = Field(None, max_length=512, description="The post a comment belongs to, or the item a reply answers")
    kind: MentionKind = "post"
    engagement: Engagement = Field(default_factory=Engagement)
    edited_at: AwareDatetime | None = Field(None, description="When the author last edited it (an edit is the same id again)")
    declared_lang: str | None = Field(None, max_length=35, description="The language the source declared (ISO code: Bluesky langs, Mastodon language, a feed's <language>)")
    raw: dict[str, Any] | None = Field(None, description="The source's own payload, kept for audit and re-processing")

    @field_validator("text")
    @classmethod
    def _text_has_content(cls, value: str) -> str:
        # Zero-width and control characters alone are no text: such a record would be indexed as blank.
        # (Stops at the first visible character: this runs on every mention.)
        for ch in value:
            if unicodedata.category(ch)[0] not in "CZ":
                return value
        raise ValueError("text has no visible characters")

    @field_validator("raw")
    @classmethod
    def _raw_is_utf8_json(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        # The payload is stored as it came; it must still be valid UTF-8 JSON to be stored at all.
        if value is not None:
            try:
                json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
            except (UnicodeEncodeError, ValueError) as exc:
                raise ValueError(f"raw payload is not storable as UTF-8 JSON: {exc}") from None
        return value

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode("utf-8")


class Sentiment(BaseModel):
    label: Literal["negative", "neutral", "positive"]
    score: float = Field(description="p(positive) - p(negative), in [-1, 1]")
    probabilities: dict[str, float]
    model_version: str


class BrandSentiment(BaseModel):
    """The stance toward one matched brand, from the parts of the text that speak about it."""

    brand: str
    label: Literal["negative", "neutral", "positive"]
    score: float = Field(description="p(positive) - p(negative), in [-1, 1]")


#: The text of a deleted mention's tombstone, in Kafka (a mention needs text); Elasticsearch gets "".
DELETED_TEXT = "[deleted]"


def tombstone_fields(deleted_at: datetime) -> dict[str, Any]:
    """What a deletion sets on an indexed document: no text, no author, no link, no source payload."""
    return {"text": "", "title": None, "author": None, "url": None, "raw": None, "keywords": [], "deleted": True, "deleted_at": deleted_at.isoformat()}


class RecordOrigin(BaseModel):
    """Where a mention's raw record was read: a dead letter written later in the stream points there."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: str | None = None


class EnrichedMention(BaseModel):
    """What the worker indexes: the mention plus everything Lytter derived from it."""

    model_config = ConfigDict(extra="allow")

    mention: Mention
    lang: Language
    lang_confidence: float
    lang_candidates: list[str] = Field(default_factory=list, description="When the language is in doubt: the languages within reach, most likely first")
    sentiment: Sentiment | None = None
    brands: list[str] = Field(default_factory=list)
    brand_sentiment: list[BrandSentiment] = Field(default_factory=list)
    influence: float | None = None
    reach: float | None = None
    impact: float | None = None
    ingested_at: datetime | None = None
    indexed_at: datetime | None = None
    origin: RecordOrigin | None = Field(None, description="The raw record's coordinates; not indexed")
    deleted_at: datetime | None = Field(None, description="Set when the source reported the mention deleted: a tombstone")
    story_id: str | None = Field(None, description="The story it belongs to: near-duplicates (reposts, copy-paste) share one (streams/stories)")
    keywords: list[str] = Field(default_factory=list, description="Content words, normalised (emerging terms: significant_terms)")
    # the answer loop (streams/answer)
    intent: Literal["question", "request", "complaint", "praise", "other"] | None = None
    intent_confidence: float | None = None
    owned_by: str | None = Field(None, description="The brand whose own account wrote it")
    addressed_to: list[str] = Field(default_factory=list, description="The brands it is addressed to (@handle, a thread they started, a question naming them)")
    needs_reply: bool | None = None
    reply_due_at: datetime | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    response_time_s: float | None = None
    answered_within_target: bool | None = Field(None, description="The first answer came by the brand's reply target (its own, per source and severity)")

    def as_tombstone(self, deleted_at: datetime) -> EnrichedMention:
        """This mention without its text and personal data, kept for the counts (a deletion honoured)."""
        stripped = self.mention.model_copy(update={"text": DELETED_TEXT, "title": None, "author": None, "url": None, "raw": None})
        return self.model_copy(update={"mention": stripped, "deleted_at": deleted_at, "keywords": []})

    def sentiment_for(self, brand: str) -> BrandSentiment | None:
        """This brand's sentiment, if the worker scored one."""
        return next((b for b in self.brand_sentiment if b.brand == brand), None)

    def to_document(self) -> dict[str, Any]:
        """The Elasticsearch document: the mention's fields at top level, enrichment beside them."""
        doc = self.mention.model_dump(mode="json", exclude_none=True)
        doc.pop("schema_version", None)
        doc["lang"] = self.lang
        doc["lang_confidence"] = round(self.lang_confidence, 4)
        if self.lang_candidates:
            doc["lang_candidates"] = list(self.lang_candidates)
        if self.sentiment is not None:
            doc["sentiment"] = self.sentiment.model_dump(mode="json")
        doc["brands"] = list(self.brands)
        if self.brand_sentiment:
            # brand_label ("Fjordbank:positive") keeps brand and label together for filters and terms
            # aggregations, which an array of plain objects would flatten apart.
            doc["brand_sentiment"] = [
                {"brand": b.brand, "label": b.label, "score": round(b.score, 4), "brand_label": f"{b.brand}:{b.label}"}
                for b in self.brand_sentiment
            ]
        for name in ("influence", "reach", "impact"):
            value = getattr(self, name)
            if value is not None:
                doc[name] = value
        for name in ("story_id", "intent", "intent_confidence", "owned_by", "needs_reply", "answered_by", "response_time_s", "answered_within_target"):
            value = getattr(self, name)
            if value is not None:
                doc[name] = value
        if self.addressed_to:
            doc["addressed_to"] = list(self.addressed_to)
        if self.keywords:
            doc["keywords"] = list(self.keywords)
        for name in ("reply_due_at", "answered_at"):
            value = getattr(self, name)
            if value is not None:
                doc[name] = value.isoformat()
        if self.ingested_at is not None:
            doc["ingested_at"] = self.ingested_at.isoformat()
        doc["indexed_at"] = (self.indexed_at or datetime.now(timezone.utc)).isoformat()
        if self.deleted_at is not None:
            doc.update(tombstone_fields(self.deleted_at))
        return doc


class Deletion(BaseModel):
    """A source says a mention is gone (deleted by its author, removed by a moderator).

    Published to ``mentions.deletions`` keyed by the mention id (the key of ``mentions.raw`` too, so the
    worker's record of deletions is co-partitioned with the mentions it applies to). The worker strips the
    indexed document of its text and personal data, keeping an anonymous tombstone for the counts, and
    honours the deletion when the mention is replayed later (GDPR art. 17)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str = Field(min_length=1, description="The deleted mention's id (``Mention.id``)")
    source: str = Field(min_length=1)
    deleted_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    #: "account deleted": the author's whole account is gone (Bluesky ``account`` events), not one post
    reason: Literal["deleted", "removed", "account deleted"] = "deleted"

    @field_validator("deleted_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("deleted_at needs a timezone")
        return value

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")


Stage = Literal["decode", "validate", "enrich", "index"]


class DeadLetter(BaseModel):
    """A record the worker could not process, with the reason, and the original bytes kept intact.

    ``topic``/``partition``/``offset`` are the coordinates of the *raw* record it stands for (for a
    document Elasticsearch refused, the raw record the mention came from). A crash between writing a
    dead letter and acknowledging its batch writes it again on the replay: :meth:`source_key`, the
    Kafka key of the dead-letter record, is the same for both, so repeats are recognisable."""

    schema_version: Literal[1] = SCHEMA_VERSION
    stage: Stage
    reason: str
    errors: list[dict[str, Any]] = Field(default_factory=list)
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    mention_id: str | None = None
    original_b64: str
    failed_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @classmethod
    def for_bytes(cls, original: bytes, *, stage: Stage, reason: str, **kw: Any) -> "DeadLetter":
        return cls(stage=stage, reason=reason, original_b64=base64.b64encode(original).decode("ascii"), **kw)

    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)

    def source_key(self) -> str | None:
        """``topic/partition/offset`` of the raw record (Kafka topic names cannot hold ``/``); without
        coordinates (a record not read from Kafka), the record's key or the mention id."""
        if self.topic is not None and self.partition is not None and self.offset is not None:
            return f"{self.topic}/{self.partition}/{self.offset}"
        return self.key or self.mention_id

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")
