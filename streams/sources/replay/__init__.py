"""Replay sources: mentions from files and generators rather than live sites.

:mod:`.jsonl` (a JSONL file of mentions, as they are), :mod:`.blogdump` (the plain-text blog-dump format),
:mod:`.generate` (synthetic load) and :mod:`.scenario` (a scripted stream with an incident).
"""
