"""A local corpus searched with SQLite FTS5 (BM25), for offline use and for the user's own documents.

`sleuth index add FILE|DIR` ingests JSONL (`doc_id, title, text[, url]` per line), Markdown, plain
text and HTML. Every document keeps a content hash, so adding the same files again changes nothing
and a changed file replaces its old version; several processes may add the same files at once.
Ingest is per line: a bad line (not UTF-8, not JSON, nested too deeply, a lone surrogate, no text,
longer than the per-document cap) is skipped and reported with its line number, the rest is kept;
a text file over the cap is cut to it and reported. Devices, pipes and sockets are refused. A hit's URL is the document's own `url` or
`sleuth://doc/<doc_id>`, which the fetcher opens from this index.
"""

import asyncio
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from tools.datafile import ensure_folder, why_unusable
from tools.errors import CorpusError, EmptyCorpus
from tools.search.base import Recency, SearchHit
from tools.text import SEARCH_STOPWORDS, fts_query

SCHEME = "sleuth"
TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html", ".htm": "html"}
SUFFIXES = {".jsonl", *TEXT_SUFFIXES}
MAX_DOCUMENT_BYTES = 5_000_000  # per document (a JSONL line, a text file); `max_document_bytes` setting
_BATCH = 2000
_SNIPPET_FROM = 20_000  # characters: FTS5's snippet() is quadratic in a document's length; past this
# the snippet is the text around the first query word instead

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
    cut: list[str] = field(default_factory=list)  # documents kept only up to the per-document cap


def doc_url(doc_id: str) -> str:
    return f"{SCHEME}://doc/{quote(doc_id, safe=':@')}"


def doc_id_from_url(url: str) -> str | None:
    """The doc_id inside a `sleuth://doc/<doc_id>` URL, or None for any other URL."""
    parts = urlsplit(url)
    if parts.scheme != SCHEME or parts.netloc != "doc" or len(parts.path) < 2:
        return None
    return unquote(parts.path[1:])


class LocalIndex:
    """The corpus database in the data dir. Safe for several processes (WAL, one writer at a time)."""

    name = "local"

    def __init__(self, path: Path, max_document_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        self.path = Path(path)
        self.max_document_bytes = max_document_bytes
        self._ready = False

    @contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        """A new connection per call (cheap, safe across threads, and each process has its own).
        What the user can do to the file (read-only, damaged, a full disk) becomes a CorpusError."""
        self._folder()
        try:
            con = sqlite3.connect(self.path, timeout=30)
            try:
                con.execute("PRAGMA synchronous=NORMAL")
                if not self._ready:  # WAL is a property of the file: set once, it stays
                    con.execute("PRAGMA journal_mode=WAL")
                    con.executescript(_SCHEMA)
                    self._ready = True
                yield con
            finally:
                con.close()
        except sqlite3.Error as e:
            reason = why_unusable(self.path, e)
            if reason is None:
                raise
            raise CorpusError(reason) from e

    def _folder(self) -> None:
        try:
            ensure_folder(self.path.parent)
        except OSError as e:
            raise CorpusError(e.strerror) from e

    def _exists(self) -> bool:
        """Whether the corpus file exists (a data folder that is a file is an error, not an empty corpus)."""
        self._folder()
        return self.path.exists()

    # ingest ---------------------------------------------------------------------------------

    def add(self, target: Path) -> IngestReport:
        """Index a file or every supported file under a directory."""
        target = Path(target)
        if not target.exists():
            raise CorpusError(f"{target} does not exist.")
        if not (target.is_dir() or target.is_file()):
            raise CorpusError(f"{target} is not a regular file or a folder (devices, pipes and sockets are not read).")
        files = sorted(p for p in target.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES) if target.is_dir() else [target]
        if target.is_file() and target.suffix.lower() not in SUFFIXES:
            raise CorpusError(f"{target} is not a supported file (use .jsonl, .md, .txt or .html).")
        report = IngestReport()
        start = time.perf_counter()
        with self._open() as con:
            for path in files:
                report.files += 1
                batch: list[tuple[Document, str]] = []
                for doc in self._documents(path, report):
                    batch.append((doc, str(path.resolve())))
                    if len(batch) >= _BATCH:
                        self._write(con, batch, report)
                        batch = []
                self._write(con, batch, report)
        report.seconds = time.perf_counter() - start
        return report

    def _write(self, con: sqlite3.Connection, batch: list[tuple[Document, str]], report: IngestReport) -> None:
        if not batch:
            return
        now = time.time()
        with con:
            # The write lock is taken before the lookups: two processes adding the same document
            # would otherwise both see it missing and the second insert would fail.
            con.execute("BEGIN IMMEDIATE")
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
                yield from read_jsonl(path, report.skipped, self.max_document_bytes)
            else:
                doc = _text_document(path, self.max_document_bytes, report.cut)
                if doc is None:
                    report.skipped.append(f"{path}: no text found")
                else:
                    yield doc
        except (OSError, UnicodeDecodeError) as e:
            report.skipped.append(f"{path}: cannot be read ({e.__class__.__name__}: {e})")

    # query ----------------------------------------------------------------------------------

    def search_sync(self, query: str, max_results: int = 10) -> list[SearchHit]:
        expr = fts_query(query, SEARCH_STOPWORDS)
        if expr is None:
            return []
        with self._open() as con:
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
        hits = await asyncio.to_thread(self.search_sync, query, max_results) if self._exists() else []
        if not hits and not await asyncio.to_thread(self.has_documents):
            raise EmptyCorpus("The local corpus is empty; add documents with `sleuth index add PATH`.")
        return hits

    def get(self, doc_id: str) -> Document | None:
        with self._open() as con:
            row = con.execute("SELECT doc_id, title, text, url FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document(*row) if row else None

    def has_documents(self) -> bool:
        if not self._exists():
            return False
        with self._open() as con:
            return con.execute("SELECT 1 FROM docs LIMIT 1").fetchone() is not None

    def count(self) -> int:
        if not self._exists():
            return 0
        with self._open() as con:
            return con.execute("SELECT count(*) FROM docs").fetchone()[0]

    def stats(self) -> dict:
        with self._open() as con:
            docs, sources, chars, last = con.execute(
                "SELECT count(*), count(DISTINCT source), coalesce(sum(length(text)), 0), max(added_at) FROM docs"
            ).fetchone()
        return {
            "path": str(self.path),
            "documents": docs,
            "source_files": sources,
            "characters": chars,
            "bytes_on_disk": self.path.stat().st_size,
            "last_added": last,
        }


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


def read_jsonl(path: Path, skipped: list[str], max_bytes: int = MAX_DOCUMENT_BYTES) -> Iterator[Document]:
    """Documents from a JSONL file (`doc_id, title, text[, url]` per line); each bad line is skipped
    and described in `skipped` with its number, and the rest is read."""
    with path.open("rb") as f:
        for n, line in enumerate(_lines(f, max_bytes), 1):
            if line is None:
                skipped.append(f"{path}:{n}: longer than the per-document cap of {max_bytes:,} bytes (max_document_bytes)")
                continue
            if not line.strip():
                continue
            try:
                row = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as e:
                skipped.append(f"{path}:{n}: not valid UTF-8 (byte {line[e.start]:#04x} at column {e.start + 1})")
                continue
            except json.JSONDecodeError as e:
                skipped.append(f"{path}:{n}: not valid JSON ({e.msg} at column {e.colno})")
                continue
            except RecursionError:
                skipped.append(f"{path}:{n}: nested too deeply to read")
                continue
            if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
                skipped.append(f"{path}:{n}: no 'text' field")
                continue
            title, doc_id, url = (str(row.get(key) or "").strip() for key in ("title", "doc_id", "url"))
            if not _encodable(title, doc_id, url, row["text"]):
                skipped.append(f"{path}:{n}: holds a lone surrogate escape (such as \\ud800), which is not text")
                continue
            doc_id = doc_id or _digest(title + "\0" + row["text"])
            yield Document(doc_id=doc_id, title=title, text=row["text"], url=url or doc_url(doc_id))


def _lines(f, max_bytes: int) -> Iterator[bytes | None]:
    """The lines of a binary file, each read only up to `max_bytes` (None for a longer one, whose
    rest is skipped without being held in memory)."""
    while line := f.readline(max_bytes + 1):
        if len(line) <= max_bytes or line.endswith(b"\n"):
            yield line
            continue
        while (rest := f.readline(1 << 20)) and not rest.endswith(b"\n"):
            pass
        yield None


def _encodable(*values: str) -> bool:
    try:
        for value in values:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _text_document(path: Path, max_bytes: int, cut: list[str]) -> Document | None:
    kind = TEXT_SUFFIXES[path.suffix.lower()]
    with path.open("rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raw = raw[:max_bytes]
        while raw and (raw[-1] & 0xC0) == 0x80:  # no half a UTF-8 character at the cut
            raw = raw[:-1]
        raw = raw[:-1] if raw and raw[-1] >= 0xC0 else raw
        cut.append(f"{path}: kept its first {len(raw):,} bytes (the per-document cap, max_document_bytes)")
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
