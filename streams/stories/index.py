"""Story assignment: exact and near-duplicate mentions (reposts, quotes adding a few words, copy-paste
with small edits, one news item from several feeds) get one ``story_id``.

:class:`StoryIndex` keeps every live story in ``store`` (a changelog-backed Faust table in production,
any ``MutableMapping[str, dict]`` in tests) and an in-memory :class:`datasketch.MinHashLSH` over the
stories' signatures, rebuilt from the store by :meth:`StoryIndex.rebuild` (call it after the table is
recovered), so the stories survive a restart.

How a mention is assigned
-------------------------
* The text is normalised and shingled (:mod:`streams.stories.shingles`: word 3-grams).
* Texts of :data:`~streams.stories.shingles.MIN_WORDS` (4) normalised words or more: MinHash
  (``num_perm`` permutations) and an LSH query; each candidate's estimated Jaccard similarity to the
  story's *first member* is computed, and the mention joins the most similar story at or above
  ``threshold`` (ties: the older story, then the smaller id). The first member stays the story's
  representative, so a chain of small edits cannot drift a story to unrelated text, and a group of
  mutually similar texts is one story whichever of them arrives first.
* Shorter texts join only a story of the identical normalised text. "Tak!", "Så fedt" or "Thanks
  @Lego" are written independently by thousands of people about different things; the few words of
  such posts give no evidence they are copies of each other, and near matches ("Tak!" / "Tak for
  svar") are different replies. Short texts never join long stories, nor long texts short ones.
* Otherwise the mention opens a new story, ``"s-" + hash(mention id)`` (stable: the same first member
  gives the same id after a replay or on another instance).

Replays are idempotent: a mention id seen already (the last ``max_members`` ids of each story are
kept, and a story's first member is recognised by its id) returns its story without counting it again.

Ageing: a story not joined for ``ttl_s`` seconds (by ``clock``, default 3 days) is removed, and beyond
``max_stories`` (default 500 000) the least recently joined stories are removed first, from both the
LSH and the store. Memory (``python -m streams.stories``, 64 permutations): about 4 KB per story in
the worker (LSH and lookups) and 0.75 KB per story in the store (JSON), so the default cap holds the
in-memory index near 2 GB.

Stored value per story (JSON-safe; the signature is base64 of the ``num_perm`` uint32 hash values)::

    {"sig": "<base64>" | None, "exact": "<hash>" | None, "first_ts": .., "last_ts": .., "seen": ..,
     "size": 3, "members": ["m1", ...], "authors": {"anna": ts, ...}, "sim_sum": 1.9, "example": "..."}
"""

from __future__ import annotations

import base64
import functools
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.lsh import _optimal_param
from datasketch.storage import DictListStorage, DictSetStorage

from streams.stories.campaign import MAX_AUTHORS, CampaignConfig, CampaignSignal, record_author, signal_of
from streams.stories.shingles import MIN_WORDS, exact_key, shingles, words

__all__ = ["DEFAULT_NUM_PERM", "DEFAULT_THRESHOLD", "StoryIndex", "StoryMatch", "story_id_for"]

#: Estimated Jaccard similarity (word 3-grams) at which a mention joins a story; chosen with
#: ``python -m models.stories.evaluate`` on models/stories/pairs.jsonl (see models/stories/README.md).
DEFAULT_THRESHOLD = 0.3
#: MinHash permutations. 64 instead of datasketch's 128: the pairs score the same (models/stories/
#: README.md) and the LSH, whose band tables are most of the index's memory, needs 21 bands, not 37.
DEFAULT_NUM_PERM = 64
#: Characters of the first member's text kept as the story's example.
EXAMPLE_CHARS = 200


def story_id_for(mention_id: str) -> str:
    """The id of the story that ``mention_id`` opens."""
    return "s-" + hashlib.blake2b(mention_id.encode("utf-8"), digest_size=8).hexdigest()


@dataclass(frozen=True)
class StoryMatch:
    """The story a mention was assigned to: ``is_new`` when it opened it; ``similarity`` its estimated
    Jaccard to the story's first member; ``size`` members and ``authors`` distinct authors so far;
    ``signal`` the story's campaign signal (:mod:`streams.stories.campaign`)."""

    story_id: str
    is_new: bool
    similarity: float
    size: int
    authors: int
    signal: CampaignSignal | None = None


@functools.lru_cache(maxsize=32)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's optimal (bands, rows) for ``threshold``, cached: finding them integrates the
    false positive / negative curves, which costs more than assigning a mention."""
    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def _lists_for_bands(lsh: MinHashLSH) -> MinHashLSH:
    """``lsh`` with its in-memory band tables holding lists instead of sets. Almost every band bucket
    holds one story, and an empty set costs 216 bytes against 56 for a list: this cuts the index's
    memory by about 40 % (``python -m streams.stories``). Safe because each story id is inserted
    once (``_index`` is its only caller) and query / remove only iterate and ``remove`` values."""
    if all(type(table) is DictSetStorage for table in lsh.hashtables):
        lsh.hashtables = [DictListStorage({"type": "dict"}) for _ in lsh.hashtables]
    return lsh


def _encode(hashvalues: np.ndarray) -> str:
    return base64.b64encode(hashvalues.astype("<u4").tobytes()).decode("ascii")


def _decode(sig: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(sig), dtype="<u4").astype(np.uint64)


class StoryIndex:
    """Assigns mentions to stories (module docstring). Not thread-safe: one per stream processor."""

    def __init__(
        self,
        store: MutableMapping[str, dict],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        num_perm: int = DEFAULT_NUM_PERM,
        ttl_s: float = 3 * 86400.0,
        max_stories: int = 500_000,
        max_members: int = 32,
        max_authors: int = MAX_AUTHORS,
        campaign: CampaignConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"StoryIndex threshold must be in (0, 1], got {threshold!r}")
        if max_stories < 1 or max_members < 1 or ttl_s <= 0:
            raise ValueError("StoryIndex max_stories and max_members must be >= 1 and ttl_s > 0")
        self.store = store
        self.threshold, self.num_perm, self.ttl_s = threshold, num_perm, ttl_s
        self.max_stories, self.max_members, self.max_authors = max_stories, max_members, max_authors
        self.campaign = campaign or CampaignConfig()
        self.clock = clock
        self._permutations = MinHash(num_perm=num_perm).permutations  # generated once, not per mention
        self._reset()
        self.rebuild()

    def _reset(self) -> None:
        self._lsh = _lists_for_bands(MinHashLSH(num_perm=self.num_perm, params=lsh_bands(self.threshold, self.num_perm)))
        self._exact: dict[str, str] = {}  # normalised-text hash of a short story -> story id
        self._members: dict[str, str] = {}  # kept member ids -> story id (replay detection)
        self._recency: OrderedDict[str, float] = OrderedDict()  # story id -> last seen, oldest first

    def __len__(self) -> int:
        return len(self._recency)

    # ----------------------------------------------------------------------------------------------
    # State

    def rebuild(self) -> None:
        """Rebuild the in-memory LSH and lookups from ``store`` (after a restart or table recovery);
        stories past their ttl are dropped from the store on the way."""
        self._reset()
        stories = sorted(self.store.items(), key=lambda kv: (kv[1].get("seen", 0.0), kv[0]))
        for story_id, story in stories:
            self._index(story_id, story)
        self._expire(self.clock())

    def _index(self, story_id: str, story: dict[str, Any]) -> None:
        if story_id in self._lsh:  # never twice: the list-backed band tables would keep a duplicate
            self._lsh.remove(story_id)
        if story.get("sig"):
            hashvalues = _decode(story["sig"])
            if len(hashvalues) != self.num_perm:
                raise ValueError(
                    f"story {story_id} in the store has a signature of {len(hashvalues)} permutations but StoryIndex "
                    f"num_perm is {self.num_perm}: use the num_perm the store was written with, or a new store"
                )
            self._lsh.insert(story_id, self._minhash(hashvalues), check_duplication=False)
        elif story.get("exact"):
            self._exact[story["exact"]] = story_id
        for member in story.get("members", ()):
            self._members[member] = story_id
        self._recency[story_id] = float(story.get("seen", 0.0))
        self._recency.move_to_end(story_id)

    def _forget(self, story_id: str) -> None:
        story = self.store.pop(story_id, None) or {}
        self._recency.pop(story_id, None)
        if story_id in self._lsh:
            self._lsh.remove(story_id)
        if self._exact.get(story.get("exact") or "") == story_id:
            del self._exact[story["exact"]]
        for member in story.get("members", ()):
            if self._members.get(member) == story_id:
                del self._members[member]

    def _expire(self, now: float) -> None:
        """Remove stories past the ttl, then the least recently seen beyond ``max_stories``."""
        while self._recency:
            story_id, seen = next(iter(self._recency.items()))
            if seen >= now - self.ttl_s and len(self._recency) <= self.max_stories:
                break
            self._forget(story_id)

    # ----------------------------------------------------------------------------------------------
    # Assignment

    def _minhash(self, hashvalues: np.ndarray | None = None) -> MinHash:
        return MinHash(num_perm=self.num_perm, hashvalues=hashvalues, permutations=self._permutations)

    def signature(self, text: str) -> tuple[list[str], MinHash | None]:
        """The normalised words of ``text`` and their MinHash (None for a short text)."""
        tokens = words(text)
        if len(tokens) < MIN_WORDS:
            return tokens, None
        mh = self._minhash()
        mh.update_batch([s.encode("utf-8") for s in shingles(tokens)])
        return tokens, mh

    def similarity(self, a: str, b: str) -> float:
        """Estimated Jaccard similarity of two texts as the index sees them (short texts: 1.0 when the
        normalised texts are equal, else 0.0)."""
        (ta, ma), (tb, mb) = self.signature(a), self.signature(b)
        if ma is None or mb is None:
            return 1.0 if ma is None and mb is None and ta == tb and ta else 0.0
        return float(ma.jaccard(mb))

    def _best(self, mh: MinHash) -> tuple[str | None, float]:
        """The most similar live story at or above the threshold (ties: older, then smaller id)."""
        found: list[tuple[float, float, str]] = []
        for story_id in self._lsh.query(mh):
            story = self.store.get(story_id)
            if story is None:  # removed from the store behind our back: forget it here too
                self._lsh.remove(story_id)
                continue
            sim = float(np.mean(_decode(story["sig"]) == mh.hashvalues))
            if sim >= self.threshold:
                found.append((-sim, float(story.get("first_ts", 0.0)), story_id))
        if not found:
            return None, 0.0
        neg_sim, _first, story_id = min(found)
        return story_id, -neg_sim

    def _replayed(self, mention_id: str, mh: MinHash | None) -> StoryMatch | None:
        story_id = self._members.get(mention_id)
        if story_id is None and story_id_for(mention_id) in self.store:
            story_id = story_id_for(mention_id)
        story = self.store.get(story_id) if story_id else None
        if story is None:
            return None
        sim = 1.0 if mh is None or not story.get("sig") else float(np.mean(_decode(story["sig"]) == mh.hashvalues))
        return self._match(story_id, story, is_new=False, similarity=sim)

    def assign(self, mention_id: str, text: str, published_ts: float, author: str | None = None) -> StoryMatch:
        """The story of mention ``mention_id`` (joined or opened; see the module docstring)."""
        now = self.clock()
        self._expire(now)
        tokens, mh = self.signature(text)
        replay = self._replayed(mention_id, mh)
        if replay is not None:
            return replay
        if mh is None:
            key = exact_key(tokens)
            story_id, sim = self._exact.get(key), 1.0
        else:
            key = None
            story_id, sim = self._best(mh)
        if story_id is None:
            return self._open(mention_id, text, published_ts, author, mh, key, now)
        return self._join(story_id, mention_id, published_ts, author, sim, now)

    def _open(self, mention_id, text, published_ts, author, mh, key, now) -> StoryMatch:
        story_id = story_id_for(mention_id)
        story: dict[str, Any] = {
            "sig": _encode(mh.hashvalues) if mh is not None else None,
            "exact": key,
            "first_ts": float(published_ts),
            "last_ts": float(published_ts),
            "seen": now,
            "size": 1,
            "members": [mention_id],
            "authors": {},
            "sim_sum": 0.0,
            "example": " ".join(text.split())[:EXAMPLE_CHARS],
        }
        record_author(story, author, float(published_ts), self.max_authors)
        self.store[story_id] = story
        self._index(story_id, story)
        self._expire(now)  # may be one over max_stories now
        return self._match(story_id, story, is_new=True, similarity=1.0)

    def _join(self, story_id, mention_id, published_ts, author, sim, now) -> StoryMatch:
        story = dict(self.store[story_id])  # a new value: a Faust table only persists assignments
        story["size"] = int(story.get("size", 1)) + 1
        story["sim_sum"] = float(story.get("sim_sum", 0.0)) + sim
        story["first_ts"] = min(float(story["first_ts"]), float(published_ts))
        story["last_ts"] = max(float(story["last_ts"]), float(published_ts))
        story["seen"] = now
        members = [*story.get("members", ()), mention_id]
        for dropped in members[: -self.max_members]:
            if self._members.get(dropped) == story_id:
                del self._members[dropped]
        story["members"] = members[-self.max_members :]
        story["authors"] = dict(story.get("authors") or {})
        record_author(story, author, float(published_ts), self.max_authors)
        self.store[story_id] = story
        self._members[mention_id] = story_id
        self._recency[story_id] = now
        self._recency.move_to_end(story_id)
        return self._match(story_id, story, is_new=False, similarity=sim)

    def _match(self, story_id: str, story: dict[str, Any], *, is_new: bool, similarity: float) -> StoryMatch:
        signal = signal_of(story_id, story, self.campaign.min_authors)
        return StoryMatch(story_id, is_new, similarity, signal.size, signal.authors, signal)

    def campaign_signal(self, story_id: str) -> CampaignSignal | None:
        """The campaign signal of a live story (None when it is unknown or aged out)."""
        story = self.store.get(story_id)
        return signal_of(story_id, story, self.campaign.min_authors) if story is not None else None
