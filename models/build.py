"""``lytter model build``: the sentiment model (``models.sentiment.train``), then its intent head
(``models.intent.train``) and language head (``models.language.train``) on the same encoder. Each part is
rebuilt only when its own inputs changed: new intent data retrains that head in a minute or two without
touching the sentiment model."""

from __future__ import annotations

from pathlib import Path

__all__ = ["build_models"]


def build_models(settings=None, progress=None, *, force: bool = False, out_dir: Path | None = None) -> Path:
    """Build (or find up to date) the sentiment model and its intent head; the model directory."""
    from models.intent.train import ensure_head
    from models.language.train import ensure_language_head
    from models.sentiment.train import _settings, as_reporter, build_model

    settings = _settings(settings)
    reporter = as_reporter(progress)
    out = build_model(settings, reporter, force=force, out_dir=out_dir)
    ensure_head(out, settings, reporter, force=force)
    ensure_language_head(out, settings, reporter, force=force)
    return out
