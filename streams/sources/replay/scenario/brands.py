"""The (invented) brands a scenario talks about, and the crisis keywords of its incident."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


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
