"""State: the stateful stages (per-author influence, per-brand windows and incidents).

Each stage works on ``MutableMapping`` tables: Faust tables (changelog-backed, restored on restart) in the
worker, plain dicts in the unit tests. Values are JSON-safe dicts.
"""
