"""``python -m streams.stories``: measure story assignment (see :mod:`streams.stories.memory`)."""

from streams.stories.memory import main

raise SystemExit(main())
