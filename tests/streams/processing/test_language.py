import pytest
from lingua import Language

from streams.processing.language import LanguageIdentifier, clean_for_detection, to_lytter_code


def test_mapping_to_lytter_codes():
    assert to_lytter_code(Language.BOKMAL) == "nb"
    assert to_lytter_code(Language.NYNORSK) == "nn"
    assert to_lytter_code(Language.GERMAN) == "other"
    assert to_lytter_code(None) == "other"


def test_cleaning_drops_urls_handles_and_tags():
    cleaned = clean_for_detection("@dsb_dk se https://x.dk/a #fail tak")
    assert cleaned.split() == ["se", "tak"]
    assert len(clean_for_detection("ord " * 2000)) <= 1500


@pytest.fixture(scope="module")
def identifier():
    return LanguageIdentifier()


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Jeg har ventet i tre timer på toget, og ingen fra DSB gider svare på noget som helst.", "da"),
        ("Jeg har ventet i tre timer på toget, og ingen fra Vy gidder å svare på noe som helst.", "nb"),
        ("Eg har venta i tre timar på toget, og ingen frå Vy gidd svare på noko som helst.", "nn"),
        ("Jag har väntat i tre timmar på tåget och ingen från SJ orkar svara på någonting.", "sv"),
        ("I have waited three hours for the train and nobody from SJ bothers to answer.", "en"),
        ("Ich habe drei Stunden auf den Zug gewartet und niemand antwortet.", "other"),
        ("🙂🙂🙂", "other"),
    ],
)
def test_identifies_nordic_languages(identifier, text, lang):
    assert identifier.identify([text])[0].lang == lang


def test_corpus_files_are_identified_by_their_language(identifier):
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "corpus"
    files = sorted(corpus.glob("*.txt"))
    assert len(files) == 3
    guesses = identifier.identify([f.read_text() for f in files])
    assert [g.lang for g in guesses] == [f.name.split("-")[0] for f in files]
