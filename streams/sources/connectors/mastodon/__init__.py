"""Mastodon: public hashtag timelines, status search, and the streaming API (server-sent events).

REST (``docs.joinmastodon.org/methods/timelines`` and ``/methods/search``):

* ``GET /api/v1/timelines/tag/:hashtag?limit=40`` and ``GET /api/v2/search?q=…&type=statuses&limit=40``.
* First run: the newest page, then ``backfill_pages - 1`` older pages (``max_id``, the ``rel="next"`` Link).
  Afterwards every poll reads *forward* from the checkpoint: ``min_id=<newest id seen>`` returns the page
  immediately newer, and the ``rel="prev"`` Link (or the page's newest id) gives the next one, until an
  empty page. Every page is checkpointed once published, so a restart resumes with no gap.
* ``overlap_s``: Mastodon ids are time-based (Snowflake: ms << 16), and a post that federates late gets
  an id *older* than ones already read. Each forward pass therefore starts ``overlap_s`` before the
  checkpoint, and a bounded seen-set in the checkpoint drops what was already published.

Streaming (``stream: true``, hashtags only; Mastodon 4.2+ wants a user token, so ``token_env`` is required):
``GET /api/v1/streaming/hashtag?tag=…`` (``text/event-stream``; ``event: update`` carries a status,
``status.update`` an edited one, ``delete`` the id of a deleted one; ``:`` lines are heart-beats). On every
(re)connect the REST catch-up runs first, *after* the stream is open, so nothing posted in between is missed.

Edits and deletions: an edit is the same mention again with ``edited_at`` (from ``status.update`` events, and
from REST re-reads of a status whose ``edited_at`` is newer than the one published: the checkpoint keeps
``edited``, id -> last published ``edited_at``). A ``delete`` event names only the local id: a streaming
connector keeps id -> uri of what it published (``uris`` in its checkpoint, bounded, besides the in-memory
cache shared per instance) and yields a ``Deletion`` of ``mastodon:<uri>``; an unknown id is skipped. REST
polling cannot see deletions.

Mapping: the mention id is ``mastodon:<status uri>`` (the ActivityPub id: the same post seen through two
instances is one mention); replies get ``parent_id`` = the replied-to status's mention id (looked up with
``GET /api/v1/statuses/:id`` when it was not seen, ``resolve_parents``); quote posts (4.4+) point at the
quoted status. Author: ``acct`` as ``user@host``, ``followers_count``; engagement: favourites, reblogs,
replies and quotes counts; the HTML content becomes plain text (without the ``quote-inline`` "RE: <link>"
fallback of quote posts) and a content warning (``spoiler_text``) the title. An empty first page of a hashtag
timeline is warned about once (the instance may not serve it).
"""


from streams.sources.connectors.mastodon.mapping import MalformedStatus, instance_base, host_of, id_key, newest, link_param, snowflake_seconds, snowflake_at, account_handle, _count, quoted_uri, status_to_mention, strip_quote_fallback
from streams.sources.connectors.mastodon.connector import SSEDecoder, MastodonConnector
from streams.sources.connectors.mastodon.conf import MastodonConf, mastodon_connectors, mastodon_command, MASTODON_EXAMPLE

__all__ = ['MASTODON_EXAMPLE', 'MalformedStatus', 'MastodonConf', 'MastodonConnector', 'SSEDecoder', 'account_handle', 'host_of', 'id_key', 'instance_base', 'link_param', 'mastodon_command', 'mastodon_connectors', 'newest', 'quoted_uri', 'snowflake_at', 'snowflake_seconds', 'status_to_mention', 'strip_quote_fallback']
