"""Knowledge memory: every page sleuth read, cut into chunks with summaries, searchable with FTS5.

Pages are deduplicated by canonical URL (a changed page replaces its old version) and by content
hash (the same text under another URL is stored once). A page fetched within the freshness window
is served from here instead of the network.
"""

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal

from memory.chunking import TokenCounter, approx_tokens, chunk_text
from memory.db import Database
from memory.models import Added, Chunk, StoredPage
from memory.summary import Summariser, extractive_summary
from memory.text import canonical_url, content_hash
from tools.text import fts_query
from tools.fetch import Page

_PAGE_COLUMNS = "id, url, canonical_url, final_url, title, published, fetched_at, content_hash, backend, n_chunks, truncated"
_PAGE_KEYS = [k.strip() for k in _PAGE_COLUMNS.split(",")]
CHUNK_COLUMNS = "c.id, c.page_id, c.ordinal, c.start, c.end, c.text, c.tokens, c.summary, p.url, p.title"


class Knowledge:
    def __init__(
        self,
        db: Database,
        *,
        target_tokens: int = 200,
        max_chunks_per_page: int = 256,
        count: TokenCounter = approx_tokens,
        summarise: Summariser = extractive_summary,
    ) -> None:
        self.db = db
        self.target_tokens = target_tokens
        self.max_chunks_per_page = max_chunks_per_page
        self.count = count
        self.summarise = summarise

    # writing ----------------------------------------------------------------------------------

    def add(self, page: Page, *, backend: str | None = None, run_id: str | None = None) -> Added:
        return self.add_many([page], backend=backend, run_id=run_id)[0]

    def add_many(self, pages: Iterable[Page], *, backend: str | None = None, run_id: str | None = None) -> list[Added]:
        """Store pages in one transaction (chunked and summarised before the lock is taken)."""
        prepared = [self._prepare(p) for p in pages]
        with self.db.write() as con:
            return [self._store(con, p, chunks, backend, run_id) if chunks is not None else added
                    for p, chunks, added in prepared]

    def _prepare(self, page: Page):
        if not page.text.strip():
            return page, None, Added(status="empty", page=None, reason=page.error or "the page has no text")
        chunks = chunk_text(page.text, target_tokens=self.target_tokens, count=self.count)
        truncated = len(chunks) > self.max_chunks_per_page
        chunks = chunks[: self.max_chunks_per_page]
        title = page.title or ""
        rows = [(c.ordinal, c.start, c.end, c.text, c.tokens, self.summarise(title, c.text)) for c in chunks]
        return page, (rows, truncated), None

    def _store(self, con: sqlite3.Connection, page: Page, prepared, backend: str | None, run_id: str | None) -> Added:
        rows, truncated = prepared
        canon = canonical_url(page.url)
        digest = content_hash(page.text)
        fetched = page.fetched_at.isoformat()
        existing = con.execute("SELECT id, content_hash FROM pages WHERE canonical_url = ?", (canon,)).fetchone()
        status: Literal["added", "updated", "unchanged", "duplicate"]
        if existing and existing[1] == digest:
            page_id, status = existing[0], "unchanged"
            con.execute("UPDATE pages SET fetched_at = ? WHERE id = ?", (fetched, page_id))
        elif existing is None and (twin := con.execute("SELECT id FROM pages WHERE content_hash = ?", (digest,)).fetchone()):
            page_id, status = twin[0], "duplicate"
        else:
            values = (page.url, canon, page.final_url, page.title or "", page.published.isoformat() if page.published else None,
                      fetched, digest, backend, page.text, len(rows), int(truncated))
            if existing:
                page_id, status = existing[0], "updated"
                con.execute("DELETE FROM chunks WHERE page_id = ?", (page_id,))
                con.execute(
                    """UPDATE pages SET url=?, canonical_url=?, final_url=?, title=?, published=?, fetched_at=?,
                       content_hash=?, backend=?, text=?, n_chunks=?, truncated=? WHERE id=?""", (*values, page_id))
            else:
                status = "added"
                page_id = con.execute(
                    """INSERT INTO pages(url, canonical_url, final_url, title, published, fetched_at, content_hash,
                       backend, text, n_chunks, truncated) VALUES (?,?,?,?,?,?,?,?,?,?,?)""", values).lastrowid
            con.executemany(
                "INSERT INTO chunks(page_id, ordinal, start, end, text, tokens, summary) VALUES (?,?,?,?,?,?,?)",
                [(page_id, *row) for row in rows],
            )
        if run_id is not None:
            con.execute("INSERT OR IGNORE INTO run_pages(run_id, page_id) VALUES (?, ?)", (run_id, page_id))
        stored = _page(con.execute(f"SELECT {_PAGE_COLUMNS} FROM pages WHERE id = ?", (page_id,)).fetchone())
        return Added(status=status, page=stored, truncated=stored.truncated,
                     reason=f"only the first {self.max_chunks_per_page} chunks were kept" if stored.truncated else None)

    def forget(self, url_or_id: str) -> bool:
        """Remove a page and its chunks; True if there was one."""
        with self.db.write() as con:
            page_id = self._resolve(con, url_or_id)
            if page_id is None:
                return False
            con.execute("DELETE FROM chunks WHERE page_id = ?", (page_id,))
            con.execute("DELETE FROM pages WHERE id = ?", (page_id,))
            return True

    # reading ----------------------------------------------------------------------------------

    def fresh(self, url: str, max_age: timedelta) -> StoredPage | None:
        """The stored page for `url` if it was fetched within `max_age`, with its text; else None."""
        if max_age <= timedelta(0):
            return None
        with self.db.connect() as con:
            row = con.execute(f"SELECT {_PAGE_COLUMNS}, text FROM pages WHERE canonical_url = ?", (canonical_url(url),)).fetchone()
        if row is None:
            return None
        page = _page(row[:-1], text=row[-1])
        return page if datetime.now(UTC) - page.fetched_at <= max_age else None

    def page(self, url_or_id: str) -> StoredPage | None:
        with self.db.connect() as con:
            page_id = self._resolve(con, url_or_id)
            if page_id is None:
                return None
            row = con.execute(f"SELECT {_PAGE_COLUMNS}, text FROM pages WHERE id = ?", (page_id,)).fetchone()
        return _page(row[:-1], text=row[-1])

    def chunks(self, page_id: int) -> list[Chunk]:
        with self.db.connect() as con:
            rows = con.execute(
                f"SELECT {CHUNK_COLUMNS} FROM chunks c JOIN pages p ON p.id = c.page_id WHERE c.page_id = ? ORDER BY c.ordinal",
                (page_id,),
            ).fetchall()
        return [chunk_from_row(r) for r in rows]

    def search(self, text: str, *, limit: int = 10) -> list[Chunk]:
        """Plain BM25 over chunk text: what `sleuth memory search` shows."""
        expr = fts_query(text)
        if expr is None:
            return []
        with self.db.connect() as con:
            rows = con.execute(
                f"""SELECT {CHUNK_COLUMNS}, -f.rank FROM chunks_fts f JOIN chunks c ON c.id = f.rowid
                    JOIN pages p ON p.id = c.page_id WHERE chunks_fts MATCH ? ORDER BY f.rank LIMIT ?""",
                (expr, limit),
            ).fetchall()
        return [chunk_from_row(r[:-1], score=r[-1]) for r in rows]

    def stats(self) -> dict:
        with self.db.connect() as con:
            pages, truncated = con.execute("SELECT count(*), coalesce(sum(truncated), 0) FROM pages").fetchone()
            chunks, tokens = con.execute("SELECT count(*), coalesce(sum(tokens), 0) FROM chunks").fetchone()
            threads = con.execute("SELECT count(*) FROM threads").fetchone()[0]
            turns = con.execute("SELECT count(*) FROM turns").fetchone()[0]
            runs = con.execute("SELECT count(*) FROM runs").fetchone()[0]
        size = sum(p.stat().st_size for p in self.db.path.parent.glob(self.db.path.name + "*"))
        return {"path": str(self.db.path), "pages": pages, "chunks": chunks, "tokens": tokens,
                "truncated_pages": truncated, "threads": threads, "turns": turns, "runs": runs, "bytes_on_disk": size}

    def export(self) -> Iterator[dict]:
        """Every page with its chunks, one dict per page (the JSONL export)."""
        with self.db.connect() as con:
            for row in con.execute(f"SELECT {_PAGE_COLUMNS}, text FROM pages ORDER BY id"):
                page = _page(row[:-1], text=row[-1])
                chunks = con.execute(
                    "SELECT ordinal, start, end, tokens, summary FROM chunks WHERE page_id = ? ORDER BY ordinal", (page.id,)
                ).fetchall()
                yield {**page.model_dump(mode="json"),
                       "chunks": [dict(zip(("ordinal", "start", "end", "tokens", "summary"), c)) for c in chunks]}

    @staticmethod
    def _resolve(con: sqlite3.Connection, url_or_id: str) -> int | None:
        if url_or_id.isdigit():
            row = con.execute("SELECT id FROM pages WHERE id = ?", (int(url_or_id),)).fetchone()
        else:
            row = con.execute("SELECT id FROM pages WHERE canonical_url = ?", (canonical_url(url_or_id),)).fetchone()
        return row[0] if row else None


def _page(row: tuple, text: str | None = None) -> StoredPage:
    data = dict(zip(_PAGE_KEYS, row))
    data["truncated"] = bool(data["truncated"])
    return StoredPage(**data, text=text)


_CHUNK_KEYS = ("id", "page_id", "ordinal", "start", "end", "text", "tokens", "summary", "url", "title")


def chunk_from_row(row: tuple, score: float = 0.0) -> Chunk:
    """A `Chunk` from a row selected with `CHUNK_COLUMNS`."""
    return Chunk(**dict(zip(_CHUNK_KEYS, row)), score=score)
