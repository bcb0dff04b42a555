"""The (invented) brands a scenario talks about, and the crisis keywords of its incident."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BrandProfile:
    """A brand the scenario talks about.

    ``query`` is a watch query in :mod:`streams.query` syntax that finds every mention the scenario
    writes about the brand (and none of the others). ``topics`` are things people talk about, per
    language, in the form that fits "... with {topic} at {brand}" (definite nouns). ``product`` is the
    plural, definite thing that the incident is about (what gets recalled).

    ``owned_accounts`` are the brand's own accounts per source, as a watch file lists them (Bluesky: the
    handle and the DID; Mastodon ``@user@instance``), and ``reply`` its reply targets (the watch's
    ``reply`` block); both as in deploy/watch.example.yaml, so the scenario's questions address accounts
    the example watch knows, and the brand answers from them.
    """

    name: str
    query: str
    handle: str  # the brand's own account, without "@"; people tag it
    languages: Mapping[str, float]
    topics: Mapping[str, Sequence[str]]
    product: Mapping[str, str]
    owned_accounts: Mapping[str, Sequence[str]] = field(default_factory=dict)
    reply: Mapping[str, Any] = field(default_factory=dict)

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
            owned_accounts={"bluesky": [f"{compact}.bsky.social"], "mastodon": [f"@{compact}@mastodon.social"]},
            reply={"target_minutes": 60},
        )

    def main_language(self) -> str:
        return max(self.languages.items(), key=lambda kv: (kv[1], kv[0]))[0]

    def account(self, source: str) -> str | None:
        """The brand's account on ``source`` as its posts' author handle (not the DID), or None."""
        for handle in self.owned_accounts.get(source, ()):
            if not handle.startswith("did:"):
                return handle.lstrip("@")
        return None

    def tag(self, source: str) -> str:
        """How people @-mention the brand on ``source``: Bluesky ``@name.bsky.social``, Mastodon
        ``@user@instance``, Reddit ``u/Name``, elsewhere ``@name`` (the forms streams.answer reads)."""
        account = self.account(source)
        if account is None:
            return f"@{self.handle}"
        return f"u/{account}" if source == "reddit" else f"@{account}"


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
            owned_accounts={
                "bluesky": ["nordlysenergi.bsky.social", "did:plc:nordlysenergiexample"],
                "mastodon": ["@nordlysenergi@mastodon.social"],
                "reddit": ["NordlysEnergi"],
                "blog": ["nordlysenergi"],
            },
            reply={"target_minutes": 60, "by_source": {"bluesky": 30, "mastodon": 30}, "by_severity": {"critical": 15}},
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
            owned_accounts={
                "bluesky": ["fjordbank.bsky.social", "did:plc:fjordbankexample"],
                "mastodon": ["@fjordbank@social.example"],
                "reddit": ["Fjordbank"],
            },
            reply={"target_minutes": 120, "by_severity": {"critical": 30}},
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
            owned_accounts={
                "bluesky": ["skandiair.bsky.social", "did:plc:skandiairexample"],
                "mastodon": ["@skandiair@mastodon.social"],
                "reddit": ["SkandiAir"],
            },
            reply={"target_minutes": 45, "by_severity": {"critical": 15}},
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
            owned_accounts={"blog": ["hyggekaffe"], "mastodon": ["@hyggekaffe@mastodon.social"], "push": ["hyggekaffe"]},
            reply={"target_minutes": 60},  # the example watch leaves it to the default (60 minutes)
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
