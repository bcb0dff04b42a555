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

    def brand_rates(self) -> dict[str, float]:
        """The baseline rate (mentions per minute, replies included) drawn for each brand."""
        return dict(self._generate().rates)

    def watch_config(self) -> dict[str, Any]:
        """A brand-watch configuration (plain data, ``yaml.safe_dump``-able)::

            {"brands": [{"name": "Nordlys Energi", "query": '"Nordlys Energi*" OR nordlysenergi*',
                         "languages": ["nb", "da", ...]}, ...],
             "crisis_keywords": {"da": ["boykot*", "tilbagekald*", "skandal*"], ...},
             "crisis_query": "boykot* OR tilbagekald* OR ..."}

        Queries use :mod:`streams.query` syntax; each brand's query finds every mention the scenario
        writes about that brand and no look-alike noise.
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
                }
                for brand in self.brands
            ],
            "crisis_keywords": keywords,
            "crisis_query": " OR ".join(unique),
        }

    # ---------------------------------------------------------------------------------- generation

    def _generate(self) -> _Generated:
        if self._generated is None:
            self._generated = _Builder(self).build()
        return self._generated
