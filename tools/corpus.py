"""The local corpus: documents in one SQLite file in the data dir, which the local search backend
searches (`tools.search.local`) and the fetcher opens as `sleuth://doc/<doc_id>` pages.

`add` ingests files (`tools.documents` reads them). Every document keeps a content hash, so
adding the same files again changes nothing and a changed file replaces its old version; several
processes may add the same files at once.
"""

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.datafile import ensure_folder, why_unusable
from tools.documents import MAX_DOCUMENT_BYTES, SUFFIXES, Document, IngestReport, documents
from tools.errors import CorpusError

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



class Corpus:
    """The corpus database. Safe for several processes (WAL, one writer at a time)."""

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
                for doc in documents(path, report, self.max_document_bytes):
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

    # read ---------------------------------------------------------------------------------------

    def get(self, doc_id: str) -> Document | None:
        with self._open() as con:
            row = con.execute("SELECT doc_id, title, text, url FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document(*row) if row else None

    def has_documents(self) -> bool:
        if not self._exists():
            return False
        with self._open() as con:
            return con.execute("SELECT 1 FROM docs LIMIT 1").fetchone() is not None

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

