"""A scripted, realistic mention stream for tests and the demo: quiet chatter, then an incident.

Unlike :mod:`streams.sources.replay.generate` (volume and shape for load tests), a :class:`Scenario` tells a
story that the alerting must notice:

* **Baseline.** Several (invented) brands are talked about at a steady rate (each brand gets a rate
  drawn from ``rate_per_minute``, default 2-5 mentions a minute, as a Poisson process), in Danish,
  Norwegian Bokmål and Nynorsk, Swedish and English, each brand with its own language mix. Most
  mentions are neutral, some mildly positive or mildly negative (about 55/25/20). Authors come from
  per-language pools with recurring handles and Pareto-distributed follower counts; about a quarter of
  the mentions are comments/replies to an earlier post about the same brand (``parent_id``), and posts
  carry engagement counts (``replies`` is the number of replies the scenario really contains). A little
  look-alike noise ("nordlys" the aurora, "hygge" and coffee) that matches no brand's query is mixed in.
* **Incident.** At ``incident_at_minute`` one brand gets a burst of ``burst_size`` clearly negative
  mentions within ``burst_minutes`` (default 60 in 2 minutes), in several languages, with crisis
  keywords (boykot/boikott/bojkott, tilbagekald/tilbakekalling/återkallelse/recall, skandale/skandal/
  scandal). Early in the burst one highly influential critic (about 500,000 followers, a recognisable
  handle such as ``forbrukerkrigeren``) posts a damning mention, and about a third of the burst are
  replies to it. Part of the burst is a **copy-paste campaign**: one complaint posted by
  ``copy_paste_size`` (default 24) distinct accounts within the two minutes, each copy with a small
  edit (an emoji, a hashtag, a prefix, case, punctuation), which the stories' campaign flag catches.
* **The answer loop.** Some neutral or negative posts are questions, requests or complaints addressed
  to the brand's own account in the form the source uses (``@nordlysenergi.bsky.social``,
  ``@fjordbank@social.example``, ``u/SkandiAir``, ``@hyggekaffe``), in all five languages. The brands'
  teams come online at minute ``support_online_at_minute`` (15): the morning backlog before it stays
  unanswered (every brand has at least one such question), later ones are answered by the brand's
  account (``brand_reply``, ``parent_id`` = the question) after 2-12 minutes with probability 0.75. In
  the incident, worried customers ask the brand's account what to do (about half get an answer 3-10
  minutes later), and the brand answers the critic 4-8 minutes after the post. The owned accounts and
  reply targets are those of deploy/watch.example.yaml (:meth:`Scenario.watch_file`).
* **Stories.** A few plain posts are reposted 1-3 times ("RT @x: ...", "... via @x", or quoted with a
  few words added) within 20 minutes, so near-duplicates share a ``story_id``.

Everything is reproducible from ``seed`` (the default ``start`` is fixed, too). Each mention's ``raw``
carries the ground truth under ``raw["scenario"]``, which the worker keeps but does not index (``raw``
is stored, not mapped): brand, lang, tone, incident and role (baseline, noise, incident, critic,
critic_reply, question, brand_reply, repost, copy_paste); questions and the critic's post add
``answered`` and ``answer_id``, questions their ``intent`` (question, request, complaint), reposts and
copies the ``story`` (id of the post they repeat; for copies, the first copy).

Usage::

    scenario = Scenario(seed=7)
    mentions = scenario.mentions()                 # sorted by published_at, timezone-aware
    start, end = scenario.incident_window()
    write_jsonl(mentions, "scenario.jsonl")        # for `lytter ingest jsonl` and friends
    watch = scenario.watch_config()                # brands, queries, owned accounts, reply targets, crisis keywords
    watch_file = scenario.watch_file()             # the same as a watch file the worker reads (LYTTER_WATCH_FILE)
    scenario.question_ids(answered=False)          # the questions nobody answers; copy_paste_ids() the campaign
    await replay(mentions, producer_send, speed=60, restamp=True)   # an hour in a minute, in live time

or from a shell: ``python -m streams.sources.replay.scenario scenario.jsonl --seed 7 --watch watch.yaml``.

The package: :mod:`.brands` (the brand profiles, crisis keywords), :mod:`.texts` (what people write, who
they are), :mod:`.records` (drafts, the critic), :mod:`.timeline` (when who writes what: the generator),
:mod:`.model` (:class:`Scenario`, its public API), :mod:`.files` (replay in live time, JSONL, the command).
"""

from __future__ import annotations

from streams.sources.replay.scenario.brands import BRANDS, CRISIS_KEYWORDS, BrandProfile
from streams.sources.replay.scenario.files import main, replay, write_jsonl
from streams.sources.replay.scenario.model import DEFAULT_START, Scenario
from streams.sources.replay.scenario.records import Critic

__all__ = [
    "BRANDS",
    "CRISIS_KEYWORDS",
    "DEFAULT_START",
    "BrandProfile",
    "Critic",
    "Scenario",
    "main",
    "replay",
    "write_jsonl",
]
