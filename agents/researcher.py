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

from pydantic import BaseModel, Field

from agents.errors import ResearchError
from agents.llm import CallRecord, ChatModel, Usage, counting
from agents.planner import Limits, build_planner
from agents.session import Prepare, open_session
from agents.settings import Settings
from memory import Memory
from tools.clock import today
from tools.search import SearchBackend


class Source(BaseModel):
    number: int
    title: str
    url: str
    quote: str
    start: int
    end: int
    supported: bool


class Answer(BaseModel):
    question: str
    short: str  # the direct answer alone (a name, a date, a number, yes or no), no markers
    text: str  # the short answer, then the cited evidence for it
    citations: list[Source]
    sources: list[str]  # the URLs cited, in citation order
    plan: dict[str, dict]  # sub-question id -> question, depends_on, status, answer
    removed_citations: list[int] = Field(default_factory=list)
    unsupported_citations: list[int] = Field(default_factory=list)
    stopped: str | None = None  # the limit that ended research early, if one did ("the limit of 8 sub-questions ...")
    usage: Usage
    timings: dict[str, float]
    run_id: str
    thread_id: str


class Event(BaseModel):
    type: str  # PlanUpdated, SearchStarted, PageRead, SubAnswer, AnswerDelta, Done
    data: dict[str, Any] = Field(default_factory=dict)


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
            if event.type == "Done":
                answer = Answer(**event.data["answer"])
        assert answer is not None
        return answer

    async def astream(self, question: str, *, thread_id: str | None = None, run_id: str | None = None,
                      resume: bool = False) -> AsyncIterator[Event]:
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
            final: dict = {}
            async for namespace, mode, data in graph.astream(inputs, config, stream_mode=["updates", "custom"],
                                                             subgraphs=True):
                if mode == "custom":  # written inside a node: SearchStarted, PageRead, AnswerDelta
                    yield Event(type=data["type"], data={k: v for k, v in data.items() if k != "type"})
                    continue
                if namespace:
                    continue
                for node, change in data.items():
                    for event in (change or {}).get("events", []):
                        yield Event(type=event["type"], data={k: v for k, v in event.items() if k != "type"})
                    if node == "respond":
                        final = change
            state = (await graph.aget_state(config)).values
            final = final or state
            usage = Usage(prompt_tokens=sum(c.usage.prompt_tokens for c in calls),
                          completion_tokens=sum(c.usage.completion_tokens for c in calls), calls=len(calls))
            citations = [Source(**{k: c[k] for k in Source.model_fields}) for c in final.get("citations", [])]
            answer = Answer(
                question=state["question"], short=final.get("short", ""), text=final.get("answer", ""), citations=citations,
                sources=[c.url for c in citations],
                plan={k: {f: n.get(f) for f in ("question", "depends_on", "status", "answer")} for k, n in state["nodes"].items()},
                removed_citations=final.get("removed", []), unsupported_citations=final.get("unsupported", []),
                stopped=state.get("stopped"),
                usage=usage, timings={"total_s": round(time.perf_counter() - started, 3)},
                run_id=run_id, thread_id=thread_id,
            )
            await amem.tasks.finish_run(run_id, "done")
            await amem.conversations.add_turn(thread_id, answer.question, answer.text, answer.sources)
            yield Event(type="Done", data={"answer": answer.model_dump(mode="json")})

    @asynccontextmanager
    async def _checkpointer(self) -> AsyncIterator[Any]:
        """One checkpoint connection for all the runs of the moment: two connections writing the
        same SQLite file from one process can fail with "database is locked" (langgraph #8136)."""
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        if self._saver_users == 0:  # counted before any await: a run that starts meanwhile shares it
            opener = AsyncSqliteSaver.from_conn_string(str(self.settings.data_dir / "checkpoints.db"))
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
