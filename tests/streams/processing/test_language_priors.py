from datetime import datetime, timezone

import pytest

from streams.processing import language_priors as lp
from streams.processing.language import LanguageIdentifier
from streams.schema import Author, EnrichedMention, Mention

AMBIGUOUS_NB_NN = {"da": 0.05, "nb": 0.45, "nn": 0.35, "sv": 0.05, "en": 0.0, "other": 0.10}


def test_declared_codes_map_to_lytter_languages():
    assert lp.declared_code("nb-NO") == "nb"
    assert lp.declared_code("no") == "no"
    assert lp.declared_code("nno") == "nn"
    assert lp.declared_code("en_US") == "en"
    assert lp.declared_code("de") == "other"
    assert lp.declared_code(None) is None
    assert lp.DECLARED["no"] == {"nb": 0.6, "nn": 0.4}


def test_without_priors_lingua_decides():
    post = lp.combine(AMBIGUOUS_NB_NN, 3, [])
    assert max(post, key=post.get) == "nb"
    assert abs(sum(post.values()) - 1) < 1e-9


def test_parent_in_nynorsk_tips_an_ambiguous_short_reply():
    post = lp.combine(AMBIGUOUS_NB_NN, 2, [lp.parent_signal("nn", 0.95)])
    assert max(post, key=post.get) == "nn"


def test_author_history_tips_an_ambiguous_short_text():
    post = lp.combine(AMBIGUOUS_NB_NN, 3, [lp.author_signal({"nn": 5, "en": 1})])
    assert max(post, key=post.get) == "nn"


def test_a_long_confident_text_overrides_a_wrong_declared_language():
    lingua = {"da": 0.01, "nb": 0.01, "nn": 0.0, "sv": 0.97, "en": 0.01, "other": 0.0}
    post = lp.combine(lingua, 20, [lp.declared_signal("en"), lp.author_signal({"en": 10})])
    assert max(post, key=post.get) == "sv"


def test_weight_grows_with_length_and_certainty():
    assert lp.evidence_weight(1) < lp.evidence_weight(5) < lp.evidence_weight(12) == 1.0
    assert lp.evidence_weight(2, ambiguous=0.2) > lp.evidence_weight(2, ambiguous=0.9)
    assert lp.ambiguity({"en": 1.0}) == 0.0
    assert lp.ambiguity({k: 1 / 6 for k in lp.LANGS}) == pytest.approx(1.0)


def test_a_signal_alone_cannot_veto_a_language():
    s = lp.declared_signal("da")
    assert all(s.likelihood(lang) > 0 for lang in lp.LANGS)


def test_doubt_lists_candidates_and_certainty_lists_none():
    assert lp.decide({"nb": 0.55, "nn": 0.35, "da": 0.1}) == ("nb", 0.55, ("nb", "nn"))
    assert lp.decide({"sv": 0.9, "da": 0.1}) == ("sv", 0.9, ())


def test_memory_is_bounded_and_learns_only_confident_decisions():
    memory = lp.LanguageMemory(max_threads=2, max_authors=2)
    for i in range(3):
        memory.remember(f"m{i}", f"a{i}", "da", 0.9)
    assert memory.thread_lang("m0") is None and memory.thread_lang("m2") == ("da", 0.9)
    assert memory.author_counts("a0") == {} and memory.author_counts("a2") == {"da": 1.0}
    memory.remember("m3", "a2", "nb", 0.4)  # in doubt: the thread remembers it, the author does not
    assert memory.thread_lang("m3") == ("nb", 0.4) and memory.author_counts("a2") == {"da": 1.0}
    for _ in range(100):
        memory.teach_author("a2", "sv")
    assert sum(memory.author_counts("a2").values()) <= lp.AUTHOR_COUNT_CAP


def _mention(mid, text, handle="someone", parent_id=None, declared=None):
    return Mention(id=mid, source="mastodon", text=text, author=Author(handle=handle),
                   published_at=datetime(2024, 6, 1, tzinfo=timezone.utc), parent_id=parent_id, declared_lang=declared)


@pytest.fixture(scope="module")
def identifier():
    return LanguageIdentifier()


def test_a_reply_follows_its_parent_in_the_same_batch(identifier):
    identifier.memory = lp.LanguageMemory()
    parent = _mention("p1", "Eg har venta i tre timar på toget, og ingen frå Vy gidd svare på noko som helst.", "a")
    reply = _mention("r1", "Kos med familien i kveld", "b", parent_id="p1")
    alone = identifier.identify([reply.text])[0]
    guesses = identifier.identify_mentions([parent, reply])
    assert guesses[0].lang == "nn"
    assert alone.lang != "nn" and guesses[1].lang == "nn"


def test_identify_mentions_handles_text_without_letters(identifier):
    identifier.memory = lp.LanguageMemory()
    guess = identifier.identify_mentions([_mention("e1", "🙂🙂")])[0]
    assert (guess.lang, guess.confidence, guess.candidates) == ("other", 0.0, ())


def test_candidates_are_indexed_only_when_present():
    m = _mention("x", "hei")
    sure = EnrichedMention(mention=m, lang="nb", lang_confidence=0.9).to_document()
    doubt = EnrichedMention(mention=m, lang="nb", lang_confidence=0.5, lang_candidates=["nb", "nn"]).to_document()
    assert "lang_candidates" not in sure and doubt["lang_candidates"] == ["nb", "nn"]
    declared = EnrichedMention(mention=_mention("y", "hei", declared="nn"), lang="nn", lang_confidence=0.9).to_document()
    assert "declared_lang" not in sure and declared["declared_lang"] == "nn"


def test_the_encoder_head_tips_an_ambiguous_short_text_but_not_a_long_confident_one():
    da_or_sv = {"da": 0.40, "nb": 0.05, "nn": 0.05, "sv": 0.45, "en": 0.0, "other": 0.05}
    post = lp.combine(da_or_sv, 2, [lp.encoder_signal({"da": 0.9, "nb": 0.04, "nn": 0.02, "sv": 0.02, "en": 0.02})])
    assert max(post, key=post.get) == "da"
    sure_sv = {"da": 0.01, "nb": 0.01, "nn": 0.0, "sv": 0.97, "en": 0.01, "other": 0.0}
    post = lp.combine(sure_sv, 20, [lp.encoder_signal({"da": 0.9, "nb": 0.05, "nn": 0.0, "sv": 0.05, "en": 0.0})])
    assert max(post, key=post.get) == "sv"
    assert lp.encoder_signal(None) is None and lp.encoder_signal({}) is None


def test_the_head_votes_for_norwegian_not_for_a_variety():
    as_nn = lp.combine(AMBIGUOUS_NB_NN, 3, [lp.encoder_signal({"da": 0.02, "nb": 0.08, "nn": 0.86, "sv": 0.02, "en": 0.02})])
    as_nb = lp.combine(AMBIGUOUS_NB_NN, 3, [lp.encoder_signal({"da": 0.02, "nb": 0.86, "nn": 0.08, "sv": 0.02, "en": 0.02})])
    assert as_nn == pytest.approx(as_nb)
    alone = lp.combine(AMBIGUOUS_NB_NN, 3, [])
    assert as_nn["nb"] + as_nn["nn"] > alone["nb"] + alone["nn"]
    assert as_nn["nb"] / as_nn["nn"] == pytest.approx(alone["nb"] / alone["nn"])


def test_the_head_never_vetoes_other():
    # the head has no "other" class: German text stays "other" when lingua is sure of it
    german = {"da": 0.02, "nb": 0.02, "nn": 0.0, "sv": 0.01, "en": 0.05, "other": 0.9}
    post = lp.combine(german, 8, [lp.encoder_signal({"da": 0.3, "nb": 0.2, "nn": 0.1, "sv": 0.1, "en": 0.3})])
    assert max(post, key=post.get) == "other"


def test_identify_mentions_takes_the_head_as_one_more_signal(identifier):
    identifier.memory = lp.LanguageMemory()
    without = identifier.identify_mentions([_mention("h1", "Hejsan", "h")])[0]
    identifier.memory = lp.LanguageMemory()
    head = {"da": 0.92, "nb": 0.02, "nn": 0.02, "sv": 0.02, "en": 0.02}
    with_head = identifier.identify_mentions([_mention("h2", "Hejsan", "h")], [head])[0]
    assert without.lang == "sv" and with_head.lang == "da"
