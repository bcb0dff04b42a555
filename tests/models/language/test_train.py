"""The language head: its training texts and crops, and the built head on the production forward pass."""

import pytest

from models.language.train import LABELS, training_texts, with_crops


def test_training_texts_cover_the_five_languages_once_each():
    items = training_texts()
    keys = [" ".join(t.casefold().split()) for t, _, _ in items]
    assert len(keys) == len(set(keys))
    counts = {lang: sum(1 for _, l, _ in items if l == lang) for lang in LABELS}
    assert min(counts.values()) >= 1000, counts
    assert {split for _, _, split in items} == {"train", "dev", "test"}


def test_crops_are_short_seeded_and_from_their_own_text():
    items = [("en to tre fire fem seks sju åtte", "nb", "train"), ("kort tekst", "nn", "dev")]
    a, b = with_crops(items), with_crops(items)
    assert a == b
    crops = [c for c in a if c[3]]
    assert len(crops) == 1  # only texts of more than three words are cropped
    text, lang, split, _ = crops[0]
    assert 1 <= len(text.split()) <= 5 and text in items[0][0] and (lang, split) == ("nb", "train")


@pytest.fixture(scope="module")
def model(sentiment_model_dir):
    from models.sentiment import SentimentModel

    return SentimentModel.load(sentiment_model_dir, lanes=1)


def test_the_built_model_reads_language_from_the_same_pass_without_changing_sentiment(model):
    texts = {
        "Eg veit ikkje kva eg skal gjere med straumrekninga": "nn",
        "Jeg vet ikke hva jeg skal gjøre med strømregningen": "nb",
        "Jeg ved ikke hvad jeg skal gøre med elregningen": "da",
        "Jag vet inte vad jag ska göra med elräkningen": "sv",
        "I have no idea what to do about the power bill": "en",
    }
    assert model.language_head is not None, "lytter model build trains the language head"
    rows = model.predict_all(list(texts))
    for (text, gold), (_, _, lang) in zip(texts.items(), rows):
        assert max(lang, key=lang.get) == gold, (text, lang)
        assert abs(sum(lang.values()) - 1) < 1e-4
    head, model.language_head = model.language_head, None
    try:
        plain = model.predict(list(texts))
    finally:
        model.language_head = head
    assert [s.label for s, _, _ in rows] == [p.label for p in plain]
