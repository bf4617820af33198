"""Which part of memory a recall looks at."""

import json
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """Which part of memory to recall from: all of it, one run's pages, one thread's pages, or
    given pages (a sub-question's own and those of the sub-questions it builds on)."""

    kind: str = "all"
    id: str | None = None
    page_ids: tuple[int, ...] = ()

    @classmethod
    def run(cls, run_id: str) -> "Scope":
        return cls("run", run_id)

    @classmethod
    def thread(cls, thread_id: str) -> "Scope":
        return cls("thread", thread_id)

    @classmethod
    def pages(cls, page_ids: Iterable[int]) -> "Scope":
        return cls("pages", page_ids=tuple(sorted(set(page_ids))))

    def pages_sql(self) -> tuple[str, tuple]:
        """A subquery of the page ids in scope ('' for all memory)."""
        if self.kind == "run":
            return "SELECT page_id FROM run_pages WHERE run_id = ?", (self.id,)
        if self.kind == "thread":
            return "SELECT rp.page_id FROM run_pages rp JOIN runs r ON r.id = rp.run_id WHERE r.thread_id = ?", (self.id,)
        if self.kind == "pages":
            return "SELECT value FROM json_each(?)", (json.dumps(self.page_ids),)
        return "", ()


ALL = Scope()
