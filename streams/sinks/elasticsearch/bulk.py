"""One bulk request's actions and what its answer means, item by item.

Each item is one of: written; refused (the document's fault: a 4xx such as a mapping or date it cannot
parse), dead-lettered with Elasticsearch's own reason; or "not now", re-sent alone later and never
dead-lettered: 429/5xx (a full write queue, ``es_rejected_execution_exception``) and any
``cluster_block_exception``, whatever its status (the flood-stage disk block answers 429, a write block
set by an operator 403: neither is the document's fault).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

# A tombstone (partial update) can meet a replayed write of the same document: Elasticsearch then answers
# 409 unless the update retries on the new version.
RETRY_ON_CONFLICT = 5
#: Bulk item statuses that say "not now" rather than "not this document": retried, never dead-lettered.
RETRY_ON_STATUS = (429, *range(500, 600))
BLOCK = "cluster_block_exception"

_BLOCKED_INDEX = re.compile(r"index \[([^\]]+)\] blocked by: \[([^\]]+)\]")


@dataclass
class BulkResult:
    indexed: int = 0
    failed: list[tuple[str, int, str]] = field(default_factory=list)  # (id, status, reason)
    retry: list[dict[str, Any]] = field(default_factory=list)  # documents to send again (429/5xx, blocks)
    blocked: dict[str, str] = field(default_factory=dict)  # index -> Elasticsearch's reason for its block
    rejected: Counter = field(default_factory=Counter)  # error type -> items answered "not now" (re-sent)
    written_to: set[str] = field(default_factory=set)  # the concrete indices items were written to

    def merge(self, other: BulkResult) -> None:
        self.indexed += other.indexed
        self.failed.extend(other.failed)
        self.retry.extend(other.retry)
        self.blocked.update(other.blocked)
        self.rejected.update(other.rejected)
        self.written_to |= other.written_to


def upsert_action(index: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    # One write per mention, by the stage that has all of it, as an upsert: a new mention is simply
    # created (nothing to read or merge), while a re-write of one already indexed (an edit, a replay) merges
    # into it, so what others added since stays: the team's inbox actions and audit trail, an answer's
    # answered_* fields, a tombstone. A whole-document index would silently wipe them.
    return [{"update": {"_index": index, "_id": doc["id"], "retry_on_conflict": RETRY_ON_CONFLICT}}, {"doc": doc, "doc_as_upsert": True}]


def field_update_action(index: str, update: Mapping[str, Any]) -> list[dict[str, Any]]:
    fields = {k: v for k, v in update.items() if k != "id"}
    return [{"update": {"_index": index, "_id": update["id"], "retry_on_conflict": RETRY_ON_CONFLICT}}, {"doc": fields}]


def operations(pairs: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [line for pair in pairs for line in pair]


def describe_error(error: Any) -> tuple[str, str]:
    """(type, "type: reason (caused by type: reason)") of an Elasticsearch error object."""
    if not isinstance(error, dict):
        return "error", str(error)
    kind = str(error.get("type", "error"))
    reason = f"{kind}: {error.get('reason', '')}"
    caused = error.get("caused_by")
    if isinstance(caused, dict):
        reason += f" (caused by {caused.get('type')}: {caused.get('reason')})"
    return kind, reason


def _error_reason(item: dict[str, Any]) -> tuple[str, int, str]:
    op = next(iter(item.values()))
    return str(op.get("_id")), int(op.get("status", 0)), describe_error(op.get("error", {}))[1]


def read_items(items: list[dict[str, Any]], docs: list[dict[str, Any]]) -> BulkResult:
    """Sort a bulk answer's items (in the order of ``docs``) into written, refused and "not now"."""
    result = BulkResult()
    for item, doc in zip(items, docs):
        op = next(iter(item.values()))
        status = int(op.get("status", 0))
        if status < 300:
            result.indexed += 1
            result.written_to.add(str(op.get("_index")))
            continue
        kind, reason = describe_error(op.get("error", {}))
        if kind == BLOCK:
            match = _BLOCKED_INDEX.search(reason)
            index = match.group(1) if match else str(op.get("_index"))
            result.blocked[index] = match.group(2) if match else reason
        if kind == BLOCK or status in RETRY_ON_STATUS:
            result.retry.append(doc)  # not the document's fault: send it again, alone
            result.rejected[kind] += 1
        else:
            result.failed.append((str(op.get("_id")), status, reason))
    return result


def block_fix(index: str, block: str) -> str:
    """What to do about Elasticsearch's block ``block`` (the text in its ``blocked by: [...]``) on ``index``."""
    if "read-only-allow-delete" in block:
        return (
            "free disk space on the data nodes (the block follows the flood-stage watermark, "
            "cluster.routing.allocation.disk.watermark.flood_stage; Elasticsearch lifts it itself once usage is back "
            f"under the high watermark), then lift it: PUT {index}/_settings "
            '{"index.blocks.read_only_allow_delete": null}'
        )
    for setting, words in (("index.blocks.write", "index write"), ("index.blocks.read_only", "index read-only")):
        if words in block:
            return f"lift the block when its reason is over: PUT {index}/_settings {{\"{setting}\": null}}"
    return "see Elasticsearch's reason above (a cluster-wide block: cluster health, master, cluster settings)"
