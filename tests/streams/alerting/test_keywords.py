"""Crisis-keyword matching: every language, normalisation, language scoping, phrases."""

from __future__ import annotations

import pytest

from streams.alerting.config import CrisisKeywordConfig
from streams.alerting.keywords import match_keywords
from streams.alerting.rules import keyword_rule
from tests.streams.alerting.traffic import CONFIG, info


# --------------------------------------------------------------------------------------------------
# Crisis keywords


@pytest.mark.parametrize(
    "lang,text,keyword",
    [
        ("da", "Nu er det nok: BOYKOT Lego!", "boykot"),
        ("da", "Lego tilbagekalder 10.000 sæt", "tilbagekald*"),
        ("da", "Endnu en skandale hos Lego", "skandale"),
        ("nb", "Vi oppfordrer til #boikott av Lego", "boikott"),
        ("nb", "Tilbakekallingen gjelder alle sett", "tilbakekalling*"),
        ("nn", "Ein skandale for Lego", "skandale"),
        ("nn", "Tilbakekallinga av leikane", "tilbakekalling*"),
        ("sv", "Dags för bojkott av Lego", "bojkott"),
        ("sv", "Återkallelsen omfattar alla", "återkallelse*"),
        ("sv", "Lego återkallar leksaker", "återkalla*"),
        ("sv", "En skandal utan like", "skandal"),
        ("en", "Time to boycott Lego", "boycott"),
        ("en", "Lego RECALLED the sets", "recall*"),
        ("en", "What a scandal", "scandal"),
    ],
)
def test_keywords_in_every_language(lang, text, keyword):
    found = match_keywords(text, lang, CONFIG.crisis_keyword)
    assert keyword in [kw for kw, _ in found]
    strict = CONFIG.crisis_keyword.model_copy(update={"cross_language": False})
    assert keyword in [kw for kw, _ in match_keywords(text, lang, strict)]
    c = keyword_rule("Lego", info(1, text=text, lang=lang), CONFIG)
    assert c is not None and c.rule == "crisis_keyword" and keyword in c.evidence["keywords"]


def test_keyword_normalisation_and_non_matches():
    kw = CONFIG.crisis_keyword
    # Swedish/Danish letter equivalences: a Norwegian word written with Swedish letters still matches
    assert [k for k, _ in match_keywords("Aterkallelse", "sv", kw)] == []  # a without ring is another letter
    assert [k for k, _ in match_keywords("aaterkallelse", "sv", kw)] == ["återkallelse*"]  # aa = å
    assert match_keywords("uncalled-for recalcitrant boycotts", "en", kw) == []  # exact words, prefix only with *
    assert match_keywords("skandalen", "da", kw) == []
    assert match_keywords("", "da", kw) == []
    # several matches come in text order with the words that matched
    assert match_keywords("Recall og boykot", "da", kw) == [("recall*", "Recall"), ("boykot", "boykot")]


def test_keyword_language_scoping():
    strict = CONFIG.crisis_keyword.model_copy(update={"cross_language": False})
    assert match_keywords("Vi opfordrer til boykot", "sv", strict) == []  # Danish word, Swedish list
    assert match_keywords("Vi opfordrer til boykot", "da", strict) == [("boykot", "boykot")]
    assert match_keywords("Vi opfordrer til boykot", "other", strict) == [("boykot", "boykot")]  # unknown: all lists
    assert match_keywords("Vi opfordrer til boykot", "sv", CONFIG.crisis_keyword) == [("boykot", "boykot")]


def test_keyword_phrases():
    cfg = CrisisKeywordConfig(keywords={"en": ["product recall*", "data breach"]})
    assert match_keywords("A big Product Recalls story", "en", cfg) == [("product recall*", "Product Recalls")]
    assert match_keywords("recall the product", "en", cfg) == []
    assert match_keywords("The data-breach at Lego", "en", cfg) == [("data breach", "data breach")]


def test_a_mention_in_doubt_is_checked_against_each_candidate_language():
    from streams.alerting.config import AlertConfig
    from streams.alerting.mentions import MentionInfo
    from streams.alerting.rules import keyword_rule

    config = AlertConfig.model_validate({"crisis_keyword": {"keywords": {"nb": ["tilbakekalling"], "da": ["tilbagekald*"]}, "require_negative": False, "cross_language": False}})
    text = "Tilbagekaldelse af Fjordbank-kort?"
    sure = MentionInfo(id="m1", text=text, lang="nb", sentiment_label="neutral")
    doubt = MentionInfo(id="m2", text=text, lang="nb", lang_candidates=("nb", "da"), sentiment_label="neutral")
    assert keyword_rule("Fjordbank", sure, config) is None
    hit = keyword_rule("Fjordbank", doubt, config)
    assert hit is not None and hit.rule == "crisis_keyword"
    assert MentionInfo.from_dict(doubt.to_dict()) == doubt  # the by-brand topic keeps the candidates
