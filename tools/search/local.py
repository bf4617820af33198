"""The local search backend: the corpus (`tools.corpus`) searched with SQLite FTS5 (BM25), for
offline use and for the user's own documents. A hit's URL is the document's own `url` or
`sleuth://doc/<doc_id>`, which the fetcher opens from the corpus.

A query that names a document by its title ("What is the population of Kansas?" names "Kansas")
gets that document's best passages first, as a web search engine puts an entity's own page first:
BM25 alone ranks "Ellis, Kansas" and "Kansas City metropolitan area" above the page on Kansas.
"""

import asyncio
import re
import sqlite3

from tools.corpus import Corpus
from tools.errors import EmptyCorpus
from tools.search.base import Recency, SearchHit
from tools.text import SEARCH_STOPWORDS, WORD, fts_query

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
            select = f"""SELECT d.url, d.title,
                                CASE WHEN length(d.text) <= {_SNIPPET_FROM} THEN snippet(docs_fts, 1, '', '', '…', 32) END,
                                CASE WHEN length(d.text) > {_SNIPPET_FROM} THEN d.id END
                         FROM docs_fts JOIN docs d ON d.id = docs_fts.rowid
                         WHERE docs_fts MATCH ? AND rank MATCH 'bm25(4.0, 1.0)'"""
            first = []
            for title in named_titles(con, query):  # each named document's best passages, by the same BM25
                in_title = f'title : "{" ".join(WORD.findall(title))}" AND ({expr})'  # FTS5 finds these; SQL checks the title
                first += con.execute(f"{select} AND d.title = ? COLLATE NOCASE ORDER BY rank LIMIT ?",
                                     (in_title, title, TITLED_FIRST)).fetchall()
            rows = list(dict.fromkeys(first + con.execute(f"{select} ORDER BY rank LIMIT ?", (expr, max_results)).fetchall()))
            hits = [
                SearchHit(url=url, title=title, snippet=snippet if long_id is None else _window(con, long_id, expr),
                          rank=i, backend=self.name)
                for i, (url, title, snippet, long_id) in enumerate(rows[:max_results], 1)
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


TITLED_FIRST = 2  # passages of a document the query names that come before BM25's own order
_NAME_WORD = re.compile(r"[\"“(]*[A-Z0-9]")  # a word of a name: capitalised or a number ("(1936", "Film)")
_JOINING = {"of", "the", "and", "de", "la", "le", "von", "van", "der", "du", "di", "da", "del", "in", "on", "for", "a"}
_NOT_ALONE = {"who", "what", "when", "where", "which", "why", "how", "is", "are", "was", "were", "did", "does", "do", "the",
              "a", "an"}  # words that start a title ("When Harry Met Sally", "The Ape") but are none alone


def named_titles(con: sqlite3.Connection, query: str) -> list[str]:
    """The corpus titles the query names, longest first: a run of its capitalised words (and the small
    words between them: "Anna Of Pomerania", "Mimi (Song)", "The Miscellany News") that equals a
    document's title, case aside. A name inside a longer one that is also a title is not named on its
    own ("Henry Ford", not "Ford"); nor is a question word or an article alone ("What", "The")."""
    words = query.split()
    spans = []
    for i, word in enumerate(words):
        if not _NAME_WORD.match(word):
            continue
        for j in range(i, min(len(words), i + 8)):
            if j > i and not _NAME_WORD.match(words[j]) and words[j].lower() not in _JOINING:
                break
            if _NAME_WORD.match(words[j]) and (j > i or word.lower().strip("\"“”?,.") not in _NOT_ALONE):
                spans.append((i, j + 1))
    found: list[tuple[int, int, str]] = []
    for i, j in sorted(spans, key=lambda s: s[0] - s[1]):  # longest first
        if any(a <= i and j <= b for a, b, _ in found):
            continue
        text = re.sub(r"['’]s$", "", " ".join(words[i:j]).strip("\"“”?,.;:!")).strip("\"“”")  # "Gisvi's" -> "Gisvi"
        row = con.execute("SELECT title FROM docs WHERE title = ? COLLATE NOCASE LIMIT 1", (text,)).fetchone()
        if row:
            found.append((i, j, row[0]))
    return [title for _, _, title in found]


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
