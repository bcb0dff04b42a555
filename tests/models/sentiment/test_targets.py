"""Which parts of a text speak about which brand (no model needed)."""

from __future__ import annotations

from models.sentiment.targets import Segment, segments_for, sentences

B = ["Fjordbank", "Nordlys Energi"]


def test_comparison_gives_the_other_side_the_opposite():
    text = "Fjordbank er mye bedre enn Nordlys Energi"
    assert segments_for(text, "Fjordbank", B) == [Segment("Fjordbank er mye bedre")]
    assert segments_for(text, "Nordlys Energi", B) == [Segment("Fjordbank er mye bedre", flip=True)]
    sv = "Nordlys Energi är dyrare än Fjordbank"
    assert segments_for(sv, "Fjordbank", B) == [Segment("Nordlys Energi är dyrare", flip=True)]


def test_contrast_splits_clauses():
    text = "Nordlys Energi er elendig, men Fjordbank er super."
    assert segments_for(text, "Nordlys Energi", B) == [Segment("Nordlys Energi er elendig")]
    assert segments_for(text, "Fjordbank", B) == [Segment("Fjordbank er super.")]
    en = "I love Fjordbank but Nordlys Energi keeps overcharging me"
    assert segments_for(en, "Nordlys Energi", B) == [Segment("Nordlys Energi keeps overcharging me")]


def test_sentences_and_follow_ups_belong_to_their_brand():
    text = "Ringte Fjordbank i dag. De løste alt på fem minutter! Nordlys Energi svarer aldri på telefonen."
    assert [s.text for s in segments_for(text, "Fjordbank", B)] == ["Ringte Fjordbank i dag.", "De løste alt på fem minutter!"]
    assert [s.text for s in segments_for(text, "Nordlys Energi", B)] == ["Nordlys Energi svarer aldri på telefonen."]


def test_a_brand_not_named_in_the_text_gets_the_whole_text():
    assert segments_for("Alt var fint i dag", "Fjordbank", B) == [Segment("Alt var fint i dag")]
    assert sentences("Én. To!  Tre?\nFire") == ["Én.", "To!", "Tre?", "Fire"]
    # names match as words, in any case, not inside other words
    assert segments_for("fjordbanken er stengt. FJORDBANK er ok", "Fjordbank", ["Fjordbank"]) == [Segment("FJORDBANK er ok")]
