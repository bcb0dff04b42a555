"""The connectors (sources Lytter polls or listens to) and their registry.

One package per source (``rss``, ``mastodon``, ``reddit``, ``bluesky``): the connector, its
watch-file model (``*Conf``), its builder and the options of ``lytter ingest <name>``. :data:`REGISTRY`
is the one table that the watch file's ``connectors:`` model (:mod:`streams.sources.config`),
:func:`streams.sources.config.build_connectors` and the ``lytter ingest <name>`` commands read: a new
source is a module plus a row here. Its name is the connectors' ``kind`` (``lytter ingest run --only``).

The push endpoint (``connectors.push``) is not a connector (it serves, it does not fetch): it stays in
:mod:`streams.sources.config` and :mod:`streams.sources.push`.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from streams.sources.connectors import bluesky, mastodon, reddit, rss
from streams.sources.connectors.spec import CliRun, ConnectorConf, ConnectorConfigError, ConnectorSpec

__all__ = ["REGISTRY", "CliRun", "ConnectorConf", "ConnectorConfigError", "ConnectorSpec"]

REGISTRY: Mapping[str, ConnectorSpec] = MappingProxyType(
    {
        "rss": ConnectorSpec(
            conf=rss.RssConf,
            build=rss.rss_connectors,
            command=rss.rss_command,
            help="RSS/Atom feeds (and WordPress comment feeds); an entry may be a bare URL",
            example=rss.RSS_EXAMPLE,
        ),
        "mastodon": ConnectorSpec(
            conf=mastodon.MastodonConf,
            build=mastodon.mastodon_connectors,
            command=mastodon.mastodon_command,
            help="Mastodon hashtag timelines, status searches and the streaming API, one entry per instance",
            example=mastodon.MASTODON_EXAMPLE,
        ),
        "reddit": ConnectorSpec(
            conf=reddit.RedditConf,
            build=reddit.reddit_connectors,
            command=reddit.reddit_command,
            help="Reddit listings (new posts, new comments) and searches",
            example=reddit.REDDIT_EXAMPLE,
        ),
        "bluesky": ConnectorSpec(
            conf=bluesky.BlueskyConf,
            build=bluesky.bluesky_connectors,
            command=bluesky.bluesky_command,
            help="Bluesky posts with keywords, from the Jetstream firehose",
            example=bluesky.BLUESKY_EXAMPLE,
        ),
    }
)
