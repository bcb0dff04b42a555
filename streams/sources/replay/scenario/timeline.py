"""When who writes what: the generator behind :class:`~streams.sources.replay.scenario.Scenario`.

Baseline chatter per brand (a Poisson process, replies to recent posts, questions addressed to the
brand and its answers, reposts), look-alike noise, and the incident (the burst with its copy-paste
campaign and questions, the critic's post, the replies to it, the brand's statement); then ids in time
order and the mentions.
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
    _BRAND_REPLIES,
    _BRAND_STATEMENT,
    _COPY_PASTE,
    _COPY_PREFIX,
    _CRITIC_POST,
    _CRITIC_REPLIES,
    _CRITICS,
    _FIRST_NAMES,
    _HANDLE_SUFFIX,
    _HASHTAGS,
    _INCIDENT,
    _INCIDENT_OPENERS,
    _INCIDENT_QUESTIONS,
    _NOISE,
    _QUESTIONS,
    _QUOTES,
    _REPLIES,
    _REPOSTS,
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
        self.accounts = {
            (brand.name, source): _Author(account, brand.name, int(self.rng.uniform(3_000, 30_000)), brand.main_language())
            for brand in scenario.brands
            for source in _SOURCES
            if (account := brand.account(source)) is not None
        }

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

    def _fill(self, template: str, brand: BrandProfile | None, lang: str, critic: str = "", source: str = "", asker: str = "") -> str:
        rng = self.rng
        values: dict[str, str] = {"c": f"@{critic}" if critic else "", "a": f"@{asker}" if asker else ""}
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
                "H": brand.tag(source),
            }
        text = template.format(**values)
        keep = text.startswith(("@", "u/"))  # a handle is written as the account spells it
        return text[0].upper() + text[1:] if text[0].islower() and not keep else text

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
            elif tone != "positive" and rng.random() < s.question_share and self._owned_sources(brand):
                draft = self._question(brand, t, tone, drafts)
                posts.append(draft)
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
        self._backlog_question(brand, drafts)
        self._reposts(posts, drafts)
        return rate

    def _backlog_question(self, brand: BrandProfile, drafts: list[_Draft]) -> None:
        """One question before the brand's team is online, so each brand has an overdue item by the end."""
        s = self.s
        if s.question_share <= 0 or not self._owned_sources(brand) or s.support_online_at_minute < 2:
            return
        t = 60.0 * self.rng.uniform(1.0, min(s.support_online_at_minute, s.baseline_minutes) - 1.0)
        tone = self.rng.choice(("neutral", "negative"))
        draft = self._question(brand, t, tone, drafts)
        self._engagement(draft)
        drafts.append(draft)

    # the answer loop

    def _owned_sources(self, brand: BrandProfile) -> list[str]:
        return [source for source in _SOURCES if (brand.name, source) in self.accounts]

    def _question(self, brand: BrandProfile, t: float, tone: str, drafts: list[_Draft]) -> _Draft:
        """A post addressed to the brand's account (on a source where it has one); maybe answered."""
        rng = self.rng
        sources = self._owned_sources(brand)
        source = rng.choices(sources, weights=[_SOURCE_WEIGHTS[_SOURCES.index(x)] for x in sources])[0]
        intent = "complaint" if tone == "negative" else rng.choices(("question", "request"), weights=(0.7, 0.3))[0]
        lang = self._lang(brand)
        text = self._fill(rng.choice(_QUESTIONS[lang][intent]), brand, lang, source=source)
        draft = _Draft(t, lang, text, self._author(lang), source, tone, "question", brand.name, intent=intent)
        self._maybe_answer(brand, draft, rng.choice(_BRAND_REPLIES[lang]), self.s.reply_delay_minutes, drafts)
        return draft

    def _maybe_answer(self, brand: BrandProfile, question: _Draft, template: str, delay_minutes: tuple[float, float],
                      drafts: list[_Draft], share: float | None = None) -> None:
        """The brand's account answers ``question`` after a delay: only once its team is online
        (``support_online_at_minute``), with probability ``share`` (default ``answer_share``), and only
        if the answer still falls inside the scenario. Random numbers are drawn either way, so one
        question's fate does not shift the rest of the scenario."""
        rng, s = self.rng, self.s
        answered = rng.random() < (s.answer_share if share is None else share)
        delay = 60.0 * rng.uniform(*delay_minutes)
        account = self.accounts.get((brand.name, question.source))
        at = question.t + delay
        if not answered or account is None or question.t < 60.0 * s.support_online_at_minute or at >= 60.0 * s.baseline_minutes:
            return
        lang = question.lang if question.lang in _BRAND_REPLIES else brand.main_language()
        text = self._fill(template, brand, lang, asker=question.author.handle)
        reply = _Draft(at, lang, text, account, question.source, "neutral", "brand_reply", brand.name, parent=question)
        question.children += 1
        question.answer = reply
        self._engagement(reply)
        drafts.append(reply)

    # stories

    def _reposts(self, posts: list[_Draft], drafts: list[_Draft]) -> None:
        """Some plain posts are passed on: "RT @x: ...", "... via @x" (shares) or quoted with a few words."""
        rng, s = self.rng, self.s
        horizon = s.baseline_minutes * 60.0
        for post in list(posts):
            if post.role != "baseline" or "?" in post.text or rng.random() >= s.repost_share:
                continue
            for _ in range(rng.choice((1, 1, 2, 3))):
                t = post.t + 60.0 * rng.uniform(1.0, 20.0)
                author = self._author(post.lang)
                if t >= horizon or author.handle == post.author.handle:
                    continue
                if rng.random() < 0.6:
                    kind, text = "share", rng.choice(_REPOSTS).format(u=post.author.handle, x=post.text)
                else:
                    kind, text = "quote", rng.choice(_QUOTES[post.lang]).format(x=post.text)
                draft = _Draft(t, post.lang, text, author, post.source, post.tone, "repost", post.brand, kind=kind, story=post)
                self._engagement(draft)
                drafts.append(draft)

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
            critic_t, critic_lang, self._fill(_CRITIC_POST[critic_lang], brand, critic_lang), critic_author, "bluesky", "negative", "critic", brand.name,
            incident=True,
        )
        critic_post.likes = int(followers * rng.uniform(0.008, 0.015))
        critic_post.shares = int(critic_post.likes * rng.uniform(0.15, 0.3))
        critic_post.views = int(followers * rng.uniform(0.5, 0.9))
        incident = [critic_post]

        n_replies = max(1, round((s.burst_size - 1) * 0.35))
        n_posts = s.burst_size - 1 - n_replies
        n_questions = max(1, round(n_posts * 0.1)) if self._owned_sources(brand) and s.question_share > 0 else 0
        n_copies = min(s.copy_paste_size, max(0, n_posts - n_questions - 3), len(self.pools[critic_lang]))
        answers: list[_Draft] = []
        for _ in range(n_posts - n_questions - n_copies):
            # the burst ramps up: more mentions towards the end of the window
            t = begin + length * rng.random() ** 0.7
            t = min(t, end - 0.5)
            lang = self._lang(brand)
            text = rng.choice(_INCIDENT_OPENERS[lang]) + self._fill(rng.choice(_INCIDENT[lang]), brand, lang)
            if rng.random() < 0.25:
                text += f" {_HASHTAGS[lang]}"
            source = rng.choices(_SOURCES, weights=_SOURCE_WEIGHTS)[0]
            draft = _Draft(t, lang, text, self._author(lang), source, "negative", "incident", brand.name, incident=True)
            self._engagement(draft, boost=2.0)
            incident.append(draft)
        incident += self._incident_questions(brand, n_questions, answers)
        incident += self._copy_paste(brand, critic_lang, n_copies)
        for _ in range(n_replies):
            t = critic_t + 2.0 + (end - 0.5 - critic_t - 2.0) * rng.random() ** 0.8
            lang = critic_lang if rng.random() < 0.7 else self._lang(brand)
            text = self._fill(rng.choice(_CRITIC_REPLIES[lang]), brand, lang, critic=handle)
            draft = _Draft(t, lang, text, self._author(lang), critic_post.source, "negative", "critic_reply", brand.name, parent=critic_post, incident=True)
            critic_post.children += 1
            self._engagement(draft, boost=1.5)
            incident.append(draft)
        # the brand's statement to the critic, minutes after the burst (its reply starts with the @critic)
        self._maybe_answer(brand, critic_post, _BRAND_STATEMENT[critic_lang], (4.0, 8.0), answers, share=1.0)
        drafts.extend(incident)
        drafts.extend(answers)
        return incident, critic_post, critic

    def _incident_questions(self, brand: BrandProfile, count: int, answers: list[_Draft]) -> list[_Draft]:
        """Worried customers ask the brand's account what to do; the brand answers about half, later."""
        rng, s = self.rng, self.s
        begin, length = s.incident_at_minute * 60.0, s.burst_minutes * 60.0  # type: ignore[operator]
        sources = self._owned_sources(brand)
        out = []
        for _ in range(count):
            t = min(begin + length * rng.random() ** 0.7, begin + length - 0.5)
            lang = self._lang(brand)
            source = rng.choice(sources)
            text = self._fill(rng.choice(_INCIDENT_QUESTIONS[lang]), brand, lang, source=source)
            draft = _Draft(t, lang, text, self._author(lang), source, "negative", "question", brand.name, incident=True, intent="question")
            self._engagement(draft, boost=2.0)
            self._maybe_answer(brand, draft, _BRAND_STATEMENT[lang], (3.0, 10.0), answers, share=0.5)
            out.append(draft)
        return out

    def _copy_paste(self, brand: BrandProfile, lang: str, count: int) -> list[_Draft]:
        """One complaint posted by ``count`` distinct accounts within the burst, each with a small edit
        (an emoji, a hashtag, a prefix, case, punctuation, a tag): what the campaign flag looks for."""
        rng, s = self.rng, self.s
        if count <= 0:
            return []
        begin, length = s.incident_at_minute * 60.0, s.burst_minutes * 60.0  # type: ignore[operator]
        text = _COPY_PASTE[lang].format(b=brand.name, p=brand.product.get(lang) or _GENERIC_PRODUCT[lang])
        times = sorted(min(begin + length * (0.15 + 0.85 * rng.random()), begin + length - 0.5) for _ in range(count))
        out: list[_Draft] = []
        for t, author in zip(times, rng.sample(self.pools[lang], count)):
            source = rng.choices(_SOURCES, weights=_SOURCE_WEIGHTS)[0]
            copy = text
            for _ in range(rng.choice((0, 1, 1, 2))):
                copy = self._edit_copy(copy, lang, brand, source)
            draft = _Draft(t, lang, copy, author, source, "negative", "copy_paste", brand.name, incident=True, story=out[0] if out else None)
            self._engagement(draft)
            out.append(draft)
        return out

    def _edit_copy(self, text: str, lang: str, brand: BrandProfile, source: str) -> str:
        edit = self.rng.randrange(6)
        if edit == 0:
            return text + " 😡"
        if edit == 1:
            return f"{text} {_HASHTAGS[lang]}"
        if edit == 2:
            return _COPY_PREFIX[lang] + text if not text.startswith(_COPY_PREFIX[lang]) else text
        if edit == 3:
            return text.lower()
        if edit == 4:
            return text.rstrip(".") + "!!!"
        return f"{text} {brand.tag(source)}"

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
            incident_ids=frozenset(d.id for d in incident if d.incident),
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
        if draft.kind is not None:
            kind = draft.kind
        elif draft.parent is None:
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
                    "incident": draft.incident,
                    **self._truth_extras(draft),
                }
            },
        )

    @staticmethod
    def _truth_extras(draft: _Draft) -> dict:
        """The answer loop's and the stories' ground truth: a question's intent and whether (and by which
        mention) the brand answered; the mention a repost or copy repeats."""
        extras: dict = {}
        if draft.role == "question" or draft.role == "critic":
            extras |= {"answered": draft.answer is not None, "answer_id": draft.answer.id if draft.answer else None}
        if draft.intent:
            extras["intent"] = draft.intent
        story = draft.story or (draft if draft.role == "copy_paste" else None)  # the first copy is the original
        if story is not None:
            extras["story"] = story.id
        return extras
