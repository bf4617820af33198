"""A local corpus searched with SQLite FTS5 (BM25), for offline use and for the user's own documents.

`sleuth index add FILE|DIR` ingests JSONL (`doc_id, title, text[, url]` per line), Markdown, plain
text and HTML. Every document keeps a content hash, so adding the same files again changes nothing
and a changed file replaces its old version. A hit's URL is the document's own `url` or
`sleuth://doc/<doc_id>`, which the fetcher opens from this index.
"""

import asyncio
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from tools.errors import CorpusError, EmptyCorpus
from tools.search.base import Recency, SearchHit

SCHEME = "sleuth"
TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html", ".htm": "html"}
SUFFIXES = {".jsonl", *TEXT_SUFFIXES}
_BATCH = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id       INTEGER PRIMARY KEY,
    doc_id   TEXT NOT NULL UNIQUE,
    url      TEXT NOT NULL,
    title    TEXT NOT NULL,
    text     TEXT NOT NULL,
    hash     TEXT NOT NULL,
    source   TEXT NOT NULL,
    added_at REAL NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    title, text, content='docs', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS docs_ai AFTER INSERT ON docs BEGIN
    INSERT INTO docs_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER IF NOT EXISTS docs_ad AFTER DELETE ON docs BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER IF NOT EXISTS docs_au AFTER UPDATE ON docs BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO docs_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
"""

# Words too common to help BM25 but costly to look up in an OR query over a large corpus.
_STOPWORDS = frozenset(
    "a an and are as at be by for from has have he her his in is it its of on or she that the their "
    "they this to was were what when where which who whom whose why with how did does do".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str
    url: str


@dataclass
class IngestReport:
    """What `add` did: counts per outcome and one reason per skipped input."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    files: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)


def doc_url(doc_id: str) -> str:
    return f"{SCHEME}://doc/{quote(doc_id, safe=':@')}"


def doc_id_from_url(url: str) -> str | None:
    """The doc_id inside a `sleuth://doc/<doc_id>` URL, or None for any other URL."""
    parts = urlsplit(url)
    if parts.scheme != SCHEME or parts.netloc != "doc" or len(parts.path) < 2:
        return None
    return unquote(parts.path[1:])


def fts_query(text: str) -> str | None:
    """A user's words as a safe FTS5 OR-query (every term quoted), or None if no word is left."""
    words = [w.lower() for w in _WORD.findall(text)]
    kept = [w for w in words if w not in _STOPWORDS] or words
    unique = list(dict.fromkeys(kept))
    return " OR ".join(f'"{w}"' for w in unique) if unique else None


class LocalIndex:
    """The corpus database in the data dir. Safe for several processes (WAL, one writer at a time)."""

    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        """A new connection per call: cheap, safe across threads, and each process has its own."""
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.execute("PRAGMA synchronous=NORMAL")
        if not self._ready:  # WAL is a property of the file: set once, it stays
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
            self._ready = True
        return con

    # ingest ---------------------------------------------------------------------------------

    def add(self, target: Path) -> IngestReport:
        """Index a file or every supported file under a directory."""
        target = Path(target)
        if not target.exists():
            raise CorpusError(f"{target} does not exist.")
        files = sorted(p for p in target.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES) if target.is_dir() else [target]
        if target.is_file() and target.suffix.lower() not in SUFFIXES:
            raise CorpusError(f"{target} is not a supported file (use .jsonl, .md, .txt or .html).")
        report = IngestReport()
        start = time.perf_counter()
        con = self._connect()
        try:
            for path in files:
                report.files += 1
                batch: list[tuple[Document, str]] = []
                for doc in self._documents(path, report):
                    batch.append((doc, str(path.resolve())))
                    if len(batch) >= _BATCH:
                        self._write(con, batch, report)
                        batch = []
                self._write(con, batch, report)
        finally:
            con.close()
        report.seconds = time.perf_counter() - start
        return report

    def _write(self, con: sqlite3.Connection, batch: list[tuple[Document, str]], report: IngestReport) -> None:
        if not batch:
            return
        now = time.time()
        with con:
            for doc, source in batch:
                digest = hashlib.sha256(f"{doc.title}\0{doc.text}\0{doc.url}".encode()).hexdigest()
                row = con.execute("SELECT hash FROM docs WHERE doc_id = ?", (doc.doc_id,)).fetchone()
                if row is None:
                    con.execute(
                        "INSERT INTO docs(doc_id, url, title, text, hash, source, added_at) VALUES (?,?,?,?,?,?,?)",
                        (doc.doc_id, doc.url, doc.title, doc.text, digest, source, now),
                    )
                    report.added += 1
                elif row[0] != digest:
                    con.execute(
                        "UPDATE docs SET url=?, title=?, text=?, hash=?, source=?, added_at=? WHERE doc_id=?",
                        (doc.url, doc.title, doc.text, digest, source, now, doc.doc_id),
                    )
                    report.updated += 1
                else:
                    report.unchanged += 1

    def _documents(self, path: Path, report: IngestReport) -> Iterator[Document]:
        try:
            if path.suffix.lower() == ".jsonl":
                yield from read_jsonl(path, report.skipped)
            else:
                doc = _text_document(path)
                if doc is None:
                    report.skipped.append(f"{path}: no text found")
                else:
                    yield doc
        except (OSError, UnicodeDecodeError) as e:
            report.skipped.append(f"{path}: cannot be read ({e.__class__.__name__}: {e})")

    # query ----------------------------------------------------------------------------------

    def search_sync(self, query: str, max_results: int = 10) -> list[SearchHit]:
        expr = fts_query(query)
        if expr is None:
            return []
        con = self._connect()
        try:
            # `ORDER BY rank` lets FTS5 keep only the top rows while scoring; titles weigh 4x text.
            rows = con.execute(
                """SELECT d.url, d.title, snippet(docs_fts, 1, '', '', '…', 32)
                   FROM docs_fts JOIN docs d ON d.id = docs_fts.rowid
                   WHERE docs_fts MATCH ? AND rank MATCH 'bm25(4.0, 1.0)'
                   ORDER BY rank LIMIT ?""",
                (expr, max_results),
            ).fetchall()
        finally:
            con.close()
        return [
            SearchHit(url=url, title=title, snippet=snippet, rank=i, backend=self.name)
            for i, (url, title, snippet) in enumerate(rows, 1)
        ]

    async def search(
        self, query: str, *, max_results: int = 10, recency: Recency | None = None
    ) -> list[SearchHit]:
        """BM25 search. Local documents carry no dates, so `recency` does not filter them."""
        # Emptiness is checked only when nothing matched: `count(*)` before every query scanned the table.
        hits = await asyncio.to_thread(self.search_sync, query, max_results) if self.path.exists() else []
        if not hits and not await asyncio.to_thread(self.has_documents):
            raise EmptyCorpus("The local corpus is empty; add documents with `sleuth index add PATH`.")
        return hits

    def get(self, doc_id: str) -> Document | None:
        con = self._connect()
        try:
            row = con.execute("SELECT doc_id, title, text, url FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
        finally:
            con.close()
        return Document(*row) if row else None

    def has_documents(self) -> bool:
        if not self.path.exists():
            return False
        con = self._connect()
        try:
            return con.execute("SELECT 1 FROM docs LIMIT 1").fetchone() is not None
        finally:
            con.close()

    def count(self) -> int:
        if not self.path.exists():
            return 0
        con = self._connect()
        try:
            return con.execute("SELECT count(*) FROM docs").fetchone()[0]
        finally:
            con.close()

    def stats(self) -> dict:
        con = self._connect()
        try:
            docs, sources, chars, last = con.execute(
                "SELECT count(*), count(DISTINCT source), coalesce(sum(length(text)), 0), max(added_at) FROM docs"
            ).fetchone()
        finally:
            con.close()
        return {
            "path": str(self.path),
            "documents": docs,
            "source_files": sources,
            "characters": chars,
            "bytes_on_disk": self.path.stat().st_size,
            "last_added": last,
        }


def read_jsonl(path: Path, skipped: list[str]) -> Iterator[Document]:
    """Documents from a JSONL file (`doc_id, title, text[, url]` per line); each bad line is skipped
    and described in `skipped`."""
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                skipped.append(f"{path}:{n}: not valid JSON")
                continue
            if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
                skipped.append(f"{path}:{n}: no 'text' field")
                continue
            title = str(row.get("title") or "").strip()
            doc_id = str(row.get("doc_id") or "").strip() or _digest(title + "\0" + row["text"])
            url = str(row.get("url") or "").strip() or doc_url(doc_id)
            yield Document(doc_id=doc_id, title=title, text=row["text"], url=url)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _text_document(path: Path) -> Document | None:
    kind = TEXT_SUFFIXES[path.suffix.lower()]
    raw = path.read_bytes()
    doc_id = "file:" + _digest(str(path.resolve()))
    if kind == "html":
        from tools.extract import extract

        result = extract(raw, content_type="text/html", url=path.resolve().as_uri())
        if not result.text:
            return None
        return Document(doc_id=doc_id, title=result.title or path.stem, text=result.text, url=doc_url(doc_id))
    text = raw.decode("utf-8")
    if not text.strip():
        return None
    title = path.stem
    if kind == "markdown":
        heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        if heading:
            title = heading.group(1).strip()
    return Document(doc_id=doc_id, title=title, text=text, url=doc_url(doc_id))
