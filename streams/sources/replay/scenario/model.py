"""The :class:`Scenario`: its arguments, checked, and its public API (mentions, incident, watch config)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from streams.schema import Mention
from streams.sources.replay.scenario.brands import BRANDS, CRISIS_KEYWORDS, BrandProfile
from streams.sources.replay.scenario.records import Critic, _Generated
from streams.sources.replay.scenario.timeline import _Builder

#: The default start: fixed, so that a seed alone determines the scenario.
DEFAULT_START = datetime(2025, 1, 15, 8, 0, tzinfo=timezone.utc)


class Scenario:
    """A deterministic scenario: baseline chatter about ``brands``, and an incident for ``incident_brand``.

    The scenario spans ``baseline_minutes`` from ``start`` (baseline chatter throughout); the incident
    starts ``incident_at_minute`` minutes in and lasts ``burst_minutes`` (``incident_at_minute=None``: no
    incident). ``brands`` are names from :data:`BRANDS` or :class:`BrandProfile` objects.

    The answer loop: ``question_share`` of the brand's new neutral or negative posts are questions,
    requests or complaints addressed to the brand's own account (``@name.bsky.social``, ``@user@instance``,
    ``u/Name``: the form the source uses). The brands' teams come online at ``support_online_at_minute``
    (questions before it are the morning backlog nobody answers); later questions are answered by the
    brand's account with probability ``answer_share`` after ``reply_delay_minutes`` (low, high). In the
    incident the brand answers the critic 4-8 minutes after the post and about half of the worried
    customers' questions 3-10 minutes later.

    Stories: ``repost_share`` of the plain posts are passed on 1-3 times ("RT @x: ...", "... via @x",
    quoted with a few words) within 20 minutes; in the incident ``copy_paste_size`` of the burst's posts
    are one complaint posted by that many distinct accounts, each with a small edit.
    """

    def __init__(
        self,
        seed: int = 7,
        brands: Sequence[str | BrandProfile] | None = None,
        baseline_minutes: float = 60.0,
        incident_brand: str | None = "Nordlys Energi",
        incident_at_minute: float | None = 40.0,
        burst_size: int = 60,
        start: datetime | None = None,
        *,
        burst_minutes: float = 2.0,
        rate_per_minute: tuple[float, float] = (2.0, 5.0),
        noise_per_minute: float = 0.5,
        reply_share: float = 0.25,
        critic_followers: int = 500_000,
        id_prefix: str = "scenario",
        question_share: float = 0.15,
        answer_share: float = 0.75,
        reply_delay_minutes: tuple[float, float] = (2.0, 12.0),
        support_online_at_minute: float = 15.0,
        repost_share: float = 0.08,
        copy_paste_size: int = 24,
    ) -> None:
        profiles: list[BrandProfile] = []
        for brand in list(BRANDS) if brands is None else brands:
            if isinstance(brand, BrandProfile):
                profiles.append(brand)
            elif brand in BRANDS:
                profiles.append(BRANDS[brand])
            elif isinstance(brand, str):
                profiles.append(BrandProfile.simple(brand))
            else:
                raise TypeError(f"a brand is a name or a BrandProfile, not {type(brand).__name__}")
        if not profiles:
            raise ValueError("a scenario needs at least one brand")
        names = [p.name for p in profiles]
        if len(set(names)) != len(names):
            raise ValueError(f"brands must be distinct: {names}")
        if baseline_minutes <= 0:
            raise ValueError("baseline_minutes must be positive")
        lo, hi = rate_per_minute
        if not 0 <= lo <= hi:
            raise ValueError("rate_per_minute must be (low, high) with 0 <= low <= high")
        for name, share in (("question_share", question_share), ("answer_share", answer_share), ("repost_share", repost_share)):
            if not 0 <= share <= 1:
                raise ValueError(f"{name} must be between 0 and 1, not {share!r}")
        if not 0 < reply_delay_minutes[0] <= reply_delay_minutes[1]:
            raise ValueError("reply_delay_minutes must be (low, high) minutes with 0 < low <= high")
        if copy_paste_size < 0:
            raise ValueError("copy_paste_size must be 0 (no copy-paste campaign) or more")
        if start is None:
            start = DEFAULT_START
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be timezone-aware (e.g. datetime(..., tzinfo=timezone.utc))")
        self.incident = incident_at_minute is not None and incident_brand is not None
        if self.incident:
            if incident_brand not in names:
                raise ValueError(f"incident_brand {incident_brand!r} is not one of the brands {names}")
            if burst_minutes <= 0:
                raise ValueError("burst_minutes must be positive")
            if not 0 <= incident_at_minute <= baseline_minutes - burst_minutes:  # type: ignore[operator]
                raise ValueError(
                    f"incident_at_minute must be between 0 and baseline_minutes - burst_minutes ({baseline_minutes - burst_minutes:g})"
                )
            if burst_size < 3:
                raise ValueError("burst_size must be at least 3 (the critic, a reply and a post)")
        self.seed = seed
        self.brands = profiles
        self.baseline_minutes = float(baseline_minutes)
        self.incident_brand = incident_brand if self.incident else None
        self.incident_at_minute = float(incident_at_minute) if self.incident else None  # type: ignore[arg-type]
        self.burst_size = int(burst_size)
        self.burst_minutes = float(burst_minutes)
        self.start = start
        self.rate_per_minute = (float(lo), float(hi))
        self.noise_per_minute = float(noise_per_minute)
        self.reply_share = float(reply_share)
        self.critic_followers = int(critic_followers)
        self.id_prefix = id_prefix
        self.question_share = float(question_share)
        self.answer_share = float(answer_share)
        self.reply_delay_minutes = (float(reply_delay_minutes[0]), float(reply_delay_minutes[1]))
        self.support_online_at_minute = float(support_online_at_minute)
        self.repost_share = float(repost_share)
        self.copy_paste_size = int(copy_paste_size)
        self._generated: _Generated | None = None

    def __repr__(self) -> str:
        return (
            f"Scenario(seed={self.seed}, brands={[b.name for b in self.brands]}, baseline_minutes={self.baseline_minutes:g}, "
            f"incident_brand={self.incident_brand!r}, incident_at_minute={self.incident_at_minute}, burst_size={self.burst_size})"
        )

    # ---------------------------------------------------------------------------------- public API

    def mentions(self) -> list[Mention]:
        """All mentions, sorted by ``published_at`` (ties in a fixed order); the same list for the same arguments."""
        return list(self._generate().mentions)

    def incident_window(self) -> tuple[datetime, datetime] | None:
        """``(start, end)`` of the burst: every incident mention is published in ``[start, end)``. ``None`` without incident."""
        if not self.incident:
            return None
        begin = self.start + timedelta(minutes=self.incident_at_minute)  # type: ignore[arg-type]
        return begin, begin + timedelta(minutes=self.burst_minutes)

    def incident_mention_ids(self) -> frozenset[str]:
        """Ids of the incident's mentions: the burst, the critic's post and the replies to it."""
        return self._generate().incident_ids

    def critic_mention_id(self) -> str | None:
        """Id of the influential critic's post (``None`` without incident)."""
        return self._generate().critic_id

    def critic(self) -> Critic | None:
        """Who the influential critic is (``None`` without incident)."""
        return self._generate().critic

    def question_ids(self, answered: bool | None = None) -> list[str]:
        """Ids of the planted questions (baseline and incident), in time order; ``answered`` filters on
        whether the brand's account answered them within the scenario."""
        return [
            m.id for m in self._generate().mentions
            if (truth := m.raw["scenario"])["role"] == "question" and (answered is None or truth["answered"] is answered)
        ]

    def copy_paste_ids(self) -> list[str]:
        """Ids of the incident's copy-paste campaign (one story), in time order."""
        return [m.id for m in self._generate().mentions if m.raw["scenario"]["role"] == "copy_paste"]

    def brand_rates(self) -> dict[str, float]:
        """The baseline rate (mentions per minute, replies included) drawn for each brand."""
        return dict(self._generate().rates)

    def watch_config(self, reply_target_minutes: float | None = None) -> dict[str, Any]:
        """A brand-watch configuration (plain data, ``yaml.safe_dump``-able)::

            {"brands": [{"name": "Nordlys Energi", "query": '"Nordlys Energi*" OR nordlysenergi*',
                         "languages": ["nb", "da", ...],
                         "owned_accounts": {"bluesky": ["nordlysenergi.bsky.social", "did:plc:..."], ...},
                         "reply": {"target_minutes": 60, "by_source": {"bluesky": 30}, ...}}, ...],
             "crisis_keywords": {"da": ["boykot*", "tilbagekald*", "skandal*"], ...},
             "crisis_query": "boykot* OR tilbagekald* OR ..."}

        Queries use :mod:`streams.query` syntax; each brand's query finds every mention the scenario
        writes about that brand and no look-alike noise. ``owned_accounts`` and ``reply`` are the brand
        profile's (those of deploy/watch.example.yaml); ``reply_target_minutes`` replaces every brand's
        reply targets by that one number (the demo's: its replay is faster than the clock).
        """
        keywords = {lang: list(words) for lang, words in CRISIS_KEYWORDS.items()}
        unique: list[str] = []
        for words in keywords.values():
            unique += [w for w in words if w not in unique]
        return {
            "brands": [
                {
                    "name": brand.name,
                    "query": brand.query,
                    "languages": [lang for lang, _ in sorted(brand.languages.items(), key=lambda kv: (-kv[1], kv[0]))],
                    "owned_accounts": {source: list(handles) for source, handles in brand.owned_accounts.items()},
                    "reply": {"target_minutes": reply_target_minutes} if reply_target_minutes is not None else _plain(brand.reply),
                }
                for brand in self.brands
            ],
            "crisis_keywords": keywords,
            "crisis_query": " OR ".join(unique),
        }

    def watch_file(self, reply_target_minutes: float | None = None, **alerts: Any) -> dict[str, Any]:
        """:meth:`watch_config` in the form of a watch file (streams/watch/file.py, what the worker
        reads): brands with query, owned accounts and reply targets; the crisis keywords under
        ``alerts``, plus any other ``alerts`` settings given (e.g. ``incidents={"update_interval_s": 30}``)."""
        config = self.watch_config(reply_target_minutes)
        brands = [{key: brand[key] for key in ("name", "query", "owned_accounts", "reply")} for brand in config["brands"]]
        return {"brands": brands, "alerts": {"crisis_keyword": {"keywords": config["crisis_keywords"]}, **alerts}}

    # ---------------------------------------------------------------------------------- generation

    def _generate(self) -> _Generated:
        if self._generated is None:
            self._generated = _Builder(self).build()
        return self._generated


def _plain(value: Any) -> Any:
    """Mappings and sequences as dicts and lists (what ``yaml.safe_dump`` writes)."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
