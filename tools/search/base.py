"""The one interface every search backend implements, and the hit it returns."""

from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel

Recency = Literal["day", "week", "month", "year"]
BackendName = Literal["auto", "duckduckgo", "local"]


class SearchHit(BaseModel):
    """One search result: where it is, what it is called, and why it matched."""

    url: str
    title: str
    snippet: str
    rank: int
    backend: str
    published: datetime | None = None


@runtime_checkable
class SearchBackend(Protocol):
    """A search engine: `await backend.search("query", max_results=10)`."""

    name: str

    async def search(
        self, query: str, *, max_results: int = 10, recency: Recency | None = None
    ) -> list[SearchHit]: ...
