"""A scripted, realistic mention stream for tests and the demo: quiet chatter, then an incident.

Unlike :mod:`streams.sources.generate` (volume and shape for load tests), a :class:`Scenario` tells a
story that the alerting must notice:

* **Baseline.** Several (invented) brands are talked about at a steady rate (each brand gets a rate
  drawn from ``rate_per_minute``, default 2-5 mentions a minute, as a Poisson process), in Danish,
  Norwegian Bokmål and Nynorsk, Swedish and English, each brand with its own language mix. Most
  mentions are neutral, some mildly positive or mildly negative (about 55/25/20). Authors come from
  per-language pools with recurring handles and Pareto-distributed follower counts; about a quarter of
  the mentions are comments/replies to an earlier post about the same brand (``parent_id``), and posts
  carry engagement counts (``replies`` is the number of replies the scenario really contains). A little
  look-alike noise ("nordlys" the aurora, "hygge" and coffee) that matches no brand's query is mixed in.
* **Incident.** At ``incident_at_minute`` one brand gets a burst of ``burst_size`` clearly negative
  mentions within ``burst_minutes`` (default 60 in 2 minutes), in several languages, with crisis
  keywords (boykot/boikott/bojkott, tilbagekald/tilbakekalling/återkallelse/recall, skandale/skandal/
  scandal). Early in the burst one highly influential critic (about 500,000 followers, a recognisable
  handle such as ``forbrukerkrigeren``) posts a damning mention, and about a third of the burst are
  replies to it.

Everything is reproducible from ``seed`` (the default ``start`` is fixed, too). Each mention's ``raw``
carries the ground truth under ``raw["scenario"]`` (brand, tone, role, incident), which the worker
keeps but does not index (``raw`` is stored, not mapped).

Usage::

    scenario = Scenario(seed=7)
    mentions = scenario.mentions()                 # sorted by published_at, timezone-aware
    start, end = scenario.incident_window()
    write_jsonl(mentions, "scenario.jsonl")        # for `lytter ingest jsonl` and friends
    watch = scenario.watch_config()                # brands + queries + crisis keywords, for the watch YAML
    await replay(mentions, producer_send, speed=60, restamp=True)   # an hour in a minute, in live time

or from a shell: ``python -m streams.sources.scenario scenario.jsonl --seed 7 --watch watch.yaml``.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import math
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from streams.schema import LANGUAGES, Mention

__all__ = [
    "BRANDS",
    "CRISIS_KEYWORDS",
    "DEFAULT_START",
    "BrandProfile",
    "Critic",
    "Scenario",
    "replay",
    "write_jsonl",
]

#: The default start: fixed, so that a seed alone determines the scenario.
DEFAULT_START = datetime(2025, 1, 15, 8, 0, tzinfo=timezone.utc)

TONES = ("neutral", "positive", "negative")
#: Share of neutral / mildly positive / mildly negative baseline mentions.
TONE_WEIGHTS = (0.55, 0.25, 0.20)

# --------------------------------------------------------------------------------------------------
# brands


@dataclass(frozen=True)
class BrandProfile:
    """A brand the scenario talks about.

    ``query`` is a watch query in :mod:`streams.query` syntax that finds every mention the scenario
    writes about the brand (and none of the others). ``topics`` are things people talk about, per
    language, in the form that fits "... with {topic} at {brand}" (definite nouns). ``product`` is the
    plural, definite thing that the incident is about (what gets recalled).
    """

    name: str
    query: str
    handle: str  # the brand's own account, without "@"; people tag it
    languages: Mapping[str, float]
    topics: Mapping[str, Sequence[str]]
    product: Mapping[str, str]

    @classmethod
    def simple(cls, name: str, languages: Mapping[str, float] | None = None) -> "BrandProfile":
        """A brand with generic topics, for names not in :data:`BRANDS`."""
        compact = "".join(ch for ch in name.lower() if ch.isalnum())
        if not compact:
            raise ValueError(f"brand name {name!r} has no letters or digits")
        query = f'"{name}*" OR {compact}*' if " " in name.strip() else f"{compact}*"
        return cls(
            name=name,
            query=query,
            handle=compact,
            languages=dict(languages or {"da": 0.25, "nb": 0.25, "nn": 0.05, "sv": 0.25, "en": 0.2}),
            topics=_GENERIC_TOPICS,
            product=_GENERIC_PRODUCT,
        )

    def main_language(self) -> str:
        return max(self.languages.items(), key=lambda kv: (kv[1], kv[0]))[0]


_GENERIC_TOPICS = {
    "da": ["appen", "kundeservicen", "priserne", "hjemmesiden"],
    "nb": ["appen", "kundeservicen", "prisene", "nettsiden"],
    "nn": ["appen", "kundeservicen", "prisane", "nettsida"],
    "sv": ["appen", "kundtjänsten", "priserna", "hemsidan"],
    "en": ["the app", "customer service", "the pricing", "the website"],
}
_GENERIC_PRODUCT = {"da": "produkterne", "nb": "produktene", "nn": "produkta", "sv": "produkterna", "en": "products"}

BRANDS: dict[str, BrandProfile] = {
    brand.name: brand
    for brand in (
        BrandProfile(
            name="Nordlys Energi",
            query='"Nordlys Energi*" OR nordlysenergi*',
            handle="nordlysenergi",
            languages={"nb": 0.45, "nn": 0.10, "da": 0.15, "sv": 0.15, "en": 0.15},
            topics={
                "da": ["appen", "elregningen", "strømprisen", "kundeservicen", "ladeboksen"],
                "nb": ["appen", "strømregningen", "strømprisen", "kundeservicen", "ladeboksen"],
                "nn": ["appen", "straumrekninga", "straumprisen", "kundeservicen", "ladeboksen"],
                "sv": ["appen", "elräkningen", "elpriset", "kundtjänsten", "laddboxen"],
                "en": ["the app", "the electricity bill", "the spot price plan", "customer service", "the home charger"],
            },
            product={"da": "ladeboksene", "nb": "ladeboksene", "nn": "ladeboksane", "sv": "laddboxarna", "en": "home chargers"},
        ),
        BrandProfile(
            name="Fjordbank",
            query="fjordbank* NOT fjordbankveien",
            handle="fjordbank",
            languages={"nb": 0.50, "nn": 0.20, "da": 0.10, "sv": 0.10, "en": 0.10},
            topics={
                "da": ["netbanken", "renten", "appen", "rådgivningen", "gebyrerne"],
                "nb": ["nettbanken", "renta", "appen", "rådgivningen", "gebyrene"],
                "nn": ["nettbanken", "renta", "appen", "rådgjevinga", "gebyra"],
                "sv": ["internetbanken", "räntan", "appen", "rådgivningen", "avgifterna"],
                "en": ["online banking", "the app", "the savings account", "the card service", "the login"],
            },
            product={"da": "betalingskortene", "nb": "betalingskortene", "nn": "betalingskorta", "sv": "bankkorten", "en": "debit cards"},
        ),
        BrandProfile(
            name="Skandi Air",
            query='"Skandi Air*" OR skandiair*',
            handle="skandiair",
            languages={"da": 0.25, "nb": 0.25, "nn": 0.05, "sv": 0.25, "en": 0.20},
            topics={
                "da": ["appen", "indtjekningen", "bagagehåndteringen", "kabinepersonalet", "bonusprogrammet"],
                "nb": ["appen", "innsjekkingen", "bagasjehåndteringen", "kabinpersonalet", "bonusprogrammet"],
                "nn": ["appen", "innsjekkinga", "bagasjehandteringa", "kabinpersonalet", "bonusprogrammet"],
                "sv": ["appen", "incheckningen", "bagagehanteringen", "kabinpersonalen", "bonusprogrammet"],
                "en": ["the app", "check-in", "baggage handling", "the cabin service", "the loyalty programme"],
            },
            product={"da": "barnesæderne", "nb": "barnesetene", "nn": "barnesetene", "sv": "barnstolarna", "en": "child seats"},
        ),
        BrandProfile(
            name="Hygge Kaffe",
            query='"Hygge Kaffe*" OR hyggekaffe*',
            handle="hyggekaffe",
            languages={"da": 0.55, "sv": 0.15, "nb": 0.15, "nn": 0.05, "en": 0.10},
            topics={
                "da": ["kaffen", "appen", "caféen i Aarhus", "klippekortet", "kaffeabonnementet"],
                "nb": ["kaffen", "appen", "kafeen på Grünerløkka", "klippekortet", "kaffeabonnementet"],
                "nn": ["kaffien", "appen", "kafeen i Bergen", "klippekortet", "kaffiabonnementet"],
                "sv": ["kaffet", "appen", "kaféet på Södermalm", "klippkortet", "kaffeprenumerationen"],
                "en": ["the coffee", "the app", "the Aarhus café", "the loyalty card", "the coffee subscription"],
            },
            product={"da": "kaffekapslerne", "nb": "kaffekapslene", "nn": "kaffikapslane", "sv": "kaffekapslarna", "en": "coffee pods"},
        ),
    )
}

#: Crisis keywords per language, as query terms (trailing * = any ending).
CRISIS_KEYWORDS: dict[str, list[str]] = {
    "da": ["boykot*", "tilbagekald*", "skandal*"],
    "nb": ["boikott*", "tilbakekal*", "skandal*"],
    "nn": ["boikott*", "tilbakekal*", "skandal*"],
    "sv": ["bojkott*", "återkall*", "skandal*"],
    "en": ["boycott*", "recall*", "scandal*"],
}

# --------------------------------------------------------------------------------------------------
# texts: {b} brand, {h} @brand handle, {t} topic, {p} incident product, {c} @critic

_BASELINE: dict[str, dict[str, list[str]]] = {
    "da": {
        "neutral": [
            "Er der nogen, der ved, om {b} har ændret noget ved {t}?",
            "Har I også fået en mail fra {b} om {t}?",
            "Skiftede til {b} i sidste måned. Indtil videre ingen overraskelser.",
            "Læste en artikel om {b} i morges, ret interessant.",
            "Hvad er jeres erfaringer med {b}? Overvejer at skifte.",
            "{b} har vist opdateret {t} i nat.",
            "Nogen der har prøvet {t} hos {b}?",
            "Så en reklame for {b} i tv i går aftes.",
        ],
        "positive": [
            "Stor ros til {b}, {t} fungerer rigtig godt.",
            "Positivt overrasket over {b} i dag 👍",
            "Hurtigt og venligt svar fra {b}. Sådan skal det være.",
            "Må sige, at {t} hos {b} er blevet meget bedre.",
            "Glad for, at jeg skiftede til {b}.",
            "Tak til {h} for hjælpen i dag!",
        ],
        "negative": [
            "Lidt træt af {b} lige nu, {t} driller igen.",
            "Hvorfor skal det altid være så besværligt med {t} hos {b}?",
            "Har ventet 40 minutter i telefonkø hos {b}. Seriøst?",
            "Ikke imponeret over {b} denne gang.",
            "{h} hvornår bliver der gjort noget ved {t}? Det virker stadig ikke.",
            "Overvejer at skifte fra {b}. Det er simpelthen for dyrt.",
        ],
    },
    "nb": {
        "neutral": [
            "Noen som vet om {b} har endret noe med {t}?",
            "Fikk akkurat en e-post fra {b} om {t}. Noen andre?",
            "Byttet til {b} forrige måned. Så langt ingen overraskelser.",
            "Leste en sak om {b} i morges, ganske interessant.",
            "Hva er erfaringene deres med {b}? Vurderer å bytte.",
            "{b} har visst oppdatert {t} i natt.",
            "Har noen prøvd {t} hos {b}?",
        ],
        "positive": [
            "Stor takk til {b}, {t} fungerer veldig bra.",
            "Positivt overrasket over {b} i dag 👍",
            "Raskt og hyggelig svar fra {b}. Sånn skal det være.",
            "Må si at {t} hos {b} har blitt mye bedre.",
            "Glad for at jeg byttet til {b}.",
            "Takk for hjelpen i dag, {h}!",
        ],
        "negative": [
            "Litt lei av {b} nå, {t} krøller seg igjen.",
            "Hvorfor må det alltid være så tungvint med {t} hos {b}?",
            "Har ventet 40 minutter i telefonkø hos {b}. Seriøst?",
            "Ikke imponert over {b} denne gangen.",
            "{h} når blir det gjort noe med {t}? Det virker fortsatt ikke.",
            "Vurderer å bytte fra {b}. Det er rett og slett for dyrt.",
        ],
    },
    "nn": {
        "neutral": [
            "Er det nokon som veit om {b} har endra noko med {t}?",
            "Fekk nettopp ein e-post frå {b} om {t}.",
            "Bytte til {b} førre månad. Så langt ingen overraskingar.",
            "Las ei sak om {b} i dag tidleg.",
            "Kva erfaringar har de med {b}?",
        ],
        "positive": [
            "Stor takk til {b}, {t} fungerer veldig bra.",
            "Eg er heilt nøgd med {b}, dei svara med ein gong.",
            "Må seie at {t} hos {b} har vorte mykje betre.",
        ],
        "negative": [
            "Kvifor må det alltid vere så tungvint med {t} hos {b}?",
            "Dette var ikkje bra av {b}. Eg har venta i telefonkø i ein halvtime.",
            "{h} når blir det gjort noko med {t}? Det verkar framleis ikkje.",
        ],
    },
    "sv": {
        "neutral": [
            "Vet någon om {b} har ändrat något med {t}?",
            "Fick precis ett mejl från {b} om {t}. Någon mer?",
            "Bytte till {b} förra månaden. Inga överraskningar hittills.",
            "Läste en artikel om {b} i morse, ganska intressant.",
            "Vad har ni för erfarenheter av {b}? Funderar på att byta.",
            "{b} har visst uppdaterat {t} i natt.",
        ],
        "positive": [
            "Stort tack till {b}, {t} funkar riktigt bra.",
            "Positivt överraskad av {b} idag 👍",
            "Snabbt och trevligt svar från {b}. Så ska det vara.",
            "Måste säga att {t} hos {b} har blivit mycket bättre.",
            "Tack för hjälpen idag, {h}!",
        ],
        "negative": [
            "Lite trött på {b} just nu, {t} krånglar igen.",
            "Varför ska det alltid vara så krångligt med {t} hos {b}?",
            "Har väntat 40 minuter i telefonkö hos {b}. Allvarligt?",
            "Inte imponerad av {b} den här gången.",
            "{h} när fixar ni {t}? Det funkar fortfarande inte.",
        ],
    },
    "en": {
        "neutral": [
            "Does anyone know if {b} changed something with {t}?",
            "Just got an email from {b} about {t}. Anyone else?",
            "Switched to {b} last month. No surprises so far.",
            "Read a piece about {b} this morning, pretty interesting.",
            "What's your experience with {b}? Thinking about switching.",
        ],
        "positive": [
            "Big thanks to {b}, {t} works really well.",
            "Pleasantly surprised by {b} today 👍",
            "Quick and friendly reply from {b}. That's how it should be.",
            "Have to say {t} at {b} has improved a lot.",
            "Thanks for the help today, {h}!",
        ],
        "negative": [
            "A bit tired of {b} right now, {t} is acting up again.",
            "Why is {t} at {b} always such a hassle?",
            "Been on hold with {b} for 40 minutes. Seriously?",
            "Not impressed with {b} this time.",
            "{h} when will you fix {t}? Still not working.",
        ],
    },
}

_REPLIES: dict[str, dict[str, list[str]]] = {
    "da": {
        "neutral": ["Samme spørgsmål her om {b}.", "Har du prøvet at skrive til {h}?", "Det har jeg også undret mig over med {b}."],
        "positive": ["Enig, {b} er faktisk ret gode.", "Helt enig! {b} har styr på det 👍"],
        "negative": ["Samme oplevelse med {b} her, desværre.", "Ja, {b} er virkelig irriterende for tiden."],
    },
    "nb": {
        "neutral": ["Lurer på det samme om {b}.", "Har du prøvd å sende melding til {h}?", "Samme spørsmål her, {b}?"],
        "positive": ["Enig, {b} er faktisk ganske bra.", "Helt enig, {b} har blitt bedre 👍"],
        "negative": ["Samme opplevelse med {b} her, dessverre.", "Ja, {b} er skikkelig irriterende for tida."],
    },
    "nn": {
        "neutral": ["Lurer på det same om {b}.", "Har du prøvd å sende melding til {h}?"],
        "positive": ["Einig, {b} er faktisk ganske bra."],
        "negative": ["Same oppleving med {b} her, dessverre."],
    },
    "sv": {
        "neutral": ["Undrar samma sak om {b}.", "Har du testat att skriva till {h}?"],
        "positive": ["Håller med, {b} är faktiskt rätt bra.", "Instämmer, {b} har blivit bättre 👍"],
        "negative": ["Samma upplevelse med {b} här, tyvärr.", "Ja, {b} är verkligen irriterande just nu."],
    },
    "en": {
        "neutral": ["Wondering the same about {b}.", "Have you tried messaging {h}?"],
        "positive": ["Agreed, {b} is actually pretty good.", "Same, {b} has really improved 👍"],
        "negative": ["Same experience with {b} here, unfortunately.", "Yeah, {b} has been really annoying lately."],
    },
}

_INCIDENT: dict[str, list[str]] = {
    "da": [
        "Skandale! {b} vidste godt, at {p} var farlige, og solgte dem alligevel. Boykot {b} nu.",
        "{b} må tilbagekalde {p} med det samme. Det her er en skandale.",
        "Jeg boykotter {b} fra i dag. Hvordan kan man være så ligeglad med sine kunder?",
        "Hvorfor har {b} ikke tilbagekaldt {p} endnu? Skandaløst. {h}",
        "Så nyhederne om {p} fra {b}. Boykot, indtil de tager ansvar.",
        "Tilbagekald {p} NU, {h}! Folk kunne være kommet til skade.",
    ],
    "nb": [
        "For en skandale. {b} visste at {p} var farlige, og solgte dem likevel. Boikott {b}!",
        "{b} må starte tilbakekalling av {p} i dag, ikke neste uke.",
        "Jeg boikotter {b} fra nå av. Helt uakseptabelt.",
        "Hvorfor har ikke {b} tilbakekalt {p} ennå? Skandale. {h}",
        "Sier opp avtalen med {b} i dag. Boikott til de tar ansvar.",
        "{h} dere må tilbakekalle {p} NÅ. Folk kunne blitt skadet.",
    ],
    "nn": [
        "Skandale! {b} visste at {p} var farlege, og selde dei likevel. Boikott {b}!",
        "Kvifor har ikkje {b} starta tilbakekalling av {p}? Dette er ein skandale.",
        "Eg boikottar {b} frå i dag. {h} må ta ansvar.",
    ],
    "sv": [
        "Vilken skandal. {b} visste att {p} var farliga och sålde dem ändå. Bojkotta {b}!",
        "{b} måste göra en återkallelse av {p} direkt.",
        "Jag bojkottar {b} från och med idag. Helt oacceptabelt.",
        "Varför har {b} inte återkallat {p} än? Skandal. {h}",
    ],
    "en": [
        "What a scandal. {b} knew the {p} were dangerous and kept selling them. Boycott {b}.",
        "{b} needs to issue a recall of the {p} today, not next week.",
        "I'm boycotting {b} until they take responsibility. {h}",
        "Why hasn't {b} recalled the {p} yet? This is a scandal.",
    ],
}

_CRITIC_POST = {
    "da": "Jeg har set dokumenterne: {b} har kendt til problemerne med {p} i månedsvis uden at sige noget. Det er en skandale. Kræv en tilbagekaldelse nu, og indtil da: boykot {b}. Del gerne. {h}",
    "nb": "Jeg har sett dokumentene: {b} har visst om problemene med {p} i månedsvis uten å si fra. Dette er en skandale. Krev tilbakekalling nå, og inntil da: boikott {b}. Del gjerne. {h}",
    "nn": "Eg har sett dokumenta: {b} har visst om problema med {p} i fleire månader utan å seie frå. Dette er ein skandale. Krev tilbakekalling no, og fram til då: boikott {b}. Del gjerne. {h}",
    "sv": "Jag har sett dokumenten: {b} har känt till problemen med {p} i månader utan att säga något. Det här är en skandal. Kräv en återkallelse nu, och tills dess: bojkotta {b}. Dela gärna. {h}",
    "en": "I've seen the documents: {b} has known about the problems with the {p} for months and said nothing. This is a scandal. Demand a recall now, and until then: boycott {b}. Please share. {h}",
}

_CRITIC_REPLIES = {
    "da": [
        "{c} Tak, fordi du siger det højt. Boykot {b}!",
        "{c} Utroligt. Jeg har en af {p} derhjemme, {h} hvad gør jeg nu?",
        "{c} Delt. {b} skal tilbagekalde dem nu.",
        "{c} Skandaløst af {b}. Jeg skifter i dag.",
    ],
    "nb": [
        "{c} Takk for at du sier fra. Boikott {b} til de rydder opp!",
        "{c} Helt sjokkerende. Jeg har en av {p} i garasjen, {h} hva gjør jeg nå?",
        "{c} Delt! {b} må ta ansvar og starte tilbakekalling.",
        "{c} Jeg bytter fra {b} i dag. Skandale.",
    ],
    "nn": [
        "{c} Takk for at du seier frå. Boikott {b}!",
        "{c} Heilt sjokkerande. {h} kva gjer eg no med {p}? Dette er ein skandale.",
    ],
    "sv": [
        "{c} Tack för att du säger som det är. Bojkotta {b}!",
        "{c} Helt sjukt. Jag har en av {p} hemma, {h} vad gör jag nu? Skandal.",
    ],
    "en": [
        "{c} Thanks for speaking up. Boycott {b} until they fix this.",
        "{c} Shocking. I have one of those {p} at home, {h} what now? Scandal.",
    ],
}

_NOISE = {
    "da": ["Fantastisk nordlys over Skagen i nat ✨", "Hygge med kaffe og kage i aften ☕", "Nogen der kan anbefale en god bank i Aarhus?", "Flyet til Kastrup var 20 minutter forsinket, men ellers fin tur."],
    "nb": ["Nordlyset danser over Tromsø i kveld 😍", "Kaffe og hygge på hytta, bedre blir det ikke.", "Fjorden er helt blank i dag.", "Strømprisen er helt sprø denne vinteren."],
    "nn": ["Nordlyset var heilt magisk i natt.", "Kaffi på trappa og utsikt over fjorden."],
    "sv": ["Såg norrsken i natt, helt magiskt!", "Fika och hygge hela söndagen ☕", "Elpriset i SE4 är helt galet igen."],
    "en": ["Caught the northern lights in Tromsø last night, unreal.", "Nothing beats a bit of hygge and good coffee on a Sunday.", "Energy prices in Norway are wild this winter."],
}

_INCIDENT_OPENERS = {
    "da": ["", "", "", "Seriøst. ", "Wow. ", "Nej altså. "],
    "nb": ["", "", "", "Seriøst. ", "Wow. ", "Altså. "],
    "nn": ["", "", "", "Seriøst. ", "Nei, no. "],
    "sv": ["", "", "", "Allvarligt. ", "Wow. ", "Alltså. "],
    "en": ["", "", "", "Seriously. ", "Wow. ", "Unbelievable. "],
}
_HASHTAGS = {"da": "#boykot", "nb": "#boikott", "nn": "#boikott", "sv": "#bojkott", "en": "#boycott"}
_SUFFIX = {"neutral": ["", "", "", " 🤔"], "positive": ["", "", " 🙌", " ☺️"], "negative": ["", "", " 😤", " 🙄"]}

# --------------------------------------------------------------------------------------------------
# people


@dataclass(frozen=True)
class Critic:
    """The influential critic of the incident."""

    handle: str
    display_name: str
    followers: int
    lang: str


_CRITICS = {
    "nb": ("forbrukerkrigeren", "Ingrid Vold | Forbrukerkrigeren"),
    "nn": ("forbrukerkrigeren", "Ingrid Vold | Forbrukerkrigeren"),
    "da": ("forbrugsvagten", "Mette Holm | Forbrugsvagten"),
    "sv": ("konsumentkollen", "Sara Lind | Konsumentkollen"),
    "en": ("nordicconsumerwatch", "Nordic Consumer Watch"),
}

_FIRST_NAMES = {
    "da": ["mette", "lars", "sofie", "anders", "camilla", "jens", "ida", "mikkel", "line", "rasmus", "freja", "søren", "emma", "kasper", "louise"],
    "nb": ["kari", "ola", "ingrid", "lars", "nora", "henrik", "silje", "magnus", "ida", "erik", "marte", "jonas", "thea", "sindre", "hanne"],
    "nn": ["ragnhild", "olav", "sigrid", "torleif", "kjersti", "eirik", "solveig", "halvard", "gro", "aslak"],
    "sv": ["anna", "erik", "maja", "johan", "elin", "oskar", "sara", "karl", "linnea", "anders", "frida", "viktor", "klara", "emil", "ebba"],
    "en": ["james", "emily", "tom", "sarah", "daniel", "laura", "chris", "hannah", "mark", "olivia", "ben", "grace"],
}
_HANDLE_SUFFIX = {
    "da": ["_dk", "_cph", "_aarhus", "88", "1990", "_j", "hansen", "nielsen", "_odense"],
    "nb": ["_no", "_osl", "_bgo", "87", "1992", "_t", "hansen", "berg", "_trd"],
    "nn": ["_vestland", "_voss", "85", "_s", "haugen", "_sogn", "1979"],
    "sv": ["_se", "_sthlm", "_gbg", "91", "1989", "_l", "andersson", "lind", "_malmo"],
    "en": ["_uk", "_travels", "83", "_writes", "smith", "_nordic", "1995"],
}
_SURNAMES = {
    "da": ["Hansen", "Nielsen", "Jensen", "Pedersen", "Larsen", "Sørensen"],
    "nb": ["Hansen", "Johansen", "Olsen", "Berg", "Haugen", "Bakke"],
    "nn": ["Haugen", "Vik", "Myklebust", "Hauge", "Løvik"],
    "sv": ["Andersson", "Johansson", "Lind", "Karlsson", "Nilsson", "Berg"],
    "en": ["Smith", "Jones", "Taylor", "Brown", "Walker", "Wilson"],
}

_SOURCES = ("bluesky", "mastodon", "reddit", "blog")
_SOURCE_WEIGHTS = (0.40, 0.25, 0.25, 0.10)
_PROFILE_URL = {
    "bluesky": "https://bsky.example/profile/{handle}",
    "mastodon": "https://mastodon.example/@{handle}",
    "reddit": "https://reddit.example/user/{handle}",
    "blog": "https://blog.example/{handle}",
}
_SUBREDDIT = {"da": "Denmark", "nb": "norge", "nn": "norge", "sv": "sweden", "en": "Scandinavia"}


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


# --------------------------------------------------------------------------------------------------
# replay and files


async def replay(
    mentions: Iterable[Mention],
    publish: Callable[[Mention], Awaitable[Any] | Any],
    speed: float = 1.0,
    *,
    restamp: bool = False,
    now: datetime | None = None,
) -> int:
    """Publish ``mentions`` in ``published_at`` order, keeping their rhythm; return how many were published.

    Timing: the first mention goes out at once; each later one ``(its published_at - the first's) / speed``
    seconds after the replay started (``speed=60``: an hour in a minute). The schedule is absolute, so a
    slow ``publish`` does not accumulate drift (a late mention is published at once). ``speed=0``: as fast
    as ``publish`` allows (the loop is still yielded to between mentions).

    ``publish`` may be a plain function or a coroutine function (it is awaited).

    ``restamp=True`` rewrites ``published_at`` so that time windows downstream see live time:

    * ``speed > 0``: each mention is stamped with the wall-clock time it is scheduled to be published,
      i.e. ``now + (published_at - first published_at) / speed`` (a 2-minute burst replayed at speed 60
      arrives, and is stamped, within 2 seconds).
    * ``speed == 0``: the whole scenario is shifted, spacing unchanged, so that its last mention is
      stamped ``now`` (the scenario "just happened"; for back-filling a live dashboard).

    ``now`` (timezone-aware) defaults to the current UTC time; the mentions given are not modified.
    """
    if speed < 0 or speed != speed or math.isinf(speed):
        raise ValueError("speed must be a finite number >= 0 (0 = as fast as possible)")
    ordered = sorted(mentions, key=lambda m: m.published_at)
    if not ordered:
        return 0
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    first = ordered[0].published_at
    last = ordered[-1].published_at
    loop = asyncio.get_running_loop()
    began = loop.time()
    published = 0
    for mention in ordered:
        offset = (mention.published_at - first).total_seconds()
        if speed > 0:
            wait = began + offset / speed - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                await asyncio.sleep(0)
        else:
            await asyncio.sleep(0)
        if restamp:
            stamp = now + timedelta(seconds=offset / speed) if speed > 0 else mention.published_at + (now - last)
            mention = mention.model_copy(update={"published_at": stamp})
        result = publish(mention)
        if inspect.isawaitable(result):
            await result
        published += 1
    return published


def write_jsonl(mentions: Iterable[Mention], path: str | Path) -> int:
    """Write one mention per line (the wire JSON, ``exclude_none``), UTF-8; return the number of lines."""
    count = 0
    with Path(path).open("wb") as fh:
        for mention in mentions:
            fh.write(mention.to_json_bytes())
            fh.write(b"\n")
            count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streams.sources.scenario", description="Write a scenario's mentions as JSONL.")
    parser.add_argument("output", type=Path, help="JSONL file to write")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the scenario (baseline_minutes)")
    parser.add_argument("--incident-brand", default="Nordlys Energi")
    parser.add_argument("--incident-at", type=float, default=40.0, help="minute the incident starts; negative: no incident")
    parser.add_argument("--burst-size", type=int, default=60)
    parser.add_argument("--start", type=datetime.fromisoformat, default=None, help="ISO start time with offset (default: fixed)")
    parser.add_argument("--watch", type=Path, default=None, help="also write the brand-watch config (YAML) here")
    args = parser.parse_args(argv)
    incident_at = None if args.incident_at < 0 else args.incident_at
    scenario = Scenario(
        seed=args.seed,
        baseline_minutes=args.minutes,
        incident_brand=args.incident_brand,
        incident_at_minute=incident_at,
        burst_size=args.burst_size,
        start=args.start,
    )
    count = write_jsonl(scenario.mentions(), args.output)
    print(f"wrote {count} mentions to {args.output}")
    if window := scenario.incident_window():
        print(f"incident for {scenario.incident_brand}: {window[0].isoformat()} .. {window[1].isoformat()} ({len(scenario.incident_mention_ids())} mentions)")
    if args.watch:
        import yaml

        args.watch.write_text(yaml.safe_dump(scenario.watch_config(), allow_unicode=True, sort_keys=False), encoding="utf-8")
        print(f"wrote the watch config to {args.watch}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
