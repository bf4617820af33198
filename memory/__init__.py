"""sleuth's memory: knowledge, conversation and task memory in one SQLite file, with HCAM-style recall.

Knowledge memory keeps every page read, cut into chunks with summaries; conversation memory keeps
threads of questions and answers; task memory keeps the plan of each run. `Memory.recall` brings
back the best chunks for a question within a token budget, coarse-to-fine. Every error it raises for
a user's input is a `StoreError`.
"""

from memory.chunking import TextChunk, TokenCounter, approx_tokens, chunk_text, split_sentences
from memory.db import SCHEMA_VERSION, StoreError
from memory.models import (
    Added, Chunk, Dropped, Recall, RecallStats, RunRecord, StoredPage, TaskNode, ThreadContext, ThreadInfo, Turn,
)
from memory.recall import RecallParams
from memory.scope import ALL, Scope
from memory.store import AsyncMemory, Memory
from memory.summary import Summariser, extractive_summary
from memory.text import canonical_url

__all__ = [
    "ALL", "SCHEMA_VERSION", "Added", "AsyncMemory", "Chunk", "Dropped", "Memory", "Recall", "RecallParams",
    "RecallStats", "RunRecord", "Scope", "StoreError", "StoredPage", "Summariser", "TaskNode", "TextChunk",
    "ThreadContext", "ThreadInfo", "TokenCounter", "Turn", "approx_tokens", "canonical_url", "chunk_text",
    "extractive_summary", "split_sentences",
]
