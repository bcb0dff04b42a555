"""Emerging terms on the real Elasticsearch: an incident hour's new words rank above the everyday ones.

A baseline week of a brand's ordinary mentions (bills, the app, customer service, prices) and then one
hour where many mentions share new words (a recall of a battery that can catch fire). Keywords come from
the real extractor, documents from ``EnrichedMention.to_document`` through the real indexer and mapping.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from streams.processing.keywords import KeywordExtractor
from streams.query.terms import EmergingTermsError, emerging_terms, emerging_terms_async
from streams.schema import EnrichedMention, Mention
from streams.sinks.elasticsearch import MentionIndexer, async_client, sync_client

pytestmark = pytest.mark.integration

BRAND = "Nordlys Energi"
INCIDENT_START = datetime(2026, 11, 20, 14, tzinfo=timezone.utc)
INCIDENT_END = INCIDENT_START + timedelta(hours=1)
INCIDENT_WORDS = {"tilbagekaldelse", "batteri", "brand", "#tilbagekaldelse"}

# Everyday posts call the brand "Nordlys", the recall's "Nordlys Energi": without excluding the brand's
# own name words, "energi" would emerge with the incident.
EVERYDAY = [
    "Har nogen andre fået en høj faktura fra Nordlys denne måned?",
    "Appen fra Nordlys viser mit forbrug fint, men fakturaen kommer sent",
    "Kundeservice hos Nordlys svarede hurtigt på min mail om elprisen",
    "Elprisen stiger igen, tak Nordlys. Hvornår kommer den faste aftale?",
    "Nordlys har nu opladning til elbil i abonnementet, fin pris",
    "Skiftede til Nordlys i sommer og fakturaen er faktisk lavere",
    "Ventetid på kundeservice hos Nordlys i dag, ellers god app",
]
INCIDENT = [
    "Nordlys Energi tilbagekaldelse: batteri i hjemmelageret kan gå i brand #tilbagekaldelse",
    "Vi har fået brev om tilbagekaldelse af vores batteri fra Nordlys Energi, risiko for brand",
    "Seriøst Nordlys Energi? Et batteri der kan starte brand i garagen. Tilbagekaldelse nu",
    "Tilbagekaldelse hos Nordlys Energi: sluk dit batteri straks, brand risiko #tilbagekaldelse",
    "Naboens batteri fra Nordlys Energi er omfattet af tilbagekaldelse. Brand i to huse i Jylland",
    "Hvordan får man sit batteri afhentet? Nordlys Energi kundeservice om tilbagekaldelse svarer ikke",
]


def mention(i: int, text: str, published: datetime, brands: list[str]) -> EnrichedMention:
    item = Mention(id=f"t{i}", source="test", text=text, published_at=published, author={"handle": f"user{i % 17}"})
    return EnrichedMention(mention=item, lang="da", lang_confidence=0.95, brands=brands)


def corpus() -> list[EnrichedMention]:
    rng = random.Random(18)
    items: list[EnrichedMention] = []
    for hour in range(7 * 24, 0, -3):  # the baseline week: one ordinary mention every three hours
        items.append(mention(len(items), rng.choice(EVERYDAY), INCIDENT_START - timedelta(hours=hour, minutes=rng.randrange(60)), [BRAND]))
    # one old, unrelated battery question: "batteri" is not new, only rare
    items.append(mention(len(items), "Sælger Nordlys Energi også batteri til solceller?", INCIDENT_START - timedelta(days=3), [BRAND]))
    for k in range(20):  # the incident hour: 20 mentions, three in four about the recall
        text = INCIDENT[k % len(INCIDENT)] if k % 4 else rng.choice(EVERYDAY)
        items.append(mention(len(items), text, INCIDENT_START + timedelta(minutes=3 * k), [BRAND]))
    for k in range(6):  # another brand's busy hour at the same time: not Nordlys Energi's terms
        items.append(mention(len(items), f"Fjordbank renteændring igen, renten stiger {k}", INCIDENT_START + timedelta(minutes=5 + k), ["Fjordbank"]))
    KeywordExtractor().enrich(items)
    return items


@pytest.fixture
async def indexed(lytter):
    items = corpus()
    indexer = MentionIndexer(lytter)
    try:
        result = await indexer.index([item.to_document() for item in items])
        assert result.indexed == len(items) and not result.failed, result.failed
        await indexer.client.indices.refresh(index=lytter.es_index_prefix)
    finally:
        await indexer.client.close()
    return items


def incident_term(term: str) -> bool:
    return any(word in INCIDENT_WORDS for word in term.split())


def test_incident_words_rank_first_not_the_everyday_ones(lytter, indexed):
    client = sync_client(lytter)
    try:
        found = emerging_terms(client, lytter, brand=BRAND, start=INCIDENT_START, end=INCIDENT_END, size=10)
    finally:
        client.close()
    print("emerging terms:", [(t["term"], t["count"], t["baseline_count"], round(t["score"], 3)) for t in found])
    terms = [t["term"] for t in found]
    assert terms[:3] and all(incident_term(t) for t in terms[:3]), terms
    assert {"tilbagekaldelse", "batteri", "brand"} <= set(terms[:6]), terms
    everyday = {"faktura", "fakturaen", "kundeservice", "elprisen", "app", "appen"}
    in_window = [m for m in indexed if INCIDENT_START <= m.mention.published_at < INCIDENT_END and BRAND in m.brands]
    # everyday words are in the window too, often enough to be counted: frequency alone would rank them
    assert any(sum(word in m.keywords for m in in_window) >= 2 for word in everyday)
    ranked_everyday = [terms.index(t) for t in everyday if t in terms]
    last_incident = max(terms.index(t) for t in ("tilbagekaldelse", "batteri", "brand"))
    assert all(rank > last_incident for rank in ranked_everyday), terms
    assert not [t for t in terms if "nordlys" in t or "energi" in t], "the brand's own name is no emerging term"
    assert not [t for t in terms if "rente" in t], "another brand's mentions leaked into the window"
    by_term = {t["term"]: t for t in found}
    assert by_term["tilbagekaldelse"]["count"] == sum("tilbagekaldelse" in m.keywords for m in in_window)
    assert by_term["tilbagekaldelse"]["baseline_count"] == 0
    assert by_term["batteri"]["baseline_count"] == 1  # the old solar question
    assert found == sorted(found, key=lambda t: -t["score"])


async def test_async_twin_agrees(lytter, indexed):
    client = sync_client(lytter)
    aclient = async_client(lytter)
    try:
        sync = emerging_terms(client, lytter, brand=BRAND, start=INCIDENT_START, end=INCIDENT_END)
        assert await emerging_terms_async(aclient, lytter, brand=BRAND, start=INCIDENT_START, end=INCIDENT_END) == sync
    finally:
        client.close()
        await aclient.close()


def test_quiet_window_has_no_emerging_terms(lytter, indexed):
    client = sync_client(lytter)
    try:
        # an ordinary day in the baseline week, against the week before it: nothing stands out much
        quiet = emerging_terms(client, lytter, brand=BRAND, start=INCIDENT_START - timedelta(days=2), end=INCIDENT_START - timedelta(days=1))
    finally:
        client.close()
    assert not [t for t in quiet if incident_term(t["term"])], quiet


def test_missing_index_is_a_clear_error(lytter):
    client = sync_client(lytter)
    missing = lytter.model_copy(update={"es_index_prefix": lytter.es_index_prefix + "-absent"})
    try:
        with pytest.raises(EmergingTermsError, match="no index or alias .*-absent.*lytter es setup"):
            emerging_terms(client, missing, brand=BRAND, start=INCIDENT_START, end=INCIDENT_END)
    finally:
        client.close()


def test_cli_prints_the_terms_table_and_json(lytter, indexed):
    from typer.testing import CliRunner

    from streams.cli import app

    window = ["--brand", BRAND, "--since", INCIDENT_START.isoformat(), "--until", INCIDENT_END.isoformat()]
    env = lytter.to_env()
    table = CliRunner().invoke(app, ["search", "--terms", *window], env=env)
    assert table.exit_code == 0, table.output
    print(table.output)
    assert "emerging terms for Nordlys Energi" in table.output
    first_rows = [line for line in table.output.splitlines() if "tilbagekaldelse" in line or "batteri" in line]
    assert first_rows, table.output
    as_json = CliRunner().invoke(app, ["search", "--terms", "--json", "--size", "5", *window], env=env)
    assert as_json.exit_code == 0, as_json.output
    rows = [json.loads(line) for line in as_json.output.splitlines()]
    assert len(rows) == 5 and set(rows[0]) == {"term", "count", "baseline_count", "score"}
    assert incident_term(rows[0]["term"])
    refused = CliRunner().invoke(app, ["search", "--terms", "--lang", "da", *window], env=env)
    assert refused.exit_code == 1 and "drop --lang" in refused.output
    no_brand = CliRunner().invoke(app, ["search", "--terms"], env=env)
    assert no_brand.exit_code == 1 and "exactly one --brand" in no_brand.output
