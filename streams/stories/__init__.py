"""Stories: near-duplicate mentions grouped under one ``story_id`` (:mod:`streams.stories.index`),
their text normalisation (:mod:`streams.stories.shingles`) and the coordinated-campaign flag
(:mod:`streams.stories.campaign`). ``python -m streams.stories --help`` measures memory and throughput."""

from streams.stories.campaign import CampaignConfig, CampaignSignal, is_campaign
from streams.stories.index import DEFAULT_THRESHOLD, StoryIndex, StoryMatch, story_id_for

__all__ = ["DEFAULT_THRESHOLD", "CampaignConfig", "CampaignSignal", "StoryIndex", "StoryMatch", "is_campaign", "story_id_for"]
