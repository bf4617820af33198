"""Evaluation on questions with known answers: one model, one corpus, three modes.

- `direct`: the model answers alone;
- `rag`: one search with the question, the best pages read, one cited answer (the searcher,
  given the question as its only query);
- `deep`: the full planner and searcher graphs (`Researcher`).

Each question gives a `Result`: exact match and token F1 of the short answer against the answer
and its aliases (and, in the summary, how often the gold answer appears in the long answer's text),
evidence recall (supporting titles among the pages read), citation precision (citations whose
chunk comes from a supporting page or contains the answer), invented citations (markers that
resolve to no page read in the run, checked here independently of the agents' own verification),
LLM calls, tokens, pages read and latency; or the reason it failed.
"""

import asyncio
import json
import time
from contextlib import AsyncExitStack
from pathlib import Path
from statistics import mean

from pydantic import BaseModel, Field, ValidationError

from agents import prompts
from agents.citations import strip_markers, verify
from agents.errors import EvalError
from agents.llm import ChatModel, LLMUnavailable, counting
from agents.planner import Limits
from agents.researcher import Researcher, new_run_id
from agents.scoring import contains, exact_match, f1
from agents.searcher import build_searcher
from agents.session import open_session
from agents.settings import Settings
from tools.clock import today
from tools.search import SearchBackend
from tools.text import MARKER

MODES = ("direct", "rag", "deep")


class Question(BaseModel):
    id: str
    question: str
    answer: str
    aliases: list[str] = Field(default_factory=list)
    supporting_titles: list[str] = Field(default_factory=list)
    source_dataset: str = ""

    @property
    def golds(self) -> list[str]:
        return [self.answer, *self.aliases]


class Result(BaseModel):
    mode: str
    id: str
    source_dataset: str
    question: str
    gold: str
    prediction: str = ""  # the short answer, which EM and F1 score
    text: str = ""  # the long answer: the short one, then its cited evidence
    em: float = 0.0
    f1: float = 0.0
    evidence_recall: float | None = None  # None where nothing is read (direct)
    citations: int = 0
    citations_good: int = 0
    invented_citations: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    pages_read: int = 0
    seconds: float = 0.0
    error: str | None = None


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    """Questions in the JSONL format of the bench's questions-dev.jsonl; the first `limit` of them."""
    if not path.is_file():
        raise EvalError(f"{path} is not a file.")
    questions = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                questions.append(Question.model_validate_json(line))
            except ValidationError as e:
                first = e.errors()[0]
                raise EvalError(f"{path}:{n} is not a question ({'.'.join(map(str, first['loc'])) or 'line'}: "
                                f"{first['msg']}).") from None
            if limit is not None and len(questions) >= limit:
                break
    if not questions:
        raise EvalError(f"{path} holds no questions.")
    return questions


def score(mode: str, q: Question, prediction: str, text: str, citations: list[dict], pages: list[tuple[str, str]],
          calls: list, seconds: float) -> Result:
    """One result. `prediction`: the short answer; `text`: the long one; `citations`: its sources
    (number, url, title, quote); `pages`: (url, title) read."""
    read_urls = {url for url, _ in pages}
    titles = {title for _, title in pages}
    numbers = {c["number"] for c in citations}
    invented = sum(1 for n in MARKER.findall(text) if int(n) not in numbers)
    invented += sum(1 for c in citations if c["url"] not in read_urls)
    good = sum(1 for c in citations if c["title"] in q.supporting_titles or contains(c["quote"], q.golds))
    return Result(
        mode=mode, id=q.id, source_dataset=q.source_dataset, question=q.question, gold=q.answer, prediction=prediction, text=text,
        em=exact_match(prediction, q.golds), f1=f1(prediction, q.golds),
        evidence_recall=(sum(t in titles for t in q.supporting_titles) / len(q.supporting_titles)
                         if mode != "direct" and q.supporting_titles else None),
        citations=len(citations), citations_good=good, invented_citations=invented,
        llm_calls=len(calls), prompt_tokens=sum(c.usage.prompt_tokens for c in calls),
        completion_tokens=sum(c.usage.completion_tokens for c in calls), pages_read=len(pages),
        seconds=round(seconds, 3),
    )


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
                prediction, text, citations, pages = await getattr(self, f"_{mode}")(q)
            except LLMUnavailable:
                raise  # no point going on without the model
            except Exception as e:  # recorded with its reason; the evaluation goes on
                result = score(mode, q, "", "", [], [], calls, time.perf_counter() - started)
                result.error = f"{e.__class__.__name__}: {e}"
                return result
        return score(mode, q, prediction, text, citations, pages, calls, time.perf_counter() - started)

    async def _direct(self, q: Question) -> tuple[str, str, list[dict], list]:
        text = (await self.chat.complete(prompts.direct(q.question), max_tokens=32, stop=["\n"])).strip()
        return text, text, [], []

    async def _rag(self, q: Question) -> tuple[str, str, list[dict], list]:
        run_id = new_run_id(f"rag-{q.id}")
        await self._deps.memory.tasks.start_run(run_id, q.question)
        out = await self._searcher.ainvoke({"node_id": "q1", "question": q.question, "queries": [q.question],
                                            "run_id": run_id, "today": today().isoformat(), "context": []})
        await self._deps.memory.tasks.finish_run(run_id, "done")
        if not out["found"]:
            return "", "", [], self.memory.tasks.pages_read(run_id)
        checked = verify(f"{out['answer']}\n{out.get('evidence', '')}".strip(), dict(enumerate(out["chunks"], 1)))
        citations = [{"number": c.number, "url": c.url, "title": c.title, "quote": c.quote} for c in checked.citations]
        return strip_markers(out["answer"]), checked.text, citations, self.memory.tasks.pages_read(run_id)

    async def _deep(self, q: Question) -> tuple[str, str, list[dict], list]:
        answer = await self._researcher.aask(q.question, thread_id=f"deep-{q.id}")
        citations = [c.model_dump() for c in answer.citations]
        return answer.short, answer.text, citations, self.memory.tasks.pages_read(answer.run_id)


def read_results(path: Path) -> list[Result]:
    """The results so far; a line cut short by an interruption is ignored."""
    if not path.exists():
        return []
    results = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            results.append(Result.model_validate_json(line))
        except ValidationError:
            continue
    return results


def summarize(results: list[Result]) -> dict:
    """Per mode: the aggregate over all questions, and per source dataset."""
    out: dict = {}
    for mode in [m for m in MODES if any(r.mode == m for r in results)]:
        rows = [r for r in results if r.mode == mode]
        out[mode] = {"all": _aggregate(rows), "by_dataset": {
            ds: _aggregate([r for r in rows if r.source_dataset == ds]) for ds in sorted({r.source_dataset for r in rows})}}
    return out


def _aggregate(rows: list[Result]) -> dict:
    ok = [r for r in rows if r.error is None]
    recall = [r.evidence_recall for r in ok if r.evidence_recall is not None]
    cited = sum(r.citations for r in ok)
    latency = sorted(r.seconds for r in ok)
    return {
        "questions": len(rows), "failures": len(rows) - len(ok),
        "em": _mean([r.em for r in rows]), "f1": _mean([r.f1 for r in rows]),
        "answer_in_text": _mean([float(contains(r.text or r.prediction, [r.gold])) for r in rows]),
        "evidence_recall": _mean(recall) if recall else None,
        "citation_precision": round(sum(r.citations_good for r in ok) / cited, 4) if cited else None,
        "citations": cited, "invented_citations": sum(r.invented_citations for r in ok),
        "llm_calls": _mean([r.llm_calls for r in ok]), "tokens": _mean([r.prompt_tokens + r.completion_tokens for r in ok]),
        "pages_read": _mean([r.pages_read for r in ok]),
        "latency_p50_s": _pct(latency, 0.50), "latency_p95_s": _pct(latency, 0.95),
        "failure_reasons": sorted({r.error.split(":")[0] for r in rows if r.error}),
    }


def summary_markdown(summary: dict) -> str:
    head = ("| mode | questions | EM | F1 | answer in text | evidence recall | citation precision | invented citations | "
            "LLM calls | tokens | pages read | latency p50 / p95 (s) | failures |")
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for mode, s in summary.items():
        a = s["all"]
        lines.append(f"| {mode} | {a['questions']} | {_f(a['em'])} | {_f(a['f1'])} | {_f(a['answer_in_text'])} | "
                     f"{_f(a['evidence_recall'])} | "
                     f"{_f(a['citation_precision'])} | {a['invented_citations']} | {_f(a['llm_calls'], 1)} | "
                     f"{_f(a['tokens'], 0)} | {_f(a['pages_read'], 1)} | {_f(a['latency_p50_s'], 1)} / "
                     f"{_f(a['latency_p95_s'], 1)} | {a['failures']} |")
    datasets = sorted({d for s in summary.values() for d in s["by_dataset"]})
    by = ["", "F1 by source dataset:", "", "| mode | " + " | ".join(datasets) + " |", "|" + " --- |" * (len(datasets) + 1)]
    for mode, s in summary.items():
        by.append(f"| {mode} | " + " | ".join(_f(s["by_dataset"].get(d, {}).get("f1")) for d in datasets) + " |")
    return "\n".join(lines + by) + "\n"


def _mean(values: list[float]) -> float | None:
    return round(mean(values), 4) if values else None


def _pct(values: list[float], q: float) -> float | None:
    return values[min(len(values) - 1, int(q * len(values)))] if values else None


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


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
