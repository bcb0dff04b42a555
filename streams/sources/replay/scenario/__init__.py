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
  replies to it.

Everything is reproducible from ``seed`` (the default ``start`` is fixed, too). Each mention's ``raw``
carries the ground truth under ``raw["scenario"]`` (brand, tone, role, incident), which the worker
keeps but does not index (``raw`` is stored, not mapped).

Usage::

    scenario = Scenario(seed=7)
    mentions = scenario.mentions()                 # sorted by published_at, timezone-aware
    start, end = scenario.incident_window()
    write_jsonl(mentions, "scenario.jsonl")        # for `lytter ingest jsonl` and friends
    watch = scenario.watch_config()                # brands + queries + crisis keywords, for the watch YAML
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
