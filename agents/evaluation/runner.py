"""Answering questions in a mode (`Evaluator`), many at a time, each result appended as it
finishes (`evaluate`)."""

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path

from agents import prompts
from agents.citations import strip_markers, verify
from agents.evaluation.questions import Question
from agents.evaluation.results import Result, read_results, score
from agents.llm import ChatModel, LLMUnavailable, counting
from agents.planner import Limits
from agents.researcher import Researcher, new_run_id
from agents.searcher import build_searcher
from agents.session import open_session
from agents.settings import Settings
from tools.clock import today
from tools.search import SearchBackend


class Evaluator:
    """Answers questions in any mode with one model and one search backend; memory and
    checkpoints live in `settings.data_dir` (the evaluation's own)."""

    def __init__(self, settings: Settings, chat: ChatModel, search: SearchBackend, limits: Limits = Limits()) -> None:
        self.settings, self.chat, self.search, self.limits = settings, chat, search, limits
        self.memory = settings.open_memory()

    async def __aenter__(self) -> "Evaluator":
        self._stack = AsyncExitStack()
        session = await self._stack.enter_async_context(
            open_session(self.settings, chat=self.chat, search=self.search, memory=self.memory))
        self._deps = session.deps
        self._searcher = build_searcher(self._deps)
        self._researcher = Researcher(self.settings, chat=self.chat, search=self.search, limits=self.limits)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.__aexit__(*exc)

    async def run(self, mode: str, q: Question) -> Result:
        started = time.perf_counter()
        with counting() as calls:
            try:
                prediction, text, citations, pages, given = await getattr(self, f"_{mode}")(q)
            except LLMUnavailable:
                raise  # no point going on without the model
            except Exception as e:  # recorded with its reason; the evaluation goes on
                result = score(mode, q, "", "", [], [], calls, time.perf_counter() - started)
                result.error = f"{e.__class__.__name__}: {e}"
                return result
        return score(mode, q, prediction, text, citations, pages, calls, time.perf_counter() - started, given)

    # Each mode returns the short answer, the long one, its citations, the pages read (url, title)
    # and the URLs of the pages whose passages the model was given.
    async def _direct(self, q: Question) -> tuple[str, str, list[dict], list, set[str]]:
        text = (await self.chat.complete(prompts.direct(q.question), max_tokens=32, stop=["\n"])).strip()
        return text, text, [], [], set()

    async def _rag(self, q: Question) -> tuple[str, str, list[dict], list, set[str]]:
        run_id = new_run_id(f"rag-{q.id}")
        await self._deps.memory.tasks.start_run(run_id, q.question)
        out = await self._searcher.ainvoke({"node_id": "q1", "question": q.question, "queries": [q.question],
                                            "run_id": run_id, "today": today().isoformat(), "context": []})
        await self._deps.memory.tasks.finish_run(run_id, "done")
        given = {c.url for c in out["chunks"]}
        if not out["found"]:
            return "", "", [], self.memory.tasks.pages_read(run_id), given
        checked = verify(f"{out['answer']}\n{out.get('evidence', '')}".strip(), dict(enumerate(out["chunks"], 1)))
        citations = [{"number": c.number, "url": c.url, "title": c.title, "quote": c.quote} for c in checked.citations]
        return strip_markers(out["answer"]), checked.text, citations, self.memory.tasks.pages_read(run_id), given

    async def _deep(self, q: Question) -> tuple[str, str, list[dict], list, set[str]]:
        answer = await self._researcher.aask(q.question, thread_id=f"deep-{q.id}")
        citations = [c.model_dump() for c in answer.citations]
        return answer.short, answer.text, citations, self.memory.tasks.pages_read(answer.run_id), set(answer.read)


async def evaluate(evaluator: Evaluator, mode: str, questions: list[Question], results_path: Path, *,
                   concurrency: int = 4, on_result=None) -> list[Result]:
    """Run `questions` in `mode`, `concurrency` at a time, appending each result to `results_path`
    as it finishes; questions already there for this mode are skipped (so an interrupted run resumes)."""
    done = {r.id for r in read_results(results_path) if r.mode == mode}
    todo = [q for q in questions if q.id not in done]
    gate = asyncio.Semaphore(concurrency)
    results: list[Result] = []
    results_path.parent.mkdir(parents=True, exist_ok=True)
    with results_path.open("a+", encoding="utf-8") as out:
        if out.tell() and (out.seek(out.tell() - 1), out.read(1))[1] != "\n":
            out.write("\n")  # a line cut short by an interruption stays on its own line
        async def one(q: Question) -> None:
            async with gate:
                result = await evaluator.run(mode, q)
            out.write(result.model_dump_json() + "\n")
            out.flush()
            results.append(result)
            if on_result:
                on_result(result)

        await asyncio.gather(*(one(q) for q in todo))
    return results
