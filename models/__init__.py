"""Models Lytter builds and serves (the sentiment model lives in ``models.sentiment``)."""
