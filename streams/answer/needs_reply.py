"""Who a mention is addressed to, and whether it waits for a brand's answer.

A mention is **addressed** to a brand when

* its text (or title) @-mentions one of the brand's own accounts on the mention's source, in the form
  that source uses: Bluesky ``@name.bsky.social``; Mastodon ``@user@instance`` or the bare ``@user``
  that Mastodon's HTML shows for a mention (matched when one brand alone owns that user name); Reddit
  ``u/Name`` or ``/u/Name`` (and ``@Name``); other sources ``@handle``;
* it is a reply or comment in a thread that one of the brand's accounts started or joined
  (``thread_owner``, which :class:`~streams.answer.tracker.ReplyTracker` knows); or
* it is a top-level post (or a quote) that is a question, request or complaint (``intent``, with the
  classifier at least :data:`IMPLICIT_MIN_CONFIDENCE` sure) whose matched ``brands`` name the brand.
  A comment or reply in somebody else's thread that names the brand without tagging it talks to that
  thread ("I've wondered about that with Skandi Air too"), not to the brand: counting those filled the
  demo's queue with conversations among customers.

Only brands with ``owned_accounts`` in the watch are addressed: a brand without an account cannot
answer, and waiting for it would only raise alerts nobody can close. A brand's own post is never
addressed to that brand.

A mention **needs a reply** when it is addressed to a brand, is not written by an owned account, is not
deleted, is not a plain share (a repost carries no message of its own), and is not praise. Praise
addressed by @handle still counts as addressed (``addressed_to``, for the reports) but does not enter
the reply queue: thanking every compliment is a choice, answering a question is the job. A mention
whose intent is not known yet (no classifier) needs a reply when addressed: missing a question is worse
than one extra item in the queue.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.schema import EnrichedMention
    from streams.watch.file import Watch

__all__ = ["ASKING_INTENTS", "addressed_brands", "mentioned_handles", "needs_reply", "owned_by"]

#: Intents that address a brand merely by naming it ...
ASKING_INTENTS = frozenset({"question", "request", "complaint"})
#: ... in a mention that speaks to everyone, not inside somebody else's thread ...
IMPLICIT_KINDS = frozenset({"post", "quote"})
#: ... when the intent classifier is at least this sure (the rules' fixed 0.5 passes).
IMPLICIT_MIN_CONFIDENCE = 0.5

# (?<![\w@./]) keeps e-mail addresses (kontakt@nordlys.dk) and URLs (example.com/@user) out.
_BLUESKY = re.compile(r"(?<![\w@./])@([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)", re.IGNORECASE)
_MASTODON = re.compile(r"(?<![\w@./])@([\w.]+(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)+)?)", re.IGNORECASE)
_REDDIT = re.compile(r"(?:(?<![\w/])/?u/|(?<![\w@./])@)([\w-]{3,20})", re.IGNORECASE)
_GENERIC = re.compile(r"(?<![\w@./])@([\w.-]*\w)", re.IGNORECASE)
_PATTERNS = {"bluesky": _BLUESKY, "mastodon": _MASTODON, "reddit": _REDDIT}


def mentioned_handles(source: str, text: str) -> list[str]:
    """The handles @-mentioned in ``text`` in the form ``source`` uses, in order, without repeats."""
    pattern = _PATTERNS.get(source, _GENERIC)
    return list(dict.fromkeys(match.rstrip(".") for match in pattern.findall(text)))


def owned_by(enriched: EnrichedMention, watch: Watch) -> str | None:
    """The brand whose own account wrote the mention, if any."""
    author = enriched.mention.author
    return watch.owner_of(enriched.mention.source, author.handle) if author is not None else None


def addressed_brands(enriched: EnrichedMention, watch: Watch, thread_owner: str | None = None) -> list[str]:
    """The brands (with owned accounts) the mention is addressed to, in order of the reasons above."""
    mention = enriched.mention
    text = f"{mention.title}\n{mention.text}" if mention.title else mention.text
    found = [watch.owner_of(mention.source, handle) for handle in mentioned_handles(mention.source, text)]
    if thread_owner is not None:
        found.append(thread_owner)
    if enriched.intent in ASKING_INTENTS and mention.kind in IMPLICIT_KINDS and (enriched.intent_confidence or 1.0) >= IMPLICIT_MIN_CONFIDENCE:
        found.extend(enriched.brands)
    author_brand = owned_by(enriched, watch)
    out = []
    for name in found:
        brand = watch.brand(name) if name else None
        if brand is not None and brand.owned_accounts and name != author_brand and name not in out:
            out.append(name)
    return out


def needs_reply(enriched: EnrichedMention, addressed: list[str], author_brand: str | None) -> bool:
    """Whether the mention waits for an answer from the brands it is addressed to (see the module doc)."""
    if not addressed or author_brand is not None or enriched.deleted_at is not None:
        return False
    if enriched.mention.kind == "share":
        return False
    return enriched.intent != "praise"
