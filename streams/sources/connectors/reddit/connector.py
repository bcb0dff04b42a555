"""The Reddit connector (one listing: new posts, new comments, or a search) and app-only OAuth."""

from __future__ import annotations

import logging
import time
from typing import Any, AsyncIterator

from streams.schema import Deletion, Mention
from streams.sources.base import Batch, Connector, SourceError, TokenBucket, errors_total
from streams.sources.connectors.reddit.mapping import WEB, MalformedThing, fullname, id_number, listing_children, thing_deletion, thing_to_mention
from streams.sources.http import SourceHttp, malformed
from streams.sources.text import SeenIds

log = logging.getLogger(__name__)

SEEN_MAX = 3000
#: ``/api/info.json`` answers at most 100 ids a request
RECHECK_MAX = 100


# --- OAuth (app-only) ----------------------------------------------------------------------------------


class RedditAuth:
    """Application-only OAuth (``grant_type=client_credentials``); the token is fetched when needed and
    again shortly before it expires. Shared by the connectors of one configuration entry."""

    def __init__(self, client_id: str, client_secret: str, token_url: str = f"{WEB}/api/v1/access_token") -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self._token: str | None = None
        self._expires = 0.0

    def __repr__(self) -> str:
        return f"<RedditAuth {self.token_url}>"

    def invalidate(self) -> None:
        self._token = None

    async def headers(self, http: SourceHttp, source: str, limiter: TokenBucket | None) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._expires - 60:
            response = await http.request(
                source,
                "POST",
                self.token_url,
                data={"grant_type": "client_credentials"},
                auth=(self._client_id, self._client_secret),
                limiter=limiter,
            )
            try:
                data = response.json()
                self._token = str(data["access_token"])
                self._expires = time.monotonic() + float(data.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError):
                raise SourceError(
                    source,
                    self.token_url,
                    "the token endpoint did not answer with an access_token",
                    "Check the app's client id and secret (a 'script' or 'web' app at reddit.com/prefs/apps)",
                ) from None
        return {"Authorization": f"bearer {self._token}"}


# --- the connector -------------------------------------------------------------------------------------


class _Memory:
    """What the checkpoint remembers of items already read: their ids (``seen``), the ids reported gone
    (``gone``) and the last ``edited`` time of each (``edited``), each bounded (oldest forgotten first)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.seen = SeenIds(state.get("seen", []), SEEN_MAX)
        self.gone = SeenIds(state.get("gone", []), SEEN_MAX)
        edited = state.get("edited")
        self.edited: dict[str, float] = dict(edited) if isinstance(edited, dict) else {}

    def saw_edit(self, mention_id: str, stamp: float) -> None:
        self.edited.pop(mention_id, None)
        self.edited[mention_id] = stamp
        while len(self.edited) > SEEN_MAX:
            self.edited.pop(next(iter(self.edited)))

    def to_state(self) -> dict[str, Any]:
        return {"seen": self.seen.to_list(), "gone": self.gone.to_list(), "edited": dict(self.edited)}


class RedditConnector(Connector):
    """One listing: a subreddit's new posts, its new comments, or a search."""

    kind = "reddit"

    def __init__(
        self,
        *,
        subreddit: str | None = None,
        listing: str = "new",
        search: str | None = None,
        restrict_to: list[str] | None = None,
        base_url: str = WEB,
        interval_s: float = 120.0,
        limit: int = 100,
        max_pages: int = 10,
        backfill_pages: int = 1,
        limiter: TokenBucket | None = None,
        auth: RedditAuth | None = None,
        user_agent: str | None = None,
        recheck: int = RECHECK_MAX,
    ) -> None:
        self.user_agent = user_agent
        self.base = base_url.rstrip("/")
        params: dict[str, Any] = {"limit": max(1, min(100, limit)), "raw_json": 1}
        if search is not None:
            subs = "+".join(restrict_to or [])
            self.path = f"/r/{subs}/search.json" if subs else "/search.json"
            params.update(q=search, sort="new", type="link")
            if subs:
                params["restrict_sr"] = 1
            source_id = f"reddit:search:{search}" + (f":r/{subs}" if subs else "")
        else:
            if not subreddit or listing not in ("new", "comments"):
                raise ValueError("a Reddit listing needs a subreddit and listing 'new' or 'comments'")
            subreddit = subreddit.strip().removeprefix("/").removeprefix("r/")
            self.path = f"/r/{subreddit}/{listing}.json"
            source_id = f"reddit:r/{subreddit}:{listing}"
        super().__init__(source_id, interval_s=interval_s)
        self.params = params
        self.max_pages = max_pages
        self.backfill_pages = max(1, backfill_pages)
        self.limiter = limiter or TokenBucket(0.5, burst=2)
        self.auth = auth
        self.recheck = max(0, min(RECHECK_MAX, recheck))

    async def _listing(self, http: SourceHttp, after: str | None) -> tuple[list[dict], str | None]:
        params = dict(self.params)
        if after:
            params["after"] = after
        return await self._get_listing(http, f"{self.base}{self.path}", params)

    async def _get_listing(self, http: SourceHttp, url: str, params: dict[str, Any]) -> tuple[list[dict], str | None]:
        """GET one listing (with the OAuth token, fetched again once on a 401): (children, after)."""
        for attempt in (1, 2):
            headers = {"Accept": "application/json"}
            if self.user_agent:
                headers["User-Agent"] = self.user_agent
            if self.auth is not None:
                headers.update(await self.auth.headers(http, self.source_id, self.limiter))
            try:
                data, response = await http.get_json(self.source_id, url, params=params, headers=headers, limiter=self.limiter)
            except SourceError as exc:
                if exc.status == 401 and self.auth is not None and attempt == 1:
                    self.auth.invalidate()  # expired or revoked: fetch a new token once
                    continue
                raise
            try:
                return listing_children(data)
            except MalformedThing as exc:
                raise malformed(self.source_id, response, f"{exc} (a Reddit listing is {{kind: Listing, data: {{children, after}}}})") from None
        raise AssertionError("unreachable")

    def _examine(self, children: list, hwm: int | None, memory: _Memory) -> tuple[list[Mention], list[Deletion]]:
        """The mentions and deletions of one page. Every item on it is looked at, new or read before (a
        poll re-reads its first page, down to what the last one read): a new item is published; one gone
        since (``[deleted]``, ``[removed]``, author ``[deleted]``) is a deletion, once; one edited since
        (``edited`` newer than the last seen) is published again, with ``edited_at``."""
        mentions: list[Mention] = []
        deletions: list[Deletion] = []
        for child in children:
            try:
                deletion = thing_deletion(child)
                mention = None if deletion is not None else thing_to_mention(child)
            except MalformedThing as exc:
                errors_total.labels(self.source_id).inc()
                log.warning("%s: skipping a malformed item: %s", self.source_id, exc)
                continue
            if deletion is not None:
                if deletion.id not in memory.gone:
                    memory.gone.add(deletion.id)
                    deletions.append(deletion)
                continue
            if mention is None:
                continue
            stamp = mention.edited_at.timestamp() if mention.edited_at is not None else None
            fresh = hwm is None or (self._key(child) or 0) > hwm
            new = mention.id not in memory.seen and fresh
            if not new and (stamp is None or stamp <= memory.edited.get(mention.id, 0.0)):
                continue  # read before, and not edited since
            memory.seen.add(mention.id)
            if stamp is not None:
                memory.saw_edit(mention.id, stamp)
            mentions.append(mention)
        return mentions, deletions

    def _key(self, child: Any) -> int | None:
        try:
            return id_number(fullname(child.get("kind", "t3"), child["data"]))
        except (MalformedThing, KeyError, AttributeError, TypeError):
            return None

    async def poll(self, http: SourceHttp) -> AsyncIterator[Batch]:
        state = dict(self.state)
        memory = _Memory(state)
        hwm: int | None = state.get("hwm")
        scan = dict(state.get("scan") or {"after": None, "top": None, "pages": 0})
        pages_this_poll = 0
        while True:
            children, after = await self._listing(http, scan.get("after"))
            pages_this_poll += 1
            scan["pages"] = int(scan.get("pages") or 0) + 1
            keys = [k for k in (self._key(c) for c in children) if k is not None]
            reached = hwm is not None and any(k <= hwm for k in keys)
            mentions, deletions = self._examine(children, hwm, memory)
            top = max([k for k in (scan.get("top"), *keys) if k is not None], default=None)
            complete = reached or after is None or not children or (hwm is None and scan["pages"] >= self.backfill_pages)
            if complete:
                new_hwm = max([k for k in (hwm, top) if k is not None], default=None)
                state = {**state, **memory.to_state(), "hwm": new_hwm, "scan": None}
            else:
                scan.update(after=after, top=top)
                state = {**state, **memory.to_state(), "scan": dict(scan)}
            note = f"page {scan['pages']}" + (" (caught up)" if complete else "")
            yield Batch(mentions, state, len(children), note, deletions=deletions)
            if complete:
                if self.recheck:
                    async for batch in self._recheck(http, state, memory):
                        yield batch
                return
            if pages_this_poll >= self.max_pages:
                log.info("%s: %d pages read this poll; the pass continues on the next poll", self.source_id, pages_this_poll)
                return

    # -- deletions and edits of items older than the pages a poll reads ------------------------------------

    def _recheck_ids(self, memory: _Memory, after: str | None) -> list[str]:
        """The next ``recheck`` published ids after ``after`` (oldest first, wrapping round), not yet gone."""
        ids = list(memory.seen)  # the gone ones too: ``after`` may have gone since
        start = ids.index(after) + 1 if after in ids else 0
        ring = [i for i in ids[start:] + ids[:start] if i not in memory.gone]
        return ring[: self.recheck]

    async def _recheck(self, http: SourceHttp, state: dict[str, Any], memory: _Memory) -> AsyncIterator[Batch]:
        """After a complete pass: one ``/api/info.json?id=…`` look-up of up to ``recheck`` published items,
        in turn, so an item deleted, removed or edited after it fell off the listing's first pages is still
        seen (a deletion, or the edit). A failed look-up is logged and left for the next poll."""
        ids = self._recheck_ids(memory, state.get("recheck_after"))
        if not ids:
            return
        names = [i.removeprefix("reddit:") for i in ids]
        try:
            children, _ = await self._get_listing(http, f"{self.base}/api/info.json", {"id": ",".join(names), "raw_json": 1})
        except SourceError as exc:
            log.warning("%s: the look-up of %d published items failed (%s); tried again next poll", self.source_id, len(ids), exc.problem)
            return
        mentions, deletions = self._examine(children, state.get("hwm"), memory)
        state = {**state, **memory.to_state(), "recheck_after": ids[-1]}
        yield Batch(mentions, state, len(children), f"re-checked {len(ids)} published items", deletions=deletions)
