"""Conversation memory: threads of turns, so a follow-up question can lean on what came before.

The planner sees a thread's running summary plus its recent turns verbatim. Compaction folds older
turns into the summary with a summariser the caller supplies (an LLM, usually), so a long thread
stays small.
"""

import inspect
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from memory.db import Database
from memory.models import ThreadContext, ThreadInfo, Turn

# (summary so far, turns to fold in) -> new summary; may be a coroutine function
ThreadSummariser = Callable[[str, list[Turn]], str | Awaitable[str]]


class Conversations:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_turn(self, thread_id: str, question: str, answer: str, sources: list[str] = ()) -> Turn:
        now = datetime.now(UTC).isoformat()
        with self.db.write() as con:
            con.execute(
                "INSERT INTO threads(id, created_at, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at",
                (thread_id, now, now),
            )
            ordinal = con.execute("SELECT coalesce(max(ordinal), 0) + 1 FROM turns WHERE thread_id = ?", (thread_id,)).fetchone()[0]
            con.execute(
                "INSERT INTO turns(thread_id, ordinal, question, answer, sources, created_at) VALUES (?,?,?,?,?,?)",
                (thread_id, ordinal, question, answer, json.dumps(list(sources)), now),
            )
        return Turn(thread_id=thread_id, ordinal=ordinal, question=question, answer=answer, sources=list(sources), created_at=now)

    def context(self, thread_id: str, *, last: int = 4) -> ThreadContext:
        """The running summary and the last `last` turns that it does not already cover."""
        with self.db.connect() as con:
            row = con.execute("SELECT summary, summarized_through FROM threads WHERE id = ?", (thread_id,)).fetchone()
            summary, through = row if row else ("", 0)
            rows = con.execute(
                "SELECT * FROM (SELECT thread_id, ordinal, question, answer, sources, created_at FROM turns "
                "WHERE thread_id = ? AND ordinal > ? ORDER BY ordinal DESC LIMIT ?) ORDER BY ordinal",
                (thread_id, through, last),
            ).fetchall()
        return ThreadContext(thread_id=thread_id, summary=summary, turns=[_turn(r) for r in rows])

    def turns(self, thread_id: str) -> list[Turn]:
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT thread_id, ordinal, question, answer, sources, created_at FROM turns WHERE thread_id = ? ORDER BY ordinal",
                (thread_id,),
            ).fetchall()
        return [_turn(r) for r in rows]

    async def compact(self, thread_id: str, summarise: ThreadSummariser, *, keep: int = 4) -> int:
        """Fold every turn but the last `keep` into the thread's summary; returns how many were folded."""
        with self.db.connect() as con:
            row = con.execute("SELECT summary, summarized_through FROM threads WHERE id = ?", (thread_id,)).fetchone()
            if row is None:
                return 0
            summary, through = row
            rows = con.execute(
                "SELECT thread_id, ordinal, question, answer, sources, created_at FROM turns WHERE thread_id = ? "
                "AND ordinal > ? AND ordinal <= (SELECT max(ordinal) FROM turns WHERE thread_id = ?) - ? ORDER BY ordinal",
                (thread_id, through, thread_id, keep),
            ).fetchall()
        if not rows:
            return 0
        folded = [_turn(r) for r in rows]
        new_summary = summarise(summary, folded)
        if inspect.isawaitable(new_summary):
            new_summary = await new_summary
        with self.db.write() as con:
            # only move forward: a concurrent compaction that got further wins
            con.execute(
                "UPDATE threads SET summary = ?, summarized_through = ? WHERE id = ? AND summarized_through = ?",
                (new_summary, folded[-1].ordinal, thread_id, through),
            )
        return len(folded)

    def threads(self) -> list[ThreadInfo]:
        with self.db.connect() as con:
            rows = con.execute(
                """SELECT t.id, (SELECT count(*) FROM turns WHERE thread_id = t.id),
                          (SELECT count(*) FROM runs WHERE thread_id = t.id),
                          (SELECT question FROM turns WHERE thread_id = t.id ORDER BY ordinal LIMIT 1), t.updated_at
                   FROM threads t ORDER BY t.updated_at DESC"""
            ).fetchall()
        return [ThreadInfo(id=r[0], turns=r[1], runs=r[2], first_question=r[3], updated_at=r[4]) for r in rows]

    def forget(self, thread_id: str) -> bool:
        """Remove a thread with its turns and runs; the pages it read stay in knowledge memory."""
        with self.db.write() as con:
            return con.execute("DELETE FROM threads WHERE id = ?", (thread_id,)).rowcount > 0


def _turn(row: tuple) -> Turn:
    thread_id, ordinal, question, answer, sources, created_at = row
    return Turn(thread_id=thread_id, ordinal=ordinal, question=question, answer=answer,
                sources=json.loads(sources), created_at=created_at)
