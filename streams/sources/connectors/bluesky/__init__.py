"""Bluesky through Jetstream, the JSON firehose over WebSocket (github.com/bluesky-social/jetstream).

``wss://<jetstream>/subscribe?wantedCollections=app.bsky.feed.post&cursor=<time_us>``: every event is a
JSON object ``{"did", "time_us", "kind": "commit"|"identity"|"account", "commit": {"rev", "operation":
"create"|"update"|"delete", "collection": "app.bsky.feed.post", "rkey", "cid", "record": {"text",
"createdAt", "langs", "reply", "embed", "facets"}}}``.

* Posts (commit *create*) whose text matches one of the keywords become mentions. The text is read with
  its links' full URLs (link facets) and the link card (``app.bsky.embed.external``: URL, description;
  the card's title is the mention's title), so a brand only in a shortened link or a card is found.
* An *update* of a post that matches (or was published) is published again with ``edited_at``; a
  *delete* of a post becomes a ``Deletion`` of its mention id (rebuilt from did and rkey).
* An *account* event of an account deleted (``"active": false, "status": "deleted"``) or taken down
  (``takendown``) becomes a ``Deletion`` of every post of that DID the connector published and still
  remembers (its seen-set: the last ``SEEN_MAX`` ids, kept in the checkpoint); older posts of the account
  are not named. ``suspended`` and ``deactivated`` accounts come back: nothing is deleted.
* Cursor: ``time_us`` of the last event read is checkpointed (every ``batch_s`` seconds, matches or not,
  and with every batch), after the batch is acknowledged. A reconnect resumes at ``cursor - rewind_s``
  (Jetstream's own advice for gapless playback) and a bounded seen-set drops the repeats. Jetstream
  replays only its last 36 h (``max_replay_s``): an older checkpoint is logged as a gap (from when to
  when) and the stream resumes at the oldest moment still replayed.
* ``--once`` (``until``): reads until the stream reaches the moment the run began, or until it has been
  idle for ``idle_s``.
* Threading: a reply's ``parent_id`` is the mention id of ``reply.parent.uri``; a quote post
  (``app.bsky.embed.record`` or ``recordWithMedia``) points at the quoted post.

Mention id: ``bluesky:at://<did>/app.bsky.feed.post/<rkey>``. Jetstream carries no handle and no counts:
the author is the DID (with its bsky.app profile URL); engagement stays empty.
"""

from streams.sources.connectors.bluesky.conf import BLUESKY_EXAMPLE, BlueskyConf, bluesky_command, bluesky_connectors
from streams.sources.connectors.bluesky.connector import DEFAULT_JETSTREAM, MAX_REPLAY_S, SEEN_MAX, BlueskyConnector
from streams.sources.connectors.bluesky.mapping import (
    ACCOUNT_GONE,
    POST,
    MalformedEvent,
    account_gone,
    event_to_deletion,
    event_to_mention,
    expand_links,
    link_card,
    link_facets,
    mention_id,
    new_post,
    post_commit,
    post_content,
    post_uri,
    quoted_post,
    subscribe_url,
)

__all__ = [
    "ACCOUNT_GONE", "BLUESKY_EXAMPLE", "DEFAULT_JETSTREAM", "MAX_REPLAY_S", "POST", "SEEN_MAX", "BlueskyConf", "BlueskyConnector", "MalformedEvent",
    "account_gone", "bluesky_command", "bluesky_connectors", "event_to_deletion", "event_to_mention", "expand_links", "link_card", "link_facets",
    "mention_id", "new_post", "post_commit", "post_content", "post_uri", "quoted_post", "subscribe_url",
]
