"""The one interface every search backend implements, and the hit it returns."""

from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, field_validator

from tools.extract import clean

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

    @field_validator("title", "snippet")
    @classmethod
    def _no_terminal_control(cls, value: str) -> str:  # a search engine relays what pages say
        return clean(value)


@runtime_checkable
class SearchBackend(Protocol):
    """A search engine: `await backend.search("query", max_results=10)`."""

    name: str

    async def search(
        self, query: str, *, max_results: int = 10, recency: Recency | None = None
    ) -> list[SearchHit]: ...
