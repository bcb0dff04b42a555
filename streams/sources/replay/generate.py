"""Synthetic mentions for load tests and replays: varied, multilingual, reproducible from a seed.

Not training data and not demo content (that is ``shared/corpus``): the aim is realistic *shape*
(lengths, languages, authors with skewed follower counts, comment threads, engagement) at volume.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Iterator

from streams.schema import Mention

_BRANDS = ["Lego", "Carlsberg", "Telia", "DNB", "IKEA", "SAS", "Volvo", "Spotify", "Vy", "Netto"]
_SENTENCES = {
    "da": [
        "Jeg har lige prøvet den nye app fra {b}, og den virker faktisk rigtig godt.",
        "Kundeservice hos {b} er under al kritik, tre dage uden svar.",
        "{b} åbner en ny butik i Aarhus til foråret.",
        "Hvorfor er der altid kø, når man skal ringe til {b}?",
        "Tak for endnu en forsinkelse, {b} 🙄",
    ],
    "nb": [
        "Endelig har {b} fikset appen, nå funker alt som det skal.",
        "Jeg er så lei av {b} sine skjulte gebyrer.",
        "{b} legger fram kvartalstall på torsdag.",
        "Noen som vet om {b} har åpent i påsken?",
        "Helt rått produkt fra {b}, anbefales!",
    ],
    "nn": [
        "Eg er heilt nøgd med {b}, dei svara med ein gong.",
        "Kvifor må det alltid vere så vanskeleg å få tak i {b}?",
        "{b} opnar nytt kontor i Bergen neste år.",
        "Dette var ikkje bra av {b}, eg kjem ikkje til å handle der igjen.",
    ],
    "sv": [
        "Grymt bra service från {b} idag, tack!",
        "{b} har höjt priserna igen, helt sjukt.",
        "{b} presenterar sin nya strategi på måndag.",
        "Har någon mer problem med inloggningen hos {b}?",
        "Tack för inget {b}, paketet kom aldrig fram.",
    ],
    "en": [
        "Really impressed with the new {b} store in Copenhagen.",
        "{b} customer support has been useless this week.",
        "{b} will publish its annual report on Friday.",
        "Does anyone know if {b} ships to Iceland?",
    ],
}


def generate_mentions(count: int, *, seed: int = 7, start: datetime | None = None, source: str = "synthetic") -> Iterator[Mention]:
    rng = random.Random(seed)
    start = start or datetime.now(timezone.utc) - timedelta(hours=1)
    languages = list(_SENTENCES)
    posts: list[str] = []
    for i in range(count):
        lang = rng.choice(languages)
        brand = rng.choice(_BRANDS)
        text = " ".join(rng.choice(_SENTENCES[lang]).format(b=brand) for _ in range(rng.choice((1, 1, 1, 2, 3))))
        followers = int(rng.paretovariate(1.2) * 50)
        handle = f"user{rng.randrange(count // 5 + 10)}"
        is_comment = posts and rng.random() < 0.3
        yield Mention(
            id=f"{source}:{seed}:{i}",
            source=source,
            url=f"https://example.invalid/{source}/{seed}/{i}",
            text=text,
            author={"handle": handle, "followers": followers},
            published_at=start + timedelta(seconds=i * 0.1),
            kind="comment" if is_comment else "post",
            parent_id=rng.choice(posts[-50:]) if is_comment else None,
            engagement={"likes": int(rng.expovariate(0.2)), "shares": int(rng.expovariate(1.0))},
        )
        if not is_comment:
            posts.append(f"{source}:{seed}:{i}")
