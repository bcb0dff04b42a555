from datetime import datetime, timezone
from pathlib import Path

import pytest

from streams.sources.replay.blogdump import parse_blog_dump, slug_of, split_dump

CORPUS = Path(__file__).resolve().parents[4] / "deploy" / "demo" / "corpus"
WHEN = datetime(2010, 3, 3, 12, 0, tzinfo=timezone.utc)


def _parse(name):
    return parse_blog_dump((CORPUS / name).read_text(), name=name, published_at=WHEN)


def test_danish_dump_without_comment_header_has_two_comments_and_two_pingbacks():
    mentions = _parse("da-social-medie-strategi.txt")
    assert [m.kind for m in mentions] == ["post", "comment", "comment", "pingback", "pingback"]
    post = mentions[0]
    assert post.title.startswith("Den sociale mediestrategi findes ikke!")
    assert post.text.endswith("på blogs, på Facebook, Twitter, Linkedin, etc?")
    assert mentions[1].text.startswith("Jeg er enig") and mentions[1].text.endswith("Ret spændende 🙂")
    assert mentions[2].text.startswith("Hej Rasmus,")
    assert all(m.parent_id == post.id for m in mentions[1:])
    assert post.engagement.replies == 2


def test_norwegian_dump_numbered_comments_and_like_buttons_dropped():
    mentions = _parse("nb-strategi-for-sosiale-medier.txt")
    assert [m.kind for m in mentions] == ["post", "comment", "comment"]
    assert mentions[1].text.startswith("Hei, takk for at du belyser")
    assert mentions[2].text.startswith("Bra innlegg!")
    assert all("Liker" != line for m in mentions for line in m.text.splitlines())
    assert "Legg igjen en kommentar" not in mentions[-1].text
    # the header line itself is not part of the post
    assert "4 kommentarer om" not in mentions[0].text


def test_swedish_dump_comment_form_boilerplate_removed():
    mentions = _parse("sv-sociala-medier-och-likehoreri.txt")
    assert len(mentions) == 1
    assert mentions[0].text.endswith("Ha det gott!")
    assert "E-postadressen" not in mentions[0].text


def test_ids_are_stable_and_urls_carry_anchors():
    text = (CORPUS / "da-social-medie-strategi.txt").read_text()
    first = parse_blog_dump(text, name="da-social-medie-strategi.txt", published_at=WHEN, url="https://blog.example/p")
    second = parse_blog_dump(text, name="da-social-medie-strategi.txt", published_at=WHEN, url="https://blog.example/p")
    assert [m.id for m in first] == [m.id for m in second]
    assert first[1].id == "blog:da-social-medie-strategi#comment-1"
    assert first[3].url == "https://blog.example/p#pingback-1"


def test_english_wordpress_style_dump():
    text = "\n".join(
        [
            "Why we love our bikes",
            "We have ridden Cykelfabrikken bikes for a year.",
            "They have held up really well in the rain.",
            "2 thoughts on “Why we love our bikes”",
            "1. Great bikes, mine is still like new.",
            "Reply",
            "2. Mine broke after a month.",
            "The shop did not answer my emails.",
            "Leave a Reply",
            "Your email address will not be published.",
            "Name",
        ]
    )
    mentions = parse_blog_dump(text, name="bikes.txt", published_at=WHEN)
    assert [m.kind for m in mentions] == ["post", "comment", "comment"]
    assert mentions[2].text == "Mine broke after a month.\nThe shop did not answer my emails."


def test_a_post_that_opens_with_thanks_is_not_a_comment():
    parsed = split_dump("Headline\nTak for sidst, sagde hun.\nResten af indlægget.")
    assert parsed.comments == [] and parsed.post.startswith("Tak for sidst")


def test_empty_file_is_a_clear_error():
    with pytest.raises(ValueError, match="no text"):
        split_dump(" \n\n \u00a0\n")


def test_slug():
    assert slug_of("Ærø Blog Post.txt") == "ærø-blog-post"
