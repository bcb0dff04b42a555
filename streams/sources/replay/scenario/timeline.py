"""When who writes what: the generator behind :class:`~streams.sources.replay.scenario.Scenario`.

Baseline chatter per brand (a Poisson process, replies to recent posts), look-alike noise, and the
incident (the burst, the critic's post, the replies to it); then ids in time order and the mentions.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import TYPE_CHECKING

from streams.schema import LANGUAGES, Mention
from streams.sources.replay.scenario.brands import _GENERIC_PRODUCT, _GENERIC_TOPICS, BrandProfile
from streams.sources.replay.scenario.records import Critic, _Author, _Draft, _Generated
from streams.sources.replay.scenario.texts import (
    _BASELINE,
    _CRITIC_POST,
    _CRITIC_REPLIES,
    _CRITICS,
    _FIRST_NAMES,
    _HANDLE_SUFFIX,
    _HASHTAGS,
    _INCIDENT,
    _INCIDENT_OPENERS,
    _NOISE,
    _REPLIES,
    _SUFFIX,
    _SURNAMES,
)

if TYPE_CHECKING:
    from streams.sources.replay.scenario.model import Scenario

TONES = ("neutral", "positive", "negative")
#: Share of neutral / mildly positive / mildly negative baseline mentions.
TONE_WEIGHTS = (0.55, 0.25, 0.20)

_SOURCES = ("bluesky", "mastodon", "reddit", "blog")
_SOURCE_WEIGHTS = (0.40, 0.25, 0.25, 0.10)
_PROFILE_URL = {
    "bluesky": "https://bsky.example/profile/{handle}",
    "mastodon": "https://mastodon.example/@{handle}",
    "reddit": "https://reddit.example/user/{handle}",
    "blog": "https://blog.example/{handle}",
}
_SUBREDDIT = {"da": "Denmark", "nb": "norge", "nn": "norge", "sv": "sweden", "en": "Scandinavia"}


class _Builder:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.rng = random.Random(f"lytter-scenario:{scenario.seed}")
        self.pools = {lang: self._author_pool(lang) for lang in LANGUAGES}
        self.pool_weights = {lang: [1.0 / (i + 1) ** 0.9 for i in range(len(pool))] for lang, pool in self.pools.items()}

    # people

    def _author_pool(self, lang: str) -> list[_Author]:
        rng = self.rng
        firsts, suffixes, surnames = _FIRST_NAMES[lang], _HANDLE_SUFFIX[lang], _SURNAMES[lang]
        seen: set[str] = set()
        pool: list[_Author] = []
        while len(pool) < 60:
            first = rng.choice(firsts)
            handle = first + rng.choice(suffixes)
            if handle in seen:
                handle += str(rng.randrange(2, 99))
            if handle in seen:
                continue
            seen.add(handle)
            # Pareto (alpha 1.1, minimum 20): most accounts are small, a few are big; the critic is bigger.
            followers = min(45_000, int(20 * rng.paretovariate(1.1)))
            display = f"{first.capitalize()} {rng.choice(surnames)}"
            pool.append(_Author(handle, display, followers, lang))
        return pool

    def _author(self, lang: str) -> _Author:
        return self.rng.choices(self.pools[lang], weights=self.pool_weights[lang])[0]

    def _lang(self, brand: BrandProfile) -> str:
        langs = sorted(brand.languages)
        return self.rng.choices(langs, weights=[brand.languages[lang] for lang in langs])[0]

    def _fill(self, template: str, brand: BrandProfile | None, lang: str, critic: str = "") -> str:
        rng = self.rng
        values: dict[str, str] = {"c": f"@{critic}" if critic else ""}
        if brand is not None:
            name = brand.name
            if rng.random() < 0.08:
                name = name.lower()  # people do not always capitalise
            topics = brand.topics.get(lang) or _GENERIC_TOPICS[lang]
            values |= {
                "b": name,
                "h": f"@{brand.handle}",
                "t": rng.choice(list(topics)),
                "p": brand.product.get(lang) or _GENERIC_PRODUCT[lang],
            }
        text = template.format(**values)
        return text[0].upper() + text[1:] if text[0].islower() and not text.startswith("@") else text

    def _engagement(self, draft: _Draft, boost: float = 1.0) -> None:
        rng = self.rng
        scale = (1.0 + math.sqrt(draft.author.followers) * 0.25) * boost
        draft.likes = int(rng.expovariate(1.0 / scale))
        draft.shares = int(draft.likes * rng.uniform(0.0, 0.3))
        if draft.source in ("bluesky", "mastodon") and draft.parent is None:
            draft.views = int(draft.author.followers * rng.uniform(0.05, 0.3)) + draft.likes * 5

    # streams

    def _baseline(self, brand: BrandProfile, drafts: list[_Draft]) -> float:
        rng, s = self.rng, self.s
        rate = rng.uniform(*s.rate_per_minute)  # mentions a minute
        if rate <= 0:
            return 0.0
        horizon = s.baseline_minutes * 60.0
        posts: list[_Draft] = []
        t = rng.expovariate(rate / 60.0)
        while t < horizon:
            tone = rng.choices(TONES, weights=TONE_WEIGHTS)[0]
            recent = [p for p in posts if t - 30 * 60 <= p.t <= t - 1.0]
            if recent and rng.random() < s.reply_share:
                weights = [1.0 + p.likes + 0.2 * (len(recent) - i) for i, p in enumerate(reversed(recent))]
                parent = rng.choices(list(reversed(recent)), weights=weights)[0]
                lang = parent.lang if rng.random() < 0.85 else self._lang(brand)
                if rng.random() < 0.6:
                    tone = parent.tone
                text = self._fill(rng.choice(_REPLIES[lang][tone]), brand, lang)
                draft = _Draft(t, lang, text, self._author(lang), parent.source, tone, "baseline", brand.name, parent=parent)
                parent.children += 1
            else:
                lang = self._lang(brand)
                text = self._fill(rng.choice(_BASELINE[lang][tone]), brand, lang)
                text += rng.choice(_SUFFIX[tone])
                if rng.random() < 0.1:
                    text += f" #{brand.handle}"
                source = rng.choices(_SOURCES, weights=_SOURCE_WEIGHTS)[0]
                draft = _Draft(t, lang, text, self._author(lang), source, tone, "baseline", brand.name)
                posts.append(draft)
            self._engagement(draft)
            drafts.append(draft)
            t += rng.expovariate(rate / 60.0)
        return rate

    def _noise(self, drafts: list[_Draft]) -> None:
        rng, s = self.rng, self.s
        if s.noise_per_minute <= 0:
            return
        horizon = s.baseline_minutes * 60.0
        t = rng.expovariate(s.noise_per_minute / 60.0)
        langs = sorted(_NOISE)
        while t < horizon:
            lang = rng.choice(langs)
            source = rng.choices(_SOURCES, weights=_SOURCE_WEIGHTS)[0]
            draft = _Draft(t, lang, rng.choice(_NOISE[lang]), self._author(lang), source, "neutral", "noise", None)
            self._engagement(draft)
            drafts.append(draft)
            t += rng.expovariate(s.noise_per_minute / 60.0)

    def _incident(self, brand: BrandProfile, drafts: list[_Draft]) -> tuple[list[_Draft], _Draft, Critic]:
        rng, s = self.rng, self.s
        begin = s.incident_at_minute * 60.0  # type: ignore[operator]
        length = s.burst_minutes * 60.0
        end = begin + length
        critic_lang = brand.main_language()
        handle, display = _CRITICS[critic_lang]
        followers = int(s.critic_followers * rng.uniform(0.95, 1.05))
        critic = Critic(handle, display, followers, critic_lang)
        critic_author = _Author(handle, display, followers, critic_lang)
        critic_t = begin + length * rng.uniform(0.08, 0.2)
        critic_post = _Draft(
            critic_t, critic_lang, self._fill(_CRITIC_POST[critic_lang], brand, critic_lang), critic_author, "bluesky", "negative", "critic", brand.name
        )
        critic_post.likes = int(followers * rng.uniform(0.008, 0.015))
        critic_post.shares = int(critic_post.likes * rng.uniform(0.15, 0.3))
        critic_post.views = int(followers * rng.uniform(0.5, 0.9))
        incident = [critic_post]

        n_replies = max(1, round((s.burst_size - 1) * 0.35))
        n_posts = s.burst_size - 1 - n_replies
        for _ in range(n_posts):
            # the burst ramps up: more mentions towards the end of the window
            t = begin + length * rng.random() ** 0.7
            t = min(t, end - 0.5)
            lang = self._lang(brand)
            text = rng.choice(_INCIDENT_OPENERS[lang]) + self._fill(rng.choice(_INCIDENT[lang]), brand, lang)
            if rng.random() < 0.25:
                text += f" {_HASHTAGS[lang]}"
            source = rng.choices(_SOURCES, weights=_SOURCE_WEIGHTS)[0]
            draft = _Draft(t, lang, text, self._author(lang), source, "negative", "incident", brand.name)
            self._engagement(draft, boost=2.0)
            incident.append(draft)
        for _ in range(n_replies):
            t = critic_t + 2.0 + (end - 0.5 - critic_t - 2.0) * rng.random() ** 0.8
            lang = critic_lang if rng.random() < 0.7 else self._lang(brand)
            text = self._fill(rng.choice(_CRITIC_REPLIES[lang]), brand, lang, critic=handle)
            draft = _Draft(t, lang, text, self._author(lang), critic_post.source, "negative", "critic_reply", brand.name, parent=critic_post)
            critic_post.children += 1
            self._engagement(draft, boost=1.5)
            incident.append(draft)
        drafts.extend(incident)
        return incident, critic_post, critic

    def build(self) -> _Generated:
        s = self.s
        drafts: list[_Draft] = []
        rates = {brand.name: self._baseline(brand, drafts) for brand in s.brands}
        self._noise(drafts)
        incident: list[_Draft] = []
        critic_post: _Draft | None = None
        critic: Critic | None = None
        if s.incident:
            brand = next(b for b in s.brands if b.name == s.incident_brand)
            incident, critic_post, critic = self._incident(brand, drafts)
        for number, draft in enumerate(drafts):
            draft.seq = number
            draft.t = round(draft.t, 3)
        drafts.sort(key=lambda d: (d.t, d.seq))
        width = max(5, len(str(len(drafts))))
        for index, draft in enumerate(drafts):
            draft.id = f"{s.id_prefix}:{s.seed}:{index:0{width}d}"
        mentions = [self._mention(draft) for draft in drafts]
        return _Generated(
            mentions=mentions,
            incident_ids=frozenset(d.id for d in incident),
            critic_id=critic_post.id if critic_post else None,
            critic=critic,
            rates=rates,
        )

    def _url(self, draft: _Draft) -> str:
        handle, number = draft.author.handle, draft.id.rsplit(":", 1)[-1]
        if draft.source == "bluesky":
            return f"https://bsky.example/profile/{handle}/post/{number}"
        if draft.source == "mastodon":
            return f"https://mastodon.example/@{handle}/{number}"
        if draft.source == "reddit":
            root = draft.parent or draft
            root_number = root.id.rsplit(":", 1)[-1]
            url = f"https://reddit.example/r/{_SUBREDDIT[root.lang]}/comments/{root_number}"
            return url if draft.parent is None else f"{url}/c/{number}"
        return f"https://blog.example/{handle}/{number}"

    def _mention(self, draft: _Draft) -> Mention:
        s = self.s
        when = s.start + timedelta(seconds=draft.t)
        if draft.parent is None:
            kind = "post"
        else:
            kind = "comment" if draft.source in ("reddit", "blog") else "reply"
        author = draft.author
        return Mention(
            id=draft.id,
            source=draft.source,
            url=self._url(draft),
            text=draft.text,
            author={
                "handle": author.handle,
                "display_name": author.display_name,
                "followers": author.followers,
                "profile_url": _PROFILE_URL[draft.source].format(handle=author.handle),
            },
            published_at=when,
            parent_id=draft.parent.id if draft.parent else None,
            kind=kind,
            engagement={"likes": draft.likes, "shares": draft.shares, "replies": draft.children, "views": draft.views},
            raw={
                "scenario": {
                    "seed": s.seed,
                    "brand": draft.brand,
                    "lang": draft.lang,
                    "tone": draft.tone,
                    "role": draft.role,
                    "incident": draft.role in ("incident", "critic", "critic_reply"),
                }
            },
        )
