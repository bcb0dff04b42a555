"""The plain blog-dump format: a scraped blog post followed by its readers' comments, no markup.

This is what a scraper leaves when it keeps only the text of a WordPress-like page (see
``shared/corpus``): the headline on the first line, the post's paragraphs, then the comment section.
The parser turns one such file into one post mention and one mention per comment or pingback, each
with the post as parent.

How the comment section is found, in this order (rules, not guesses at meaning):

1. A comment header as WordPress themes print it in da/nb/nn/sv/en, e.g. ``4 kommentarer om "…"``,
   ``2 tankar om "…"``, ``3 thoughts on "…"``, ``Kommentarer``. Below it, numbered items (``1. …``)
   are comments; unnumbered paragraphs continue the current comment.
2. Without a header: the first paragraph, after the post has begun, that opens the way comments open:
   a short greeting alone on its line (``Hej Rasmus,``), an agreement or thanks opener (``Jeg er enig``,
   ``Takk for``, ``Bra innlegg``, ``Great post``), or a pingback excerpt (``[…] … […]``).
3. Theme boilerplate is dropped everywhere: like buttons (``Liker``, ``Gilla``), ``Svar``/``Reply``,
   and the comment form with everything after it (``Legg igjen en kommentar``, ``Kommentera``,
   ``E-postadressen publiceras inte``, ``Leave a Reply``, ...).

Pure functions: ``parse_blog_dump(text, ...)`` returns mentions; reading files is the caller's job.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from streams.schema import Mention

_NUMBER_WORDS = r"(?:\d+|en|et|ett|ei|eitt|to|två|tre|fire|fyra|fem|one|two|three|four|five)"
_COMMENT_HEADER = re.compile(
    rf"^{_NUMBER_WORDS}\s+(?:kommentarer|kommentar|kommentarar|tankar|tanker|tankar|thoughts|comments?|"
    r"responses?|replies|svar)\b(?:\s+(?:om|til|på|på|on|to|till|for|för|pa)\b.*)?$"
    r"|^(?:kommentarer|kommentarar|comments|responses)\s*:?$",
    re.IGNORECASE,
)
_NUMBERED_ITEM = re.compile(r"^\s*(\d{1,4})[.)]\s+(.+)$")
_PINGBACK = re.compile(r"^\[(?:…|\.\.\.)\]")
_GREETING = re.compile(r"^(?:hej|hei|hey|hi|hallo|hello|kære|kjære|kjære|käre|kära|dear)\b[^.?!]{0,40}[,!:]?$", re.IGNORECASE)
_OPENER = re.compile(
    r"^(?:jeg er (?:helt |fuldstændig |fullstendig )?(?:enig|uenig)|eg er (?:heilt )?(?:einig|ueinig)|"
    r"jag håller med|enig\b|einig\b|tak for|takk for|tack för|tusind tak|tusen takk|tusen tack|"
    r"godt skrevet|godt innlegg|bra skrevet|bra innlegg|bra inlägg|fint innlegg|fint inlägg|spændende indlæg|"
    r"great post|nice post|good post|thanks for|thank you for|i agree|i disagree)",
    re.IGNORECASE,
)
_LIKE_OR_REPLY = re.compile(
    r"^(?:liker|lik|like|likes|gilla|gillar|synes godt om|svar|svara|reply|besvar|rapporter|report)$", re.IGNORECASE
)
_COMMENT_FORM = re.compile(
    r"^(?:legg igjen en kommentar|legg att ein kommentar|skriv en kommentar|skriv ein kommentar|kommentera|"
    r"kommenter|lämna ett svar|lämna en kommentar|efterlad en kommentar|leave a reply|leave a comment|"
    r"e-postadressen publiceras inte|din e-?post(?:adresse)? (?:vil ikke|vil ikkje|publiceras)|"
    r"din e-?mail(?:adresse)? (?:vil ikke|bliver ikke)|your email address will not be published|"
    r"obligatoriska fält|påkrevde felt|påkrævede felter|required fields are marked)",
    re.IGNORECASE,
)

#: A comment opener is only believed once the post has had this many paragraphs after its headline.
MIN_POST_PARAGRAPHS = 2


@dataclass
class _Item:
    kind: str  # post, comment, pingback
    paragraphs: list[str] = field(default_factory=list)
    number: int | None = None


@dataclass
class ParsedDump:
    title: str
    post: str
    comments: list[tuple[str, str]]  # (kind, text)


def _clean(line: str) -> str:
    line = unicodedata.normalize("NFC", line.replace("\u00a0", " "))
    return re.sub(r"[ \t]+", " ", line).strip()


def _is_bullet(line: str) -> bool:
    return bool(re.match(r"^[•\-\*·]\s+", line))


def split_dump(text: str) -> ParsedDump:
    """Split a dump into headline, post body and comment texts."""
    lines = [_clean(raw) for raw in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("the file has no text")
    title, body = lines[0], lines[1:]
    post = _Item("post")
    items: list[_Item] = []
    current = post
    in_comments = False
    for line in body:
        if _COMMENT_FORM.match(line):
            break  # the comment form and whatever follows it is page furniture
        if _LIKE_OR_REPLY.match(line):
            continue
        if not in_comments and _COMMENT_HEADER.match(line) and len(line) < 300:
            in_comments = True
            current = _Item("comment")
            continue
        numbered = _NUMBERED_ITEM.match(line) if in_comments else None
        if numbered and not _is_bullet(line):
            current = _Item("comment", [numbered.group(2)], int(numbered.group(1)))
            items.append(current)
            continue
        if _PINGBACK.match(line) and (in_comments or len(post.paragraphs) >= MIN_POST_PARAGRAPHS):
            in_comments = True
            current = _Item("pingback", [line])
            items.append(current)
            continue
        opener = _GREETING.match(line) or _OPENER.match(line)
        if opener and (in_comments or len(post.paragraphs) >= MIN_POST_PARAGRAPHS):
            in_comments = True
            current = _Item("comment", [line])
            items.append(current)
            continue
        if in_comments and current.kind == "comment" and current not in items:
            # text under a header, before any numbered item: the first comment
            items.append(current)
        if current.kind == "pingback" and not _PINGBACK.match(line):
            # a pingback is one excerpt; what follows it is a new comment
            current = _Item("comment")
            items.append(current)
        current.paragraphs.append(line)
    comments = [(item.kind, "\n".join(item.paragraphs)) for item in items if item.paragraphs]
    return ParsedDump(title=title, post="\n".join(post.paragraphs) or title, comments=comments)


def slug_of(name: str) -> str:
    stem = Path(name).stem
    slug = re.sub(r"[^\w\-]+", "-", unicodedata.normalize("NFKC", stem).lower()).strip("-")
    return slug or hashlib.sha1(name.encode()).hexdigest()[:12]


def parse_blog_dump(
    text: str,
    *,
    name: str,
    published_at: datetime,
    url: str | None = None,
    author: str | None = None,
    source: str = "blog",
) -> list[Mention]:
    """One post mention and one mention per comment/pingback, comments pointing at the post."""
    parsed = split_dump(text)
    slug = slug_of(name)
    post_id = f"{source}:{slug}"
    raw = {"format": "blogdump", "file": name}
    author_obj = {"handle": author} if author else None
    post = Mention(
        id=post_id,
        source=source,
        url=url,
        title=parsed.title,
        text=parsed.post,
        author=author_obj,
        published_at=published_at,
        kind="post",
        engagement={"replies": sum(1 for kind, _ in parsed.comments if kind == "comment")},
        raw=raw,
    )
    mentions = [post]
    counters: dict[str, int] = {}
    for kind, comment_text in parsed.comments:
        counters[kind] = counters.get(kind, 0) + 1
        anchor = f"{kind}-{counters[kind]}"
        mentions.append(
            Mention(
                id=f"{post_id}#{anchor}",
                source=source,
                url=f"{url}#{anchor}" if url else None,
                title=parsed.title,
                text=comment_text,
                published_at=published_at,
                parent_id=post_id,
                kind=kind,
                raw={**raw, "position": len(mentions)},
            )
        )
    return mentions
