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
    role: str  # baseline | noise | incident | critic | critic_reply
    brand: str | None
    parent: "_Draft | None" = None
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
