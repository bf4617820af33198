"""Reading pages: from memory when sleuth read them recently, else from the web, and into memory.

This is the searcher's "read" step: a page fetched within the freshness window is not fetched
again, every page read is recorded for the
run, and pages are fetched concurrently within the fetcher's limits.
"""

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from memory import Added, AsyncMemory
from tools import Fetcher


@dataclass(frozen=True)
class Read:
    url: str
    added: Added | None  # what memory holds for the page, None when nothing usable was read
    from_memory: bool
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.added is not None and self.added.page is not None


class Reader:
    def __init__(self, fetcher: Fetcher, memory: AsyncMemory, *, freshness: timedelta = timedelta(hours=24)) -> None:
        self.fetcher = fetcher
        self.memory = memory
        self.freshness = freshness

    async def read(self, url: str, *, run_id: str | None = None) -> Read:
        if self.freshness > timedelta(0):
            stored = await self.memory.knowledge.fresh(url, self.freshness)
            if stored is not None:
                if run_id is not None:
                    await self.memory.tasks.record_page(run_id, stored.id)
                return Read(url=url, added=Added(status="unchanged", page=stored), from_memory=True)
        page = await self.fetcher.fetch(url)
        if not page.text:
            return Read(url=url, added=None, from_memory=False, error=page.error or "no text")
        added = await self.memory.knowledge.add(page, run_id=run_id)
        return Read(url=url, added=added, from_memory=False, error=added.reason if added.page is None else None)

    async def read_many(self, urls: list[str], *, run_id: str | None = None) -> list[Read]:
        return list(await asyncio.gather(*(self.read(u, run_id=run_id) for u in urls)))
