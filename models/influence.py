"""Influence, reach and impact of the people who mention a brand.

Everything here is a pure function of small, JSON-serialisable values, so that the stream processor can
keep the state in Faust tables (backed by a Kafka changelog) and call these functions per mention:

* :class:`AuthorState` — what Lytter knows about one author (one value per author key);
  :func:`observe_mention` folds one more mention into it and returns the new state.
* :class:`ReplyGraph` — who replies to / @mentions whom, bounded in memory, with incremental PageRank.
* :func:`influence_score` (0–100), :func:`estimated_reach` and :func:`impact` per mention.

Clocks are epoch seconds (``float``; an aware ``datetime`` is accepted too). The caller passes ``now``
(processing time); nothing here reads the clock.

Author keys
-----------
Handles are only unique within a source, and an ``@name`` in a text is spelled differently from the
handle a source reports (``@Lego`` vs ``lego``). :func:`author_key` gives the key to use for author
states and graph nodes, ``"<source>:<handle>"`` with the handle case-folded and without a leading ``@``;
:func:`mention_targets` gives the keys of the people a mention addresses (its ``@mentions``, plus the
author of the item it replies to when the caller knows it), in the same form.

Influence score (0–100)
-----------------------
A weighted mean of four signals, each scaled to 0..1 and saturating, so that no single one can be gamed
without bound::

    followers   f = min(1, log(1 + F) / log(1 + 1_000_000))       F = latest known follower count
    engagement  e = min(1, log(1 + E) / log(1 + 10_000))           E = likes + shares + replies received,
                                                                       decayed with a 30-day half-life
    activity    a = min(1, log(1 + R) / log(1 + 10))               R = mentions per day (EWMA, 7-day time
                                                                       constant)
    graph       g = P / 100                                        P = PageRank percentile among known authors

    score = 100 * sum(w_i * x_i for the signals that are known) / sum(w_i for the signals that are known)
    weights:  followers 0.40, engagement 0.30, graph 0.20, activity 0.10   (sum 1)

Why this shape:

* **Logs** because audiences are heavy-tailed: 100 → 1 000 followers matters as much as 100 000 →
  1 000 000. ``log(1 + x)`` keeps 0 at 0. **Saturation** at 1M followers / 10k decayed engagements /
  10 mentions a day: beyond that the author is "as big as it gets" for a brand team, and a bot that posts
  500 times a day must not outrank a newspaper.
* **Followers** carry most weight: they are the audience a post reaches. **Engagement received** is
  the evidence that the audience listens (and the only audience signal on sources without follower
  counts: blogs, forums). **The graph** says whether *other authors* answer this one — the hardest
  signal to fake. **Activity** weighs least: posting a lot is a weak proxy for being read.
* **Missing followers** (many sources do not report them) are not zero: their weight is redistributed
  over the other signals in proportion (the denominator above), so a blogger with unknown followers and
  a lot of engagement still scores high. The same holds when no graph percentile is available
  (``graph_rank_percentile=None``, e.g. before the graph has two ranked nodes).
* The score is **monotone** (non-decreasing) in each input: more followers, more engagement, more
  activity or a higher percentile never lowers it (the tests check this with hypothesis).

Reach (people who plausibly saw one mention)
--------------------------------------------
:func:`estimated_reach`, in order of preference:

1. ``views`` when the source reports them: measured impressions (at least the number of engagements).
2. Known followers (the mention's author block, else the author's latest known count)::

       reach = followers + likes + replies + SHARE_AUDIENCE * shares

   the author's audience, plus the people who engaged (they saw it, followers or not), plus each share's
   own audience (``SHARE_AUDIENCE`` = 100, a typical small account).
3. No follower count (blogs, forums): from engagement, either this mention's or the author's usual
   engagement per mention, whichever is larger, at an assumed 2 % engagement rate::

       reach = max(FALLBACK_MIN_REACH, REACH_PER_ENGAGEMENT * max(E_mention, E_author_avg)
                                       + SHARE_AUDIENCE * shares)

   ``REACH_PER_ENGAGEMENT`` = 50, ``FALLBACK_MIN_REACH`` = 10 (someone reads a blog comment).

Impact
------
``impact(reach, sentiment_score) = reach * sentiment_score``, the score being ``p(positive) -
p(negative)`` in [-1, 1]: signed, so a negative mention by a large account has a large negative impact.

PageRank
--------
:class:`ReplyGraph` keeps a directed, weighted graph: an edge from the replier (or the one who
@mentions) to the author replied to (or mentioned). PageRank with damping ``d = 0.85``::

    r_new[v] = (1 - d) / N + d * ( sum over edges u->v of r[u] * w(u,v) / W(u)  +  D / N )

where ``W(u)`` is the total out-weight of ``u`` and ``D`` the rank held by dangling nodes (nodes without
out-edges), spread uniformly, so the ranks always sum to 1. :meth:`ReplyGraph.update` runs a few
power-iteration steps **from the current ranks** (new nodes start at ``1/N``, the vector is renormalised
after evictions): each step shrinks the error by a factor ``d``, and a graph that changed a little since
the last update starts close to its fixed point, so a few steps per update keep the ranks converged.
Self-replies (threads) are ignored. Memory is bounded: at most ``max_nodes`` nodes (least-recently-seen
evicted, with their edges) and ``max_out_edges`` out-edges per node (the lightest, then oldest, dropped).
:meth:`ReplyGraph.percentile` is the share of the other ranked nodes this node strictly outranks, so
authors nobody answers (tied at the floor) get 0 and the top node gets 100.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any

import numpy as np

__all__ = [
    "ACTIVITY_FULL",
    "ACTIVITY_TAU_DAYS",
    "ENGAGEMENT_FULL",
    "ENGAGEMENT_HALF_LIFE_DAYS",
    "FALLBACK_MIN_REACH",
    "FOLLOWERS_FULL",
    "REACH_PER_ENGAGEMENT",
    "SHARE_AUDIENCE",
    "WEIGHTS",
    "AuthorState",
    "MentionView",
    "ReplyGraph",
    "author_key",
    "estimated_reach",
    "impact",
    "influence_components",
    "influence_score",
    "mention_targets",
    "mention_view",
    "normalize_handle",
    "observe_mention",
    "to_epoch",
]

DAY = 86_400.0

#: Follower count that gives the full followers signal.
FOLLOWERS_FULL = 1_000_000
#: Decayed engagements received (likes + shares + replies) that give the full engagement signal.
ENGAGEMENT_FULL = 10_000
#: Mentions per day that give the full activity signal.
ACTIVITY_FULL = 10.0
#: Half-life of the engagement an author has received.
ENGAGEMENT_HALF_LIFE_DAYS = 30.0
#: Time constant of the activity rate (EWMA of mentions per day).
ACTIVITY_TAU_DAYS = 7.0
#: Smoothing of the author's engagement per mention (per-mention EWMA), used by the reach fallback.
ENGAGEMENT_PER_MENTION_ALPHA = 0.2
#: Weights of the signals in the influence score; they sum to 1.
WEIGHTS: Mapping[str, float] = {"followers": 0.40, "engagement": 0.30, "graph": 0.20, "activity": 0.10}
#: Audience assumed for each share of a mention.
SHARE_AUDIENCE = 100.0
#: People reached per engagement when the follower count is unknown (≈ a 2 % engagement rate).
REACH_PER_ENGAGEMENT = 50.0
#: Smallest reach estimated for a mention without follower count or engagement.
FALLBACK_MIN_REACH = 10.0
#: Out-edges kept in an author's summary (the heaviest).
MAX_OUT_EDGES_SUMMARY = 16

assert abs(sum(WEIGHTS.values()) - 1.0) < 1e-12


# --------------------------------------------------------------------------------------------------
# Small helpers


def to_epoch(value: float | int | datetime) -> float:
    """Epoch seconds of ``value`` (an aware ``datetime`` or a number)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a timezone-aware datetime or epoch seconds")
        return value.timestamp()
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"not a finite time: {value!r}")
    return out


def normalize_handle(handle: str) -> str:
    """A handle as used in keys: stripped, case-folded, without a leading ``@``."""
    return handle.strip().lstrip("@").strip().casefold()


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        out = int(value)
    except (TypeError, ValueError):
        return None
    return out if out >= 0 else None


@dataclass(frozen=True)
class MentionView:
    """The fields of a mention that influence scoring reads, whatever shape the mention came in."""

    id: str | None
    source: str | None
    handle: str | None
    followers: int | None
    likes: int
    shares: int
    replies: int
    views: int | None
    text: str
    published_at: float | None

    @property
    def engagement_total(self) -> int:
        return self.likes + self.shares + self.replies


def mention_view(mention: Any) -> MentionView:
    """Read a :class:`~streams.schema.Mention`, an :class:`~streams.schema.EnrichedMention`, a
    ``Mention.model_dump()`` dict or an indexed document into a :class:`MentionView`."""
    if isinstance(mention, MentionView):
        return mention
    inner = _get(mention, "mention")
    if inner is not None and _get(mention, "text") is None:  # EnrichedMention or {"mention": {...}}
        mention = inner
    author = _get(mention, "author")
    engagement = _get(mention, "engagement")
    handle = _get(author, "handle") if author is not None else None
    if handle is None and isinstance(author, str):
        handle = author
    published = _get(mention, "published_at")
    published_ts: float | None = None
    if isinstance(published, datetime):
        published_ts = published.timestamp() if published.tzinfo else None
    elif isinstance(published, str):
        try:
            parsed = datetime.fromisoformat(published.replace("Z", "+00:00"))
            published_ts = parsed.timestamp() if parsed.tzinfo else None
        except ValueError:
            published_ts = None
    elif isinstance(published, (int, float)) and not isinstance(published, bool):
        published_ts = float(published)
    return MentionView(
        id=_get(mention, "id"),
        source=_get(mention, "source"),
        handle=str(handle) if handle is not None else None,
        followers=_int_or_none(_get(author, "followers")) if not isinstance(author, str) else None,
        likes=_int_or_none(_get(engagement, "likes")) or 0,
        shares=_int_or_none(_get(engagement, "shares")) or 0,
        replies=_int_or_none(_get(engagement, "replies")) or 0,
        views=_int_or_none(_get(engagement, "views")),
        text=str(_get(mention, "text") or ""),
        published_at=published_ts,
    )


def author_key(mention_or_source: Any, handle: str | None = None) -> str | None:
    """``"<source>:<handle>"`` for a mention's author (``author_key(mention)``) or for a source and a
    handle (``author_key("mastodon", "@Lego")``); ``None`` when the mention has no author."""
    if handle is not None:
        source = str(mention_or_source or "unknown")
    else:
        view = mention_view(mention_or_source)
        if not view.handle:
            return None
        source, handle = view.source or "unknown", view.handle
    norm = normalize_handle(handle)
    return f"{source.strip().casefold()}:{norm}" if norm else None


# @name, @name@instance.social (Mastodon), @name.bsky.social (Bluesky); not inside words or e-mail addresses.
_AT_MENTION = re.compile(r"(?<![\w@./])@([^\W][\w.\-]*(?:@[\w\-]+(?:\.[\w\-]+)+)?)")


def mention_targets(mention: Any, parent_author: str | None = None) -> list[str]:
    """Author keys of the people a mention addresses: its ``@mentions`` and, when the caller knows it,
    ``parent_author`` (the author key of the item it replies to). Without the mention's own author, in
    order of first appearance, without duplicates."""
    view = mention_view(mention)
    source = view.source or "unknown"
    own = author_key(source, view.handle) if view.handle else None
    out: list[str] = []
    if parent_author:
        out.append(parent_author)
    for match in _AT_MENTION.finditer(view.text):
        name = match.group(1).rstrip(".-")
        key = author_key(source, name)
        if key:
            out.append(key)
    return [key for key in dict.fromkeys(out) if key != own]


def _log_saturate(value: float, full: float) -> float:
    if not value > 0:
        return 0.0
    return min(1.0, math.log1p(value) / math.log1p(full))


# --------------------------------------------------------------------------------------------------
# Author state


@dataclass(frozen=True)
class AuthorState:
    """What Lytter knows about one author. Immutable: :func:`observe_mention` returns a new state.

    ``engagement_received`` and ``activity_rate`` are stored as of ``last_seen``; read them as of a later
    time with :meth:`engagement_at` / :meth:`activity_at`.
    """

    handle: str
    followers: int | None = None
    mentions: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    #: likes + shares + replies received, decayed with ENGAGEMENT_HALF_LIFE_DAYS, as of last_seen
    engagement_received: float = 0.0
    #: EWMA of the engagement one mention of this author gets (per mention, alpha 0.2)
    engagement_per_mention: float = 0.0
    #: EWMA of mentions per day (time constant ACTIVITY_TAU_DAYS), as of last_seen
    activity_rate: float = 0.0
    #: PageRank from the reply graph, copied in by the caller (``replace(state, pagerank=graph.rank(key))``)
    pagerank: float = 0.0
    #: heaviest out-edges (author key -> count of replies/@mentions), at most MAX_OUT_EDGES_SUMMARY
    out_edges: dict[str, int] = field(default_factory=dict)
    #: all out-edges ever observed (replies + @mentions), including those dropped from ``out_edges``
    out_degree: int = 0

    def engagement_at(self, now: float | datetime | None = None) -> float:
        """Decayed engagement received, as of ``now`` (default: ``last_seen``)."""
        if now is None or self.mentions == 0:
            return self.engagement_received
        dt_days = max(0.0, to_epoch(now) - self.last_seen) / DAY
        return self.engagement_received * 0.5 ** (dt_days / ENGAGEMENT_HALF_LIFE_DAYS)

    def activity_at(self, now: float | datetime | None = None) -> float:
        """Mentions per day, as of ``now`` (default: ``last_seen``)."""
        if now is None or self.mentions == 0:
            return self.activity_rate
        dt_days = max(0.0, to_epoch(now) - self.last_seen) / DAY
        return self.activity_rate * math.exp(-dt_days / ACTIVITY_TAU_DAYS)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["out_edges"] = dict(self.out_edges)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuthorState:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        if "out_edges" in kwargs:
            kwargs["out_edges"] = {str(k): int(v) for k, v in (kwargs["out_edges"] or {}).items()}
        return cls(**kwargs)


def observe_mention(
    state: AuthorState | None,
    mention: Any,
    now: float | datetime,
    *,
    parent_author: str | None = None,
) -> AuthorState:
    """The author's state after one more mention (pure: ``state`` is not changed).

    ``state`` is ``None`` for an author seen for the first time. ``mention`` is a ``Mention``,
    ``EnrichedMention`` or their dict form. ``now`` is the clock all decays run on (processing time; a
    ``now`` earlier than ``last_seen`` decays nothing). ``parent_author`` is the author key of the item
    this mention replies to, when the caller knows it (an out-edge, like an ``@mention``).

    Call it once per mention id: the engagement it carries is added to the author's total.
    """
    now_ts = to_epoch(now)
    view = mention_view(mention)
    if state is None:
        state = AuthorState(handle=view.handle or "unknown", first_seen=now_ts, last_seen=now_ts)
    if state.mentions == 0:
        engagement, activity, per_mention = 0.0, 0.0, float(view.engagement_total)
        first_seen = now_ts if state.first_seen == 0.0 else state.first_seen
    else:
        engagement = state.engagement_at(now_ts)
        activity = state.activity_at(now_ts)
        per_mention = state.engagement_per_mention + ENGAGEMENT_PER_MENTION_ALPHA * (
            view.engagement_total - state.engagement_per_mention
        )
        first_seen = min(state.first_seen, now_ts)
    targets = mention_targets(mention, parent_author)
    out_edges = dict(state.out_edges)
    for target in targets:
        out_edges[target] = out_edges.get(target, 0) + 1
    if len(out_edges) > MAX_OUT_EDGES_SUMMARY:
        # keep the heaviest; among equals the most recent (targets of this mention) win
        recent = set(targets)
        ranked = sorted(out_edges.items(), key=lambda kv: (kv[1], kv[0] in recent), reverse=True)
        out_edges = dict(ranked[:MAX_OUT_EDGES_SUMMARY])
    return replace(
        state,
        handle=view.handle or state.handle,
        followers=view.followers if view.followers is not None else state.followers,
        mentions=state.mentions + 1,
        first_seen=first_seen,
        last_seen=max(state.last_seen, now_ts),
        engagement_received=engagement + view.engagement_total,
        engagement_per_mention=per_mention,
        activity_rate=activity + 1.0 / ACTIVITY_TAU_DAYS,
        out_edges=out_edges,
        out_degree=state.out_degree + len(targets),
    )


def influence_components(
    state: AuthorState, graph_rank_percentile: float | None, *, now: float | datetime | None = None
) -> dict[str, float | None]:
    """The four signals of :func:`influence_score`, each in 0..1 (``None`` = unknown)."""
    if graph_rank_percentile is not None and not math.isfinite(graph_rank_percentile):
        graph_rank_percentile = None
    return {
        "followers": _log_saturate(state.followers, FOLLOWERS_FULL) if state.followers is not None else None,
        "engagement": _log_saturate(state.engagement_at(now), ENGAGEMENT_FULL),
        "graph": min(1.0, max(0.0, graph_rank_percentile / 100.0)) if graph_rank_percentile is not None else None,
        "activity": _log_saturate(state.activity_at(now), ACTIVITY_FULL),
    }


def influence_score(
    state: AuthorState | None, graph_rank_percentile: float | None, *, now: float | datetime | None = None
) -> float:
    """Influence of an author, 0..100 (see the module docstring for the formula).

    ``graph_rank_percentile`` is ``ReplyGraph.percentile(key)`` (0..100), or ``None`` when no graph signal
    is available (its weight is then redistributed). ``now`` decays engagement and activity to that time;
    without it they are taken as of the author's last mention.
    """
    if state is None:
        state = AuthorState(handle="unknown")
    parts = influence_components(state, graph_rank_percentile, now=now)
    num = sum(WEIGHTS[name] * value for name, value in parts.items() if value is not None)
    den = sum(WEIGHTS[name] for name, value in parts.items() if value is not None)
    return round(min(100.0, max(0.0, 100.0 * num / den)), 6)


def estimated_reach(author_state: AuthorState | None, mention: Any) -> float:
    """People who plausibly saw ``mention`` (see "Reach" in the module docstring)."""
    view = mention_view(mention)
    engaged = view.engagement_total
    if view.views is not None:
        return float(max(view.views, engaged))
    followers = view.followers
    if followers is None and author_state is not None:
        followers = author_state.followers
    if followers is not None:
        return float(followers + view.likes + view.replies + SHARE_AUDIENCE * view.shares)
    usual = author_state.engagement_per_mention if author_state is not None and author_state.mentions else 0.0
    direct = view.likes + view.replies
    return float(max(FALLBACK_MIN_REACH, REACH_PER_ENGAGEMENT * max(direct, usual) + SHARE_AUDIENCE * view.shares))


def impact(reach: float | None, sentiment_score: float | None) -> float:
    """``reach * sentiment_score``: signed (negative for negative mentions). The score is clipped to
    [-1, 1], the reach to >= 0; an unknown (``None`` or non-finite) input gives 0."""
    if reach is None or sentiment_score is None:
        return 0.0
    reach, score = float(reach), float(sentiment_score)
    if not (math.isfinite(reach) and math.isfinite(score)):
        return 0.0
    return max(0.0, reach) * min(1.0, max(-1.0, score))


# --------------------------------------------------------------------------------------------------
# Reply graph with incremental PageRank


class _Node:
    __slots__ = ("last_seen", "out")

    def __init__(self, last_seen: float) -> None:
        self.last_seen = last_seen
        self.out: dict[str, list[float]] = {}  # dst -> [weight, last_seen]


class ReplyGraph:
    """Directed, weighted "who answers whom" graph with bounded memory and incremental PageRank.

    Edges go from the replier (or the one who @mentions) to the author answered (or mentioned).
    ``add_edge`` / ``touch`` change the graph; ``update`` moves the ranks a few power-iteration steps
    towards the new fixed point; ``rank`` / ``percentile`` read the ranks of the last ``update``.

    Snapshot with :meth:`to_dict` (JSON-safe) and restore with :meth:`from_dict`. A snapshot holds every
    node and edge: at the defaults (20 000 nodes, 16 out-edges each) budget a few MB, more than a
    single Kafka message should carry, so keep ``max_nodes`` small for a changelog-backed table, or
    snapshot the graph elsewhere.
    """

    def __init__(self, max_nodes: int = 20_000, max_out_edges: int = 16, damping: float = 0.85) -> None:
        if max_nodes < 2:
            raise ValueError("max_nodes must be at least 2")
        if max_out_edges < 1:
            raise ValueError("max_out_edges must be at least 1")
        if not 0.0 < damping < 1.0:
            raise ValueError("damping must be in (0, 1)")
        self.max_nodes = int(max_nodes)
        self.max_out_edges = int(max_out_edges)
        self.damping = float(damping)
        self._nodes: OrderedDict[str, _Node] = OrderedDict()  # least recently seen first
        self._inn: dict[str, set[str]] = {}  # dst -> sources with an edge to dst
        self._rank: dict[str, float] = {}
        self._sorted: np.ndarray = np.empty(0)
        self._matrix: tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self.residual: float = math.inf  # L1 change of the last iteration step
        self.evicted: int = 0

    # -- structure ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node: object) -> bool:
        return node in self._nodes

    @property
    def edge_count(self) -> int:
        return sum(len(n.out) for n in self._nodes.values())

    def nodes(self) -> list[str]:
        """The nodes, least recently seen first."""
        return list(self._nodes)

    def in_degree(self, node: str) -> int:
        """How many nodes reply to / mention ``node``."""
        return len(self._inn.get(node, ()))

    def out_edges(self, node: str) -> dict[str, float]:
        n = self._nodes.get(node)
        return {dst: e[0] for dst, e in n.out.items()} if n else {}

    def touch(self, node: str, now: float | datetime) -> None:
        """Mark ``node`` as seen now (adding it, and evicting the least recently seen node if full)."""
        now_ts = to_epoch(now)
        existing = self._nodes.get(node)
        if existing is not None:
            existing.last_seen = max(existing.last_seen, now_ts)
            self._nodes.move_to_end(node)
            return
        self._nodes[node] = _Node(now_ts)
        self._inn.setdefault(node, set())
        self._matrix = None
        while len(self._nodes) > self.max_nodes:
            oldest = next(iter(self._nodes))
            self._evict(oldest)

    def _evict(self, node: str) -> None:
        gone = self._nodes.pop(node)
        for dst in gone.out:
            self._inn.get(dst, set()).discard(node)
        for src in self._inn.pop(node, set()):
            src_node = self._nodes.get(src)
            if src_node is not None:
                src_node.out.pop(node, None)
        self._rank.pop(node, None)
        self._matrix = None
        self.evicted += 1

    def add_edge(self, src: str, dst: str, weight: float = 1.0, now: float | datetime = 0.0) -> None:
        """Add ``weight`` to the edge ``src -> dst`` (``src`` replied to / mentioned ``dst``) at ``now``.

        Both ends are marked seen. A self-edge only marks the node seen. When ``src`` already has
        ``max_out_edges`` other out-edges, its lightest (then oldest) edge is dropped.
        """
        weight = float(weight)
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"edge weight must be a positive number, got {weight!r}")
        now_ts = to_epoch(now)
        self.touch(dst, now_ts)
        self.touch(src, now_ts)
        if src == dst:
            return
        if dst not in self._nodes:  # max_nodes == 2 and the src touch evicted dst: nothing to link
            return
        out = self._nodes[src].out
        edge = out.get(dst)
        if edge is not None:
            edge[0] += weight
            edge[1] = max(edge[1], now_ts)
        else:
            if len(out) >= self.max_out_edges:
                drop = min(out, key=lambda d: (out[d][0], out[d][1]))
                del out[drop]
                self._inn.get(drop, set()).discard(src)
            out[dst] = [weight, now_ts]
            self._inn.setdefault(dst, set()).add(src)
        self._matrix = None

    # -- PageRank ------------------------------------------------------------------------------------

    def _build(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._matrix is None:
            names = list(self._nodes)
            index = {name: i for i, name in enumerate(names)}
            src: list[int] = []
            dst: list[int] = []
            weight: list[float] = []
            for name, node in self._nodes.items():
                i = index[name]
                for target, (w, _ts) in node.out.items():
                    src.append(i)
                    dst.append(index[target])
                    weight.append(w)
            src_a = np.asarray(src, dtype=np.int64)
            dst_a = np.asarray(dst, dtype=np.int64)
            w_a = np.asarray(weight, dtype=np.float64)
            out_sum = np.bincount(src_a, weights=w_a, minlength=len(names)) if len(names) else np.zeros(0)
            norm = w_a / out_sum[src_a] if len(w_a) else w_a
            dangling = out_sum == 0
            self._matrix = (names, src_a, dst_a, norm, dangling)
        return self._matrix

    def update(self, iterations: int = 3, tol: float = 0.0) -> float:
        """Run up to ``iterations`` power-iteration steps from the current ranks (stopping early once an
        step changes the ranks by at most ``tol`` in L1). Returns that last L1 change."""
        names, src, dst, norm, dangling = self._build()
        n = len(names)
        if n == 0:
            self._rank, self._sorted, self.residual = {}, np.empty(0), 0.0
            return 0.0
        rank = np.fromiter((self._rank.get(name, 1.0 / n) for name in names), dtype=np.float64, count=n)
        total = rank.sum()
        rank = rank / total if total > 0 else np.full(n, 1.0 / n)
        d = self.damping
        residual = math.inf if iterations <= 0 else 0.0
        for _ in range(max(0, iterations)):
            spread = np.bincount(dst, weights=rank[src] * norm, minlength=n) if len(src) else np.zeros(n)
            new = d * (spread + rank[dangling].sum() / n) + (1.0 - d) / n
            residual = float(np.abs(new - rank).sum())
            rank = new
            if residual <= tol:
                break
        rank /= rank.sum()
        self._rank = dict(zip(names, rank.tolist()))
        self._sorted = np.sort(rank)
        self.residual = residual
        return residual

    def converge(self, tol: float = 1e-12, max_iterations: int = 1_000) -> float:
        """Iterate until the L1 change per step is at most ``tol``."""
        return self.update(iterations=max_iterations, tol=tol)

    def rank(self, node: str) -> float | None:
        """PageRank of ``node`` at the last update (ranks sum to 1); ``None`` if unknown or not yet ranked."""
        return self._rank.get(node)

    def ranks(self) -> dict[str, float]:
        return dict(self._rank)

    def top(self, k: int = 10) -> list[tuple[str, float]]:
        return sorted(self._rank.items(), key=lambda kv: (-kv[1], kv[0]))[:k]

    def percentile(self, node: str) -> float | None:
        """0..100: the share of the other ranked nodes that ``node`` strictly outranks (ties within a
        relative 1e-9 are equal). 0 for a node not in the graph (nobody answers it); ``None`` while fewer
        than two nodes are ranked (no signal)."""
        n = len(self._sorted)
        if n < 2:
            return None
        r = self._rank.get(node)
        if r is None:
            return 0.0
        below = int(np.searchsorted(self._sorted, r * (1.0 - 1e-9), side="left"))
        return 100.0 * min(below, n - 1) / (n - 1)

    # -- snapshots -----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe snapshot: settings and every node (least recently seen first) with its rank and edges."""
        return {
            "version": 1,
            "max_nodes": self.max_nodes,
            "max_out_edges": self.max_out_edges,
            "damping": self.damping,
            "evicted": self.evicted,
            "nodes": [
                [name, node.last_seen, self._rank.get(name), [[dst, e[0], e[1]] for dst, e in node.out.items()]]
                for name, node in self._nodes.items()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplyGraph:
        graph = cls(max_nodes=data["max_nodes"], max_out_edges=data["max_out_edges"], damping=data["damping"])
        graph.evicted = int(data.get("evicted", 0))
        for name, last_seen, rank, edges in data["nodes"]:
            node = _Node(float(last_seen))
            graph._nodes[name] = node
            graph._inn.setdefault(name, set())
            for dst, weight, ts in edges:
                node.out[dst] = [float(weight), float(ts)]
            if rank is not None:
                graph._rank[name] = float(rank)
        for name, node in graph._nodes.items():
            for dst in node.out:
                graph._inn.setdefault(dst, set()).add(name)
        graph._sorted = np.sort(np.fromiter(graph._rank.values(), dtype=np.float64, count=len(graph._rank)))
        return graph
