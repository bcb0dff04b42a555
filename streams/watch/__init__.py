"""The brand watch: one YAML file of brands, alert thresholds and connectors, validated and hot-reloaded."""

from streams.watch.file import Brand, Watch, WatchConfigError, WatchFile, load_watch, parse_watch

__all__ = ["Brand", "Watch", "WatchConfigError", "WatchFile", "load_watch", "parse_watch"]
