"""`Researcher`: sleuth's Python API. Ask a question, get an answer whose claims cite pages read.

    from agents import Researcher
    r = Researcher()                          # settings from env / config file; local model
    answer = r.ask("Who makes Kentucky Tavern?")
    async for event in r.astream("..."): ...

Runs are checkpointed (LangGraph's SQLite checkpointer, `checkpoints.db` in the data dir) under a
run id; `resume=True` continues an interrupted run without redoing finished sub-questions.
Follow-up questions on the same `thread_id` see the thread's earlier turns.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from agents.errors import ResearchError
from agents.events import Answer, Done, Event, Source
from agents.llm import CallRecord, ChatModel, Usage, counting
from agents.plan import CHECKPOINTED
from agents.planner import Limits, build_planner
from agents.session import Prepare, open_session
from agents.settings import Settings
from memory import Memory
from tools.clock import today
from tools.search import SearchBackend


def new_thread_id() -> str:
    return uuid.uuid4().hex[:12]


def new_run_id(thread_id: str) -> str:
    """A run's id starts with its thread's, so `--resume RUN` finds the thread too."""
    return f"{thread_id}-{uuid.uuid4().hex[:6]}"


class Researcher:
    def __init__(self, settings: Settings | None = None, *, chat: ChatModel | None = None,
                 search: SearchBackend | None = None, limits: Limits = Limits(),
                 prepare: Prepare | None = None) -> None:
        self.settings = settings or Settings.load()
        self._prepare = prepare  # how a catalogue model is converted on first use (the CLI shows progress)
        self._chat = chat
        self._search = search
        self.limits = limits
        self._saver: tuple[Any, asyncio.Future] | None = None  # the checkpointer the runs of the moment share
        self._saver_users = 0

    def ask(self, question: str, **kwargs: Any) -> Answer:
        return asyncio.run(self.aask(question, **kwargs))

    async def aask(self, question: str, **kwargs: Any) -> Answer:
        answer = None
        async for event in self.astream(question, **kwargs):
            if isinstance(event, Done):
                answer = event.answer
        assert answer is not None
        return answer

    async def astream(self, question: str, *, thread_id: str | None = None, run_id: str | None = None,
                      resume: bool = False) -> AsyncIterator[Event]:
        if not (question.strip() or resume):
            raise ResearchError("the question is empty; say what to research.")
        s = self.settings
        thread_id = thread_id or new_thread_id()
        run_id = run_id or new_run_id(thread_id)
        memory = s.open_memory()
        if resume:
            record = memory.tasks.get_run(run_id)
            if record is None:
                raise ResearchError(f"there is no run {run_id!r} to resume; see `sleuth history`.")
            question, thread_id = record.question, record.thread_id or thread_id
            memory.tasks.start_run(run_id, question, thread_id=thread_id)
        try:
            with counting() as calls:  # this run's LLM calls, even when the client is shared
                async for event in self._run(memory, question, thread_id, run_id, resume, calls):
                    yield event
        except BaseException as e:  # the run stays checkpointed; history says how it ended
            memory.tasks.finish_run(run_id, "interrupted" if isinstance(e, (asyncio.CancelledError, KeyboardInterrupt,
                                                                            GeneratorExit)) else "failed")
            raise

    async def _run(self, memory: Memory, question: str, thread_id: str, run_id: str, resume: bool,
                   calls: list[CallRecord]) -> AsyncIterator[Event]:
        s = self.settings
        started = time.perf_counter()
        async with AsyncExitStack() as stack:
            session = await stack.enter_async_context(open_session(s, chat=self._chat, search=self._search,
                                                                   memory=memory, prepare=self._prepare))
            amem = session.memory
            s.data_dir.mkdir(parents=True, exist_ok=True)
            saver = await stack.enter_async_context(self._checkpointer())
            graph = build_planner(session.deps, self.limits, checkpointer=saver)
            config = {"configurable": {"thread_id": run_id}, "recursion_limit": 100}
            if resume and (await graph.aget_state(config)).values:
                inputs = None  # continue from the last checkpoint
            else:
                history = [f"{t.question} -> {t.answer}" for t in memory.conversations.context(thread_id).turns]
                await amem.tasks.start_run(run_id, question, thread_id=thread_id)
                inputs = {"question": question, "history": history, "today": today().isoformat(), "run_id": run_id,
                          "started": time.time()}
            async for event in graph.astream(inputs, config, stream_mode="custom", subgraphs=True):
                yield event[1]  # (namespace, event): every event is written by the node it tells of
            state = (await graph.aget_state(config)).values
            usage = Usage(prompt_tokens=sum(c.usage.prompt_tokens for c in calls),
                          completion_tokens=sum(c.usage.completion_tokens for c in calls), calls=len(calls),
                          largest_prompt=max((c.usage.prompt_tokens for c in calls), default=0))
            citations = [Source(**{k: c[k] for k in Source.model_fields}) for c in state.get("citations", [])]
            answer = Answer(
                question=state["question"], short=state.get("short", ""), text=state.get("answer", ""), citations=citations,
                sources=[c.url for c in citations], read=state.get("read", []),
                plan={k: n.item() for k, n in state["nodes"].items()},
                removed_citations=state.get("removed", []), unsupported_citations=state.get("unsupported", []),
                stopped=state.get("stopped"),
                usage=usage, timings={"total_s": round(time.perf_counter() - started, 3)},
                run_id=run_id, thread_id=thread_id,
            )
            await amem.tasks.finish_run(run_id, "done")
            await amem.conversations.add_turn(thread_id, answer.question, answer.text, answer.sources)
            yield Done(answer=answer)

    @asynccontextmanager
    async def _checkpointer(self) -> AsyncIterator[Any]:
        """One checkpoint connection for all the runs of the moment: two connections writing the
        same SQLite file from one process can fail with "database is locked" (langgraph #8136)."""
        if self._saver_users == 0:  # counted before any await: a run that starts meanwhile shares it
            opener = _open_saver(self.settings.data_dir / "checkpoints.db")
            self._saver = (opener, asyncio.ensure_future(opener.__aenter__()))
        self._saver_users += 1
        opener, opened = self._saver
        try:
            yield await asyncio.shield(opened)
        finally:
            self._saver_users -= 1
            if self._saver_users == 0:
                self._saver = None
                if opened.done() and not opened.cancelled() and opened.exception() is None:
                    await opener.__aexit__(None, None, None)


@asynccontextmanager
async def _open_saver(path) -> AsyncIterator[Any]:
    """LangGraph's SQLite checkpointer, reading back only plain data and the plan's own types."""
    import aiosqlite
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with aiosqlite.connect(str(path)) as conn:
        yield AsyncSqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINTED))
