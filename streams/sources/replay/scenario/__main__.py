"""``python -m streams.sources.replay.scenario OUT.jsonl [--seed N] [--watch watch.yaml]``."""

from streams.sources.replay.scenario.files import main

raise SystemExit(main())
