"""Reddit: subreddit listings (new posts, new comments) and search, from the JSON API.

* ``GET /r/<sub>/new.json``, ``GET /r/<sub>/comments.json`` and ``GET /search.json?q=…&sort=new`` (or
  ``/r/<a+b>/search.json?restrict_sr=1``), ``limit`` up to 100, ``raw_json=1`` (unescaped text).
* Listings run newest first and page *backwards* with ``after=<fullname>``. A poll reads from the newest
  until it reaches what the checkpoint says was read (``hwm``: the highest item id, base 36), or the end
  (``after: null``). The pass in progress (``scan``: the ``after`` cursor and the newest id of the pass)
  is checkpointed with every page, and ``hwm`` only moves when the pass is complete, so a restart (or a
  poll cut short by ``max_pages``) resumes the pass: no gap, and a seen-set drops repeats.
* First run: ``backfill_pages`` pages, then from there on.
* Rate limits: ``X-Ratelimit-Remaining`` / ``-Used`` / ``-Reset`` are honoured (``SourceHttp`` waits for the
  reset when remaining reaches 0); 429 waits ``Retry-After``/the reset.
* OAuth (app-only, ``client_credentials``): with ``client_id``/``client_secret`` a token is fetched from
  ``/api/v1/access_token`` and requests go to ``https://oauth.reddit.com`` with ``Authorization: bearer``.

Mapping: ``reddit:<fullname>`` ids (``t3_…`` posts, ``t1_…`` comments); a comment's ``parent_id`` is its
parent's fullname (``t3_`` = the post: kind ``comment``; ``t1_`` = another comment: kind ``reply``);
``score`` (clamped at 0) is ``likes``, ``num_comments`` ``replies``, ``num_crossposts`` ``shares``;
``created_utc`` becomes an aware UTC datetime.

Deletions and edits: every page a poll reads is looked at whole, items read before included (each poll
re-reads the newest page(s) down to the checkpoint). An item gone since (``body``/``selftext``
``[deleted]``/``[removed]``, author ``[deleted]``, ``removed_by_category``) becomes a ``Deletion`` of its
mention id (reason ``deleted`` or ``removed``, reported once) and is never published as a mention; an item
whose ``edited`` (epoch seconds) is newer than last seen is published again with ``edited_at``. Items
older than the pages a poll reads: after each complete pass, up to ``recheck`` (100) published items are
looked up again, in turn (``recheck_after`` in the checkpoint), with one ``GET /api/info.json?id=t3_…,t1_…``
request, and examined the same way; a failed look-up is logged and tried again on the next poll.
"""

from streams.sources.connectors.reddit.conf import REDDIT_EXAMPLE, RedditConf, reddit_command, reddit_connectors
from streams.sources.connectors.reddit.connector import RECHECK_MAX, SEEN_MAX, RedditAuth, RedditConnector
from streams.sources.connectors.reddit.mapping import (
    WEB,
    MalformedThing,
    edited_at,
    fullname,
    gone_reason,
    id_number,
    listing_children,
    thing_deletion,
    thing_to_mention,
)

__all__ = [
    "RECHECK_MAX", "REDDIT_EXAMPLE", "SEEN_MAX", "WEB", "MalformedThing", "RedditAuth", "RedditConf", "RedditConnector", "edited_at", "fullname",
    "gone_reason", "id_number", "listing_children", "reddit_command", "reddit_connectors", "thing_deletion", "thing_to_mention",
]
