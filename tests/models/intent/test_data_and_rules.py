"""The intent data (the project's own, with a blind second labelling) and the rule baseline."""

from collections import Counter

import pytest

from models.intent import INTENTS
from models.intent.agreement import agreement, cohen_kappa
from models.intent.dataset import LANGS, IntentDataError, _parse, load_examples
from models.intent.rules import rule_intent
from models.sentiment.dataset import REGISTERS


@pytest.fixture(scope="module")
def examples():
    return load_examples()


def test_every_language_has_enough_written_text_in_every_register_and_intent(examples):
    for lang in LANGS:
        mine = [e for e in examples if e.lang == lang]
        written = [e for e in mine if e.written]
        assert len(mine) >= 700, (lang, len(mine))
        assert {e.register for e in written} == set(REGISTERS), lang
        counts = Counter(e.intent for e in written)
        assert all(counts[i] >= 0.1 * len(written) for i in INTENTS), (lang, counts)  # a realistic mix, no empty class
        assert sum(e.split == "test" for e in written) >= 60, lang  # only written texts are tested on


def test_relabelled_sentiment_texts_are_never_tested_on(examples):
    assert all(e.split == "train" for e in examples if not e.written)


def test_the_second_labelling_agrees(examples):
    report = agreement(examples)
    for lang in LANGS:
        assert report[lang]["n"] >= 60, (lang, report[lang])
        assert report[lang]["kappa"] >= 0.8, (lang, report[lang])


def test_kappa_is_zero_for_chance_and_one_for_identity():
    a = ["question", "other"] * 50
    assert cohen_kappa(a, a) == 1.0
    assert abs(cohen_kappa(a, ["question"] * 50 + ["other"] * 50)) < 1e-9


def test_a_bad_line_names_the_file_line_and_field():
    with pytest.raises(IntentDataError, match=r"da-written.jsonl:3: intent 'ask' is not one of"):
        _parse('{"id": "x", "text": "Hej?", "intent": "ask", "lang": "da", "register": "social"}', "da-written.jsonl:3", True)


@pytest.mark.parametrize(
    "text, lang, intent",
    [
        ("Hvornår åbner I på søndag?", "da", "question"),
        ("Kan I sende mig en ny kode", "da", "request"),
        ("Elendig service igen", "da", "complaint"),
        ("Tusen takk for hjelpen!", "nb", "praise"),
        ("Kva kostar det å flytte abonnementet", "nn", "question"),
        ("Vänligen återbetala min biljett", "sv", "request"),
        ("The government presented the budget today.", "en", "other"),
    ],
)
def test_the_rule_baseline(text, lang, intent):
    assert rule_intent(text, lang).label == intent
