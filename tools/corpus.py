"""The local corpus: documents in one SQLite file in the data dir, which the local search backend
searches (`tools.search.local`) and the fetcher opens as `sleuth://doc/<doc_id>` pages.

`add` ingests files (`tools.documents` reads them). Every document keeps a content hash, so
adding the same files again changes nothing and a changed file replaces its old version; several
processes may add the same files at once. The file is a `tools.sqlitefile.SQLiteFile`.
"""

import hashlib
import time
from pathlib import Path

from tools.documents import MAX_DOCUMENT_BYTES, SUFFIXES, Document, IngestReport, documents
from tools.errors import CorpusError
from tools.sqlitefile import SQLiteFile

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

_TITLES = "CREATE INDEX IF NOT EXISTS docs_title ON docs(title COLLATE NOCASE);"  # a title named in a query, looked up


class Corpus:
    """The corpus database. Safe for several processes (WAL, one writer at a time)."""

    def __init__(self, path: Path, max_document_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        self.path = Path(path)
        self.max_document_bytes = max_document_bytes
        self.db = SQLiteFile(self.path, [_SCHEMA, _TITLES], CorpusError, what="corpus")

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
        for path in files:
            report.files += 1
            batch: list[tuple[Document, str]] = []
            for doc in documents(path, report, self.max_document_bytes):
                batch.append((doc, str(path.resolve())))
                if len(batch) >= _BATCH:
                    self._write(batch, report)
                    batch = []
            self._write(batch, report)
        report.seconds = time.perf_counter() - start
        return report

    def _write(self, batch: list[tuple[Document, str]], report: IngestReport) -> None:
        if not batch:
            return
        now = time.time()
        # The write lock is taken before the lookups: two processes adding the same document
        # would otherwise both see it missing and the second insert would fail.
        with self.db.write() as con:
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
        with self.db.connect() as con:
            row = con.execute("SELECT doc_id, title, text, url FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document(*row) if row else None

    def has_documents(self) -> bool:
        if not self.db.exists():
            return False
        with self.db.connect() as con:
            return con.execute("SELECT 1 FROM docs LIMIT 1").fetchone() is not None

    def stats(self) -> dict:
        with self.db.connect() as con:
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

