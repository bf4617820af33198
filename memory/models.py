"""The values memory stores and returns."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class StoredPage(BaseModel):
    id: int
    url: str
    canonical_url: str
    final_url: str | None
    title: str
    published: datetime | None
    fetched_at: datetime
    content_hash: str
    backend: str | None
    n_chunks: int
    truncated: bool  # more chunks than the per-page cap: only the first ones were kept
    text: str | None = None


class Chunk(BaseModel):
    id: int
    page_id: int
    ordinal: int
    start: int  # character offsets into the page text: page.text[start:end] == text
    end: int
    text: str
    tokens: int
    summary: str
    url: str = ""
    title: str = ""
    score: float = 0.0


class Added(BaseModel):
    """What happened to one page given to memory."""

    status: Literal["added", "updated", "unchanged", "duplicate", "empty"]
    page: StoredPage | None
    truncated: bool = False
    reason: str | None = None


class Turn(BaseModel):
    thread_id: str
    ordinal: int
    question: str
    answer: str
    sources: list[str] = Field(default_factory=list)
    created_at: datetime


class ThreadContext(BaseModel):
    """What the planner sees of a thread: the running summary of old turns, then recent turns verbatim."""

    thread_id: str
    summary: str
    turns: list[Turn]


class ThreadInfo(BaseModel):
    id: str
    turns: int
    runs: int
    first_question: str | None
    updated_at: datetime


class TaskNode(BaseModel):
    node_id: str
    question: str
    depends_on: list[str] = Field(default_factory=list)
    status: Literal["pending", "running", "answered", "failed"] = "pending"
    answer: str | None = None
    chunk_ids: list[int] = Field(default_factory=list)


class RunRecord(BaseModel):
    id: str
    thread_id: str | None
    question: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    nodes: list[TaskNode] = Field(default_factory=list)
    pages: int = 0


class Dropped(BaseModel):
    chunk_id: int
    page_id: int
    url: str
    score: float
    tokens: int
    reason: Literal["budget", "page cap"]


class RecallStats(BaseModel):
    candidates: int
    pages_considered: int
    pages_used: int
    chunks_used: int
    tokens_used: int
    budget_tokens: int
    milliseconds: float


class Recall(BaseModel):
    chunks: list[Chunk]  # in reading order: pages by relevance, chunks in page order
    dropped: list[Dropped]
    stats: RecallStats

    def describe(self) -> str:
        s = self.stats
        return (f"considered {s.candidates} chunks from {s.pages_considered} pages, "
                f"used {s.chunks_used} chunks from {s.pages_used} pages ({s.tokens_used}/{s.budget_tokens} tokens)")
