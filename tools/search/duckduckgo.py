"""DuckDuckGo web search through the `ddgs` package.

`ddgs` is synchronous (it drives its own HTTP client), so each call runs in a worker thread with
an outer timeout: the event loop never blocks and a call never hangs. Its errors are mapped to
ours: rate limits, timeouts and unreachable service each get their own class.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from tools.errors import RateLimited, SearchTimeout, SearchUnavailable
from tools.search.base import Recency, SearchHit

_TIMELIMIT = {"day": "d", "week": "w", "month": "m", "year": "y"}


def _default_client(timeout: float) -> Any:
    from ddgs import DDGS  # imported lazily: it pulls in an HTTP stack the local backend never needs

    return DDGS(timeout=max(1, int(timeout)))


class DuckDuckGoSearch:
    """Web search with DuckDuckGo. `client_factory` builds the `ddgs.DDGS`-like client (tests stub it)."""

    name = "duckduckgo"

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        region: str = "wt-wt",
        client_factory: Callable[[float], Any] = _default_client,
    ) -> None:
        self.timeout = timeout
        self.region = region
        self._client_factory = client_factory

    async def search(
        self, query: str, *, max_results: int = 10, recency: Recency | None = None
    ) -> list[SearchHit]:
        try:
            rows = await asyncio.wait_for(
                asyncio.to_thread(self._search_sync, query, max_results, recency),
                timeout=self.timeout + 1,  # ddgs has its own timeout; this one catches a hang
            )
        except TimeoutError:
            raise SearchTimeout(f"DuckDuckGo did not answer within {self.timeout:g} s.") from None
        hits = []
        for row in rows[:max_results]:
            url = row.get("href") or row.get("url")
            if not url:
                continue
            hits.append(
                SearchHit(
                    url=url,
                    title=(row.get("title") or "").strip(),
                    snippet=(row.get("body") or "").strip(),
                    rank=len(hits) + 1,
                    backend=self.name,
                )
            )
        return hits

    def _search_sync(self, query: str, max_results: int, recency: Recency | None) -> list[dict]:
        from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException

        client = self._client_factory(self.timeout)
        try:
            return client.text(
                query,
                region=self.region,
                timelimit=_TIMELIMIT[recency] if recency else None,
                max_results=max_results,
                backend="duckduckgo",
            )
        except RatelimitException as e:
            raise RateLimited(f"DuckDuckGo is rate-limiting requests ({e}).") from e
        except TimeoutException as e:
            raise SearchTimeout(f"DuckDuckGo did not answer in time ({e}).") from e
        except DDGSException as e:
            message = str(e)
            if "No results found" in message:
                return []
            if "202" in message or "ratelimit" in message.lower():
                raise RateLimited(f"DuckDuckGo is rate-limiting requests ({message}).") from e
            raise SearchUnavailable(f"DuckDuckGo could not be reached ({_reason(message)}).") from e


def _reason(message: str) -> str:
    """ddgs nests its HTTP client's errors as text; name the cause a person can act on."""
    lowered = message.lower()
    for needle, reason in (("dns", "DNS lookup failed"), ("connect", "connection failed"), ("tls", "TLS failed")):
        if needle in lowered:
            return reason
    line = message.strip().splitlines()[0] if message.strip() else "no detail"
    return line if len(line) <= 80 else line[:79] + "…"
