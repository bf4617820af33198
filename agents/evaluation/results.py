"""One question's result and its scores (`score`), and the results file (`read_results`)."""

from pathlib import Path

from pydantic import BaseModel, ValidationError

from agents.evaluation.questions import Question
from agents.evaluation.scoring import contains, exact_match, f1
from tools.text import MARKER


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
    evidence_recall: float | None = None  # supporting titles among the pages read; None where nothing is read (direct)
    evidence_in_prompt: float | None = None  # supporting titles among the pages whose passages the model was given
    citations: int = 0
    citations_good: int = 0
    invented_citations: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    pages_read: int = 0
    seconds: float = 0.0
    error: str | None = None


def score(mode: str, q: Question, prediction: str, text: str, citations: list[dict], pages: list[tuple[str, str]],
          calls: list, seconds: float, given: set[str] = frozenset()) -> Result:
    """One result. `prediction`: the short answer; `text`: the long one; `citations`: its sources
    (number, url, title, quote); `pages`: (url, title) read; `given`: the URLs of the pages whose
    passages were in a prompt."""
    read_urls = {url for url, _ in pages}
    titles = {title for _, title in pages}
    numbers = {c["number"] for c in citations}
    invented = sum(1 for n in MARKER.findall(text) if int(n) not in numbers)
    invented += sum(1 for c in citations if c["url"] not in read_urls)
    good = sum(1 for c in citations if c["title"] in q.supporting_titles or contains(c["quote"], q.golds))
    return Result(
        mode=mode, id=q.id, source_dataset=q.source_dataset, question=q.question, gold=q.answer, prediction=prediction, text=text,
        em=exact_match(prediction, q.golds), f1=f1(prediction, q.golds),
        evidence_recall=_recall(q, titles) if mode != "direct" else None,
        evidence_in_prompt=_recall(q, {title for url, title in pages if url in given}) if mode != "direct" else None,
        citations=len(citations), citations_good=good, invented_citations=invented,
        llm_calls=len(calls), prompt_tokens=sum(c.usage.prompt_tokens for c in calls),
        completion_tokens=sum(c.usage.completion_tokens for c in calls), pages_read=len(pages),
        seconds=round(seconds, 3),
    )


def _recall(q: Question, titles: set[str]) -> float | None:
    return sum(t in titles for t in q.supporting_titles) / len(q.supporting_titles) if q.supporting_titles else None


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
