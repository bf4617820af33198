"""The local search backend: the corpus (`tools.corpus`) searched with SQLite FTS5 (BM25), for
offline use and for the user's own documents. A hit's URL is the document's own `url` or
`sleuth://doc/<doc_id>`, which the fetcher opens from the corpus.
"""

import asyncio
import sqlite3

from tools.corpus import Corpus
from tools.errors import EmptyCorpus
from tools.search.base import Recency, SearchHit
from tools.text import SEARCH_STOPWORDS, fts_query

_SNIPPET_FROM = 20_000  # characters: FTS5's snippet() is quadratic in a document's length; past this
# the snippet is the text around the first query word instead


class LocalIndex(Corpus):
    """The corpus, searchable."""

    name = "local"

    def search_sync(self, query: str, max_results: int = 10) -> list[SearchHit]:
        expr = fts_query(query, SEARCH_STOPWORDS)
        if expr is None:
            return []
        with self.db.connect() as con:
            # `ORDER BY rank` lets FTS5 keep only the top rows while scoring; titles weigh 4x text.
            rows = con.execute(
                f"""SELECT d.url, d.title,
                          CASE WHEN length(d.text) <= {_SNIPPET_FROM} THEN snippet(docs_fts, 1, '', '', '…', 32) END,
                          CASE WHEN length(d.text) > {_SNIPPET_FROM} THEN d.id END
                   FROM docs_fts JOIN docs d ON d.id = docs_fts.rowid
                   WHERE docs_fts MATCH ? AND rank MATCH 'bm25(4.0, 1.0)'
                   ORDER BY rank LIMIT ?""",
                (expr, max_results),
            ).fetchall()
            hits = [
                SearchHit(url=url, title=title, snippet=snippet if long_id is None else _window(con, long_id, expr),
                          rank=i, backend=self.name)
                for i, (url, title, snippet, long_id) in enumerate(rows, 1)
            ]
        return hits

    async def search(
        self, query: str, *, max_results: int = 10, recency: Recency | None = None
    ) -> list[SearchHit]:
        """BM25 search. Local documents carry no dates, so `recency` does not filter them."""
        # Emptiness is checked only when nothing matched: `count(*)` before every query scanned the table.
        hits = await asyncio.to_thread(self.search_sync, query, max_results) if self.db.exists() else []
        if not hits and not await asyncio.to_thread(self.has_documents):
            raise EmptyCorpus("The local corpus is empty; add documents with `sleuth index add PATH`.")
        return hits


def _window(con: sqlite3.Connection, rowid: int, expr: str, width: int = 240) -> str:
    """A snippet of a long document: the text around the first of the query's words it contains
    (linear in the document, where FTS5's snippet() is quadratic), or its beginning."""
    words = [w.strip('"') for w in expr.split(" OR ")]
    found = ", ".join("coalesce(nullif(instr(t, ?), 0), 1e18)" for _ in words)
    start = con.execute(f"SELECT min({found}, 1e18) FROM (SELECT lower(text) AS t FROM docs WHERE id = ?)",
                        (*words, rowid)).fetchone()[0]
    start = 1 if start >= 1e18 else max(1, int(start) - width // 3)
    text = con.execute("SELECT substr(text, ?, ?) FROM docs WHERE id = ?", (start, width, rowid)).fetchone()[0]
    return ("…" if start > 1 else "") + " ".join(text.split()) + "…"
