"""StoryIndex: joining, order independence, replays, restarts, ageing and bounded memory."""

from __future__ import annotations

import itertools
import json

import pytest

from streams.stories.index import StoryIndex, story_id_for


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def new_index(store=None, **kwargs) -> StoryIndex:
    kwargs.setdefault("clock", Clock())
    return StoryIndex({} if store is None else store, **kwargs)


NEWS = "Equinor kutter 250 stillinger i Stavanger etter at oljeprisen har falt gjennom hele høsten"
JOIN = {
    "da": ("Vestas vinder ordre på 80 vindmøller til en havvindpark ud for Skotland, den største i firmaets historie",
           "RT @energi: Vestas vinder ordre på 80 vindmøller til en havvindpark ud for Skotland, den største i firmaets historie https://t.co/q"),
    "nb": (NEWS, f"{NEWS} | NRK https://nrk.example/1"),
    "nn": ("Fjord1 set inn ei ekstra ferje på sambandet Lavik-Oppedal heile sommaren på grunn av lange køar",
           "Endeleg! Fjord1 set inn ei ekstra ferje på sambandet Lavik-Oppedal heile sommaren på grunn av lange køar"),
    "sv": ("Swedbank höjer bolåneräntan med 0,25 procentenheter från nästa vecka efter Riksbankens besked",
           "swedbank höjer bolåneräntan med 0,25 procentenheter från nästa vekca efter riksbankens besked!!"),
    "en": ("Volvo recalls 40000 cars in the US over a faulty rear camera that can fail to display an image",
           "Volvo recalls 40000 cars in the US over a faulty rear camera that can fail to display an image - Reuters"),
}
APART = {
    "da": ("Carlsberg hæver prisen på øl i danske supermarkeder fra marts", "Carlsberg sænker prisen på sodavand i danske kiosker fra juni"),
    "nb": ("Telenor har det beste mobilnettet på hytta, full dekning", "Telenor kundeservice er håpløs, har ventet i en time"),
    "nn": ("Kiwi kallar tilbake kyllingfilet etter funn av salmonella", "Kiwi kuttar prisane på frukt og grønt i heile landet"),
    "sv": ("SJ stoppar alla tåg mellan Stockholm och Göteborg i helgen", "Tåget med SJ var i tid varje dag den här veckan"),
    "en": ("Spotify is cutting 1500 jobs worldwide to reach profitability", "Spotify raises the price of Premium in Sweden from February"),
}


@pytest.mark.parametrize("lang", sorted(JOIN))
def test_explicit_copies_join_and_different_posts_do_not(lang):
    index = new_index()
    a, b = JOIN[lang]
    first = index.assign(f"{lang}-1", a, 0.0, "anna")
    second = index.assign(f"{lang}-2", b, 5.0, "bo")
    assert first.is_new and not second.is_new and second.story_id == first.story_id
    assert second.size == 2 and second.authors == 2 and 0.3 <= second.similarity <= 1.0
    c, d = APART[lang]
    assert index.assign(f"{lang}-3", c, 0.0, "c").story_id != index.assign(f"{lang}-4", d, 1.0, "d").story_id


def test_short_texts_join_only_exact_normalised_copies():
    index = new_index()
    thanks = index.assign("t1", "Tak!", 0.0, "a")
    assert index.assign("t2", "tak", 1.0, "b").story_id == thanks.story_id
    assert index.assign("t3", "Tak for svar", 2.0, "c").story_id != thanks.story_id
    assert index.assign("t4", "Tak!!! @Lego", 3.0, "d").story_id == thanks.story_id
    # a long text that merely contains the short one is not a copy of it
    long_text = "Tak til Lego for en fantastisk dag i Legoland med hele familien"
    assert index.assign("t5", long_text, 4.0, "e").story_id != thanks.story_id


GROUP_A = [
    "Norwegian innstiller alle flyvninger fra Gardermoen til Tromsø i kveld på grunn av uvær i Nord-Norge",
    "RT @nrk: Norwegian innstiller alle flyvninger fra Gardermoen til Tromsø i kveld på grunn av uvær i Nord-Norge",
    "Norwegian innstiller alle flyvninger fra Gardermoen til Tromsø i kveld på grunn av uvær i Nord-Norge | VG https://vg.example/1",
    "Typisk! Norwegian innstiller alle flyvninger fra Gardermoen til Tromsø i kveld på grunn av uvær i Nord-Norge",
]
GROUP_B = [
    "DNB øker boliglånsrenten med 0,25 prosentpoeng fra neste uke etter rentehevingen fra Norges Bank",
    "DNB øker boliglånsrenten med 0,25 prosentpoeng fra neste uke etter rentehevingen fra Norges Bank via @e24",
    "dnb øker boliglånsrenten med 0,25 prosentpoeng fra neste uke etter rentehevingen fra norges bank!!",
]


def _grouping(order: list[tuple[str, str]]) -> set[frozenset[str]]:
    index = new_index()
    stories: dict[str, set[str]] = {}
    for t, (mid, text) in enumerate(order):
        stories.setdefault(index.assign(mid, text, float(t), mid).story_id, set()).add(mid)
    return {frozenset(members) for members in stories.values()}


def test_order_of_arrival_does_not_change_grouping():
    items = [(f"a{i}", t) for i, t in enumerate(GROUP_A)] + [(f"b{i}", t) for i, t in enumerate(GROUP_B)]
    expected = {frozenset(f"a{i}" for i in range(len(GROUP_A))), frozenset(f"b{i}" for i in range(len(GROUP_B)))}
    orders = list(itertools.permutations(items))
    for order in orders[:: max(1, len(orders) // 200)]:  # ~200 of the 5040 orders, spread over all of them
        assert _grouping(list(order)) == expected


def test_replay_returns_the_same_story_without_counting_twice():
    index = new_index()
    first = index.assign("m1", GROUP_A[0], 0.0, "anna")
    second = index.assign("m2", GROUP_A[1], 1.0, "bo")
    for mid, text in (("m1", GROUP_A[0]), ("m2", GROUP_A[1])):
        again = index.assign(mid, text, 1.0, "someone-else")
        assert again.story_id == first.story_id and not again.is_new
        assert again.size == 2 and again.authors == 2
    assert second.size == 2


def test_restart_rebuilds_from_the_store_with_the_same_ids():
    store: dict[str, dict] = {}
    before = new_index(store)
    a = before.assign("m1", GROUP_A[0], 0.0, "anna").story_id
    b = before.assign("m2", GROUP_B[0], 0.0, "bo").story_id
    t = before.assign("m3", "Tak!", 0.0, "c").story_id
    restored = json.loads(json.dumps(store))  # what a changelog gives back: JSON values
    after = new_index(restored)
    assert len(after) == 3
    assert after.assign("m4", GROUP_A[2], 5.0, "d").story_id == a
    assert after.assign("m5", GROUP_B[1], 5.0, "e").story_id == b
    assert after.assign("m6", "tak", 5.0, "f").story_id == t
    assert after.assign("m1", GROUP_A[0], 6.0, "anna").size == 2  # a replay after the restart: not counted
    assert a == story_id_for("m1")


def test_stories_age_out_of_lsh_and_store():
    clock = Clock()
    store: dict[str, dict] = {}
    index = new_index(store, ttl_s=3600, clock=clock)
    old = index.assign("m1", GROUP_A[0], 0.0, "a").story_id
    clock.now += 1800
    kept = index.assign("m2", GROUP_B[0], 0.0, "b").story_id
    clock.now += 1801  # m1's story unseen for 3601 s, m2's for 1801 s
    fresh = index.assign("m3", GROUP_A[1], 0.0, "c")
    assert fresh.is_new and fresh.story_id != old and old not in store
    assert kept in store and index.assign("m4", GROUP_B[1], 0.0, "d").story_id == kept


def test_max_stories_evicts_the_least_recently_seen():
    clock = Clock()
    store: dict[str, dict] = {}
    index = new_index(store, max_stories=2, clock=clock)
    first = index.assign("m1", GROUP_A[0], 0.0, "a").story_id
    clock.now += 1
    second = index.assign("m2", GROUP_B[0], 0.0, "b").story_id
    clock.now += 1
    index.assign("m3", GROUP_A[1], 0.0, "c")  # m1's story is seen again: now m2's is the oldest
    clock.now += 1
    third = index.assign("m4", "Tak!", 0.0, "d").story_id
    assert set(store) == {first, third} and len(index) == 2 and second not in store
    assert index.assign("m5", GROUP_B[1], 0.0, "e").is_new  # its story was evicted from the LSH too


def test_memory_per_story_is_bounded():
    index = new_index(max_members=5, max_authors=8)
    story = None
    for i in range(200):
        story = index.assign(f"m{i}", GROUP_A[i % len(GROUP_A)], float(i), f"author{i}")
    stored = index.store[story.story_id]
    assert story.size == 200 and len(stored["members"]) == 5 and len(stored["authors"]) == 8
    assert len(index._members) == 5  # ids of members dropped from the story are forgotten too
    assert len(json.dumps(stored)) < 2000  # signature, 5 ids, 8 authors, example


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="threshold"):
        new_index(threshold=0.0)
    with pytest.raises(ValueError, match="max_stories"):
        new_index(max_stories=0)


def test_a_store_written_with_other_permutations_is_refused_by_name():
    store: dict[str, dict] = {}
    new_index(store, num_perm=64).assign("m1", GROUP_A[0], 0.0, "a")
    with pytest.raises(ValueError, match="num_perm is 128"):
        new_index(store, num_perm=128)
