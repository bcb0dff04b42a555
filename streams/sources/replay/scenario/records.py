"""The scenario's records: the critic, authors, drafts (mentions before ids) and what a build yields."""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.schema import Mention


@dataclass(frozen=True)
class Critic:
    """The influential critic of the incident."""

    handle: str
    display_name: str
    followers: int
    lang: str


@dataclass
class _Author:
    handle: str
    display_name: str
    followers: int
    lang: str


@dataclass
class _Draft:
    """A mention before ids are assigned (parents are drafts, too)."""

    t: float  # seconds after start
    lang: str
    text: str
    author: _Author
    source: str
    tone: str
    role: str  # baseline | noise | incident | critic | critic_reply | question | brand_reply | repost | copy_paste
    brand: str | None
    parent: "_Draft | None" = None
    incident: bool = False
    kind: str | None = None  # None: post, or reply/comment when it has a parent
    intent: str | None = None  # question | request | complaint, for the planted questions
    answer: "_Draft | None" = None  # the brand's reply to this question
    story: "_Draft | None" = None  # the post a repost or copy repeats
    likes: int = 0
    shares: int = 0
    views: int | None = None
    children: int = 0
    id: str = ""
    seq: int = 0


@dataclass
class _Generated:
    mentions: list[Mention]
    incident_ids: frozenset[str]
    critic_id: str | None
    critic: Critic | None
    rates: dict[str, float] = field(default_factory=dict)
