"""`Memory`: the one object the agents and the CLI hold, over one SQLite file in the data dir.

    memory = Memory(data_dir / "memory.db")
    memory.knowledge.add(page, run_id=...)        # knowledge memory
    memory.conversations.add_turn(thread, q, a)   # conversation memory
    memory.tasks.save_node(run_id, node)          # task memory
    memory.recall("question", budget_tokens=2000, scope=Scope.run(run_id))

Every method is synchronous and short; from async code call them through `AsyncMemory`, which
runs each in a worker thread so the event loop never blocks on SQLite.
"""

import asyncio
import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory.chunking import TokenCounter, approx_tokens
from memory.conversation import Conversations
from memory.db import Database
from memory.knowledge import Knowledge
from memory.models import Recall
from memory.recall import ALL, RecallParams, Scope, recall
from memory.summary import Summariser, extractive_summary
from memory.tasks import Tasks


class Memory:
    def __init__(
        self,
        path: Path,
        *,
        target_tokens: int = 200,
        max_chunks_per_page: int = 256,
        count: TokenCounter = approx_tokens,
        summarise: Summariser = extractive_summary,
    ) -> None:
        self.db = Database(path)
        self.knowledge = Knowledge(
            self.db, target_tokens=target_tokens, max_chunks_per_page=max_chunks_per_page, count=count, summarise=summarise
        )
        self.conversations = Conversations(self.db)
        self.tasks = Tasks(self.db)

    @property
    def path(self) -> Path:
        return self.db.path

    def recall(self, query: str, *, budget_tokens: int, scope: Scope = ALL, params: RecallParams = RecallParams()) -> Recall:
        return recall(self.db, query, budget_tokens=budget_tokens, scope=scope, params=params)


class _Awaited:
    """Wraps an object so that each of its methods runs in a worker thread and is awaited."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value) or inspect.iscoroutinefunction(value):
            return value
        return _in_thread(value)


class AsyncMemory(_Awaited):
    """The same API as `Memory`, awaited: `await AsyncMemory(memory).knowledge.add(page)`."""

    def __init__(self, memory: Memory) -> None:
        super().__init__(memory)
        self.knowledge = _Awaited(memory.knowledge)
        self.conversations = _Awaited(memory.conversations)
        self.tasks = _Awaited(memory.tasks)


def _in_thread(fn: Callable) -> Callable:
    @functools.wraps(fn)
    async def call(*args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    return call
