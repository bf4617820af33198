"""The default backend: DuckDuckGo, falling back to the local corpus when the web is unavailable.

Rate limits get a bounded number of retries with backoff; any other failure (no route, DNS,
timeout) falls back at once. The fallback is announced in one line through `notify`, and lasts
`cooldown` seconds so a run does not pay for the same failure on every query.
"""

import logging
import time
from collections.abc import Callable

from tools.errors import EmptyCorpus, RateLimited, SearchUnavailable
from tools.search.base import Recency, SearchBackend, SearchHit
from tools.search.local import LocalIndex
from tools.retry import Retries


log = logging.getLogger("sleuth.search")


def _stderr(message: str) -> None:
    log.warning(message)


class AutoSearch:
    name = "auto"

    def __init__(
        self,
        web: SearchBackend,
        local: LocalIndex,
        *,
        retries: int = 2,
        backoff: float = 1.0,
        cooldown: float = 300.0,
        notify: Callable[[str], None] = _stderr,
    ) -> None:
        self.web = web
        self.local = local
        self.retries = retries
        self.backoff = backoff
        self.cooldown = cooldown
        self.notify = notify
        self._web_down_until = 0.0

    async def search(
        self, query: str, *, max_results: int = 10, recency: Recency | None = None
    ) -> list[SearchHit]:
        if time.monotonic() >= self._web_down_until:
            try:
                return await self._web(query, max_results, recency)
            except SearchUnavailable as e:
                self._web_down_until = time.monotonic() + self.cooldown
                self.notify(f"{e} Searching the local corpus instead.")
        try:
            return await self.local.search(query, max_results=max_results, recency=recency)
        except EmptyCorpus:
            raise EmptyCorpus(
                "Web search is unavailable and the local corpus is empty; "
                "add documents with `sleuth index add PATH`."
            ) from None

    async def _web(self, query: str, max_results: int, recency: Recency | None) -> list[SearchHit]:
        for attempt in Retries(self.retries, self.backoff):
            try:
                return await self.web.search(query, max_results=max_results, recency=recency)
            except RateLimited:
                if attempt.last:
                    raise
                await attempt.wait()
        raise AssertionError("unreachable")
