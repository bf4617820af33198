"""What a research run tells as it works, in the order it happens: typed events on one stream
(`Researcher.astream`). Each is a pydantic model whose `type` names it; `model_dump_json()` is the
JSON line `sleuth ask --json --stream` prints. The last event is `Done`, with the `Answer`."""

from typing import Literal

from pydantic import BaseModel, Field

from agents.llm import Usage
from agents.plan import NodeStatus, PlanItem


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
    read: list[str] = Field(default_factory=list)  # the URLs of the pages whose passages the model was given
    plan: dict[str, PlanItem]  # sub-question id -> question, depends_on, status, answer
    removed_citations: list[int] = Field(default_factory=list)
    unsupported_citations: list[int] = Field(default_factory=list)
    stopped: str | None = None  # the limit that ended research early, if one did ("the limit of 8 sub-questions ...")
    usage: Usage
    timings: dict[str, float]
    run_id: str
    thread_id: str


class PlanUpdated(BaseModel):
    type: Literal["PlanUpdated"] = "PlanUpdated"
    nodes: dict[str, PlanItem]  # the whole plan so far


class SearchStarted(BaseModel):
    type: Literal["SearchStarted"] = "SearchStarted"
    node: str | None
    queries: list[str]


class PageRead(BaseModel):
    type: Literal["PageRead"] = "PageRead"
    node: str | None
    url: str
    title: str
    from_memory: bool


class SubAnswer(BaseModel):
    type: Literal["SubAnswer"] = "SubAnswer"
    node: str
    status: NodeStatus  # answered or failed
    answer: str


class AnswerDelta(BaseModel):
    type: Literal["AnswerDelta"] = "AnswerDelta"
    text: str  # the next checked sentence(s) of the answer


class Done(BaseModel):
    type: Literal["Done"] = "Done"
    answer: Answer


Event = PlanUpdated | SearchStarted | PageRead | SubAnswer | AnswerDelta | Done
