"""Bounded retries with exponential backoff, the one loop every retrying caller uses:

    for attempt in Retries(retries=2, backoff=0.5):
        try:
            return await call()
        except Transient:
            if attempt.last:
                raise
            await attempt.wait()

The n-th wait is `backoff * 2**n` seconds (or the server's hint, e.g. Retry-After), at most `cap`.
"""

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Attempt:
    number: int  # 0 for the first try
    last: bool  # no retry follows this one
    backoff: float
    cap: float | None

    def delay(self, hint: float | None = None) -> float:
        delay = hint if hint is not None else self.backoff * 2**self.number
        return delay if self.cap is None else min(delay, self.cap)

    async def wait(self, hint: float | None = None) -> None:
        await asyncio.sleep(self.delay(hint))

    def sleep(self, hint: float | None = None) -> None:
        """`wait` for synchronous callers."""
        time.sleep(self.delay(hint))


@dataclass(frozen=True)
class Retries:
    retries: int = 2  # tries after the first
    backoff: float = 0.5
    cap: float | None = None

    def __iter__(self) -> Iterator[Attempt]:
        for n in range(self.retries + 1):
            yield Attempt(n, n == self.retries, self.backoff, self.cap)
