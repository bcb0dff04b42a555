import pytest

from streams.answer import addressed_brands, mentioned_handles, needs_reply, owned_by


@pytest.mark.parametrize(
    ("source", "author", "text", "expected"),
    [
        ("bluesky", "a.bsky.social", "@nordlys.bsky.social hvornår kommer regningen?", ["Nordlys"]),
        ("bluesky", "a.bsky.social", "Hej @Nordlys.bsky.social.", ["Nordlys"]),
        ("bluesky", "a.bsky.social", "skriv til kundeservice@nordlys.bsky.social", []),
        ("mastodon", "a@x.social", "@nordlys@mastodon.social virker appen?", ["Nordlys"]),
        ("mastodon", "a@x.social", "@Nordlys virker appen?", ["Nordlys"]),  # Mastodon's HTML shows the bare user
        ("mastodon", "a@x.social", "@nordlys@other.social virker appen?", []),  # someone else's account
        ("mastodon", "a@x.social", "@fjordbank@bank.social og @nordlys@mastodon.social", ["Fjordbank", "Nordlys"]),
        ("reddit", "someone", "u/NordlysEnergi why is my bill doubled?", ["Nordlys"]),
        ("reddit", "someone", "ping /u/nordlysenergi", ["Nordlys"]),
        ("reddit", "someone", "see reddit.com/u/NordlysEnergi", []),
        ("blog", "someone", "Tak for svaret @nordlys!", ["Nordlys"]),
        ("reddit", "someone", "@nordlys.bsky.social said so", []),  # a Bluesky account does not read Reddit
    ],
)
def test_handles_in_the_form_each_source_uses(watch, mention, source, author, text, expected):
    item = mention("m1", text, source=source, author=author)
    assert addressed_brands(item, watch) == expected


def test_mentioned_handles_strip_trailing_punctuation_and_repeats():
    assert mentioned_handles("bluesky", "@a.bsky.social. og @a.bsky.social!") == ["a.bsky.social"]


def test_a_reply_in_a_thread_a_brand_owns_is_addressed_and_needs_a_reply(watch, mention):
    item = mention("m1", "Det virker ikke for mig", parent="p1")
    addressed = addressed_brands(item, watch, thread_owner="Nordlys")
    assert addressed == ["Nordlys"]
    assert needs_reply(item, addressed, owned_by(item, watch)) is True


@pytest.mark.parametrize(("intent", "expected"), [("question", ["Fjordbank"]), ("complaint", ["Fjordbank"]), ("request", ["Fjordbank"]), ("other", []), (None, [])])
def test_a_question_naming_a_brand_is_addressed_without_a_handle(watch, mention, intent, expected):
    item = mention("m1", "Hvorfor er Fjordbank nede igen?", intent=intent, brands=["Fjordbank"])
    assert addressed_brands(item, watch) == expected


def test_a_brand_without_owned_accounts_is_never_addressed(watch, mention):
    item = mention("m1", "Hvad koster quiet?", intent="question", brands=["Quiet"])
    assert addressed_brands(item, watch) == []


def test_the_brands_own_post_is_not_addressed_to_it_and_needs_no_reply(watch, mention):
    own = mention("m1", "Vi kigger på det @nordlys.bsky.social @fjordbank.bsky.social", author="did:plc:nordlys", intent="question", brands=["Nordlys"])
    assert owned_by(own, watch) == "Nordlys"
    addressed = addressed_brands(own, watch, thread_owner="Nordlys")
    assert addressed == ["Fjordbank"]  # it still addresses another brand, for the reports
    assert needs_reply(own, addressed, "Nordlys") is False


def test_praise_is_addressed_but_not_in_the_queue(watch, mention):
    praise = mention("m1", "Tak @nordlys.bsky.social, super service!", intent="praise")
    addressed = addressed_brands(praise, watch)
    assert addressed == ["Nordlys"]
    assert needs_reply(praise, addressed, None) is False
    unknown_intent = mention("m2", "Tak @nordlys.bsky.social, super service!")
    assert needs_reply(unknown_intent, addressed_brands(unknown_intent, watch), None) is True


def test_deleted_and_shared_mentions_need_no_reply(watch, mention):
    deleted = mention("m1", "@nordlys.bsky.social hvor er min regning?", deleted=True)
    share = mention("m2", "@nordlys.bsky.social hvor er min regning?", kind="share")
    assert needs_reply(deleted, ["Nordlys"], None) is False
    assert needs_reply(share, addressed_brands(share, watch), None) is False


def test_a_reply_in_a_customers_thread_naming_the_brand_is_not_addressed_to_it(watch, mention):
    # customers talking among themselves; tagging the brand, or the brand's own thread, would address it
    item = mention("m2", "Det har jeg også undret mig over med Fjordbank", parent="m1", intent="complaint", brands=["Fjordbank"])
    assert addressed_brands(item, watch) == []
    tagged = mention("m3", "@fjordbank.bsky.social det har jeg også oplevet", parent="m1", intent="complaint", brands=["Fjordbank"])
    assert addressed_brands(tagged, watch) == ["Fjordbank"]


def test_an_unsure_intent_does_not_address_a_brand_by_name_alone(watch, mention):
    item = mention("m1", "Fjordbank og renten, hmm", intent="question", brands=["Fjordbank"])
    item.intent_confidence = 0.3
    assert addressed_brands(item, watch) == []
    item.intent_confidence = 0.8
    assert addressed_brands(item, watch) == ["Fjordbank"]
