"""Search backends behind one interface: `await backend.search(query, max_results=..., recency=...)`.

`duckduckgo` searches the web, `local` a corpus indexed in SQLite FTS5, and `auto` (the default)
tries the web and falls back to the local corpus.
"""

from pathlib import Path

from tools.errors import EmptyCorpus, RateLimited, SearchError, SearchTimeout, SearchUnavailable
from tools.search.auto import AutoSearch
from tools.search.base import BackendName, Recency, SearchBackend, SearchHit
from tools.search.duckduckgo import DuckDuckGoSearch
from tools.documents import Document, IngestReport, doc_id_from_url, doc_url, read_jsonl
from tools.search.local import LocalIndex

SAMPLE_CORPUS = Path(__file__).parent / "sample" / "corpus.jsonl"


def make_backend(name: BackendName, *, local: LocalIndex, timeout: float = 10.0, retries: int = 2) -> SearchBackend:
    """The backend a user asked for by name."""
    if name == "local":
        return local
    web = DuckDuckGoSearch(timeout=timeout)
    if name == "duckduckgo":
        return web
    if name == "auto":
        return AutoSearch(web, local, retries=retries)
    raise ValueError(f"unknown search backend {name!r}")


__all__ = [
    "SAMPLE_CORPUS",
    "AutoSearch",
    "BackendName",
    "Document",
    "DuckDuckGoSearch",
    "EmptyCorpus",
    "IngestReport",
    "LocalIndex",
    "RateLimited",
    "Recency",
    "SearchBackend",
    "SearchError",
    "SearchHit",
    "SearchTimeout",
    "SearchUnavailable",
    "doc_id_from_url",
    "doc_url",
    "make_backend",
    "read_jsonl",
]
