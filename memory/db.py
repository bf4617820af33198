"""The memory database: one SQLite file, WAL mode, versioned migrations, safe for several processes.

Each thread uses its own connection, so the store can be used from worker threads (the async API)
and from several processes at once; writers queue on SQLite's lock (busy timeout) instead of
failing. Transactions make every write all-or-nothing, so a process killed mid-write
leaves the database as it was before that write.
"""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.datafile import ensure_folder, why_unusable
from tools.retry import Retries

APPLICATION_ID = 0x534C5448  # "SLTH": marks the file as sleuth's, so a foreign database is refused
FTS_TOKENIZER = "tokenize='porter unicode61 remove_diacritics 2'"

MIGRATIONS: list[str] = [
    # 1: knowledge, conversation and task memory
    f"""
    CREATE TABLE pages (
        id            INTEGER PRIMARY KEY,
        url           TEXT NOT NULL,
        canonical_url TEXT NOT NULL UNIQUE,
        final_url     TEXT,
        title         TEXT NOT NULL DEFAULT '',
        published     TEXT,
        fetched_at    TEXT NOT NULL,
        content_hash  TEXT NOT NULL,
        backend       TEXT,
        text          TEXT NOT NULL,
        n_chunks      INTEGER NOT NULL,
        truncated     INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX pages_hash ON pages(content_hash);
    CREATE TABLE chunks (
        id       INTEGER PRIMARY KEY,
        page_id  INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
        ordinal  INTEGER NOT NULL,
        start    INTEGER NOT NULL,
        end      INTEGER NOT NULL,
        text     TEXT NOT NULL,
        tokens   INTEGER NOT NULL,
        summary  TEXT NOT NULL,
        UNIQUE (page_id, ordinal)
    );
    CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks', content_rowid='id', {FTS_TOKENIZER});
    CREATE VIRTUAL TABLE summaries_fts USING fts5(summary, content='chunks', content_rowid='id', {FTS_TOKENIZER});
    CREATE VIRTUAL TABLE pages_fts USING fts5(title, content='pages', content_rowid='id', {FTS_TOKENIZER});
    CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
        INSERT INTO summaries_fts(rowid, summary) VALUES (new.id, new.summary);
    END;
    CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO summaries_fts(summaries_fts, rowid, summary) VALUES ('delete', old.id, old.summary);
    END;
    CREATE TRIGGER pages_ai AFTER INSERT ON pages BEGIN
        INSERT INTO pages_fts(rowid, title) VALUES (new.id, new.title);
    END;
    CREATE TRIGGER pages_ad AFTER DELETE ON pages BEGIN
        INSERT INTO pages_fts(pages_fts, rowid, title) VALUES ('delete', old.id, old.title);
    END;
    CREATE TRIGGER pages_au AFTER UPDATE OF title ON pages BEGIN
        INSERT INTO pages_fts(pages_fts, rowid, title) VALUES ('delete', old.id, old.title);
        INSERT INTO pages_fts(rowid, title) VALUES (new.id, new.title);
    END;

    CREATE TABLE threads (
        id          TEXT PRIMARY KEY,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        summary     TEXT NOT NULL DEFAULT '',
        summarized_through INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE turns (
        id         INTEGER PRIMARY KEY,
        thread_id  TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
        ordinal    INTEGER NOT NULL,
        question   TEXT NOT NULL,
        answer     TEXT NOT NULL,
        sources    TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        UNIQUE (thread_id, ordinal)
    );

    CREATE TABLE runs (
        id          TEXT PRIMARY KEY,
        thread_id   TEXT REFERENCES threads(id) ON DELETE CASCADE,
        question    TEXT NOT NULL,
        status      TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE TABLE run_pages (
        run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
        PRIMARY KEY (run_id, page_id)
    ) WITHOUT ROWID;
    CREATE TABLE task_nodes (
        run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        node_id    TEXT NOT NULL,
        position   INTEGER NOT NULL,  -- order in which the plan added the node
        question   TEXT NOT NULL,
        depends_on TEXT NOT NULL DEFAULT '[]',
        status     TEXT NOT NULL,
        answer     TEXT,
        chunk_ids  TEXT NOT NULL DEFAULT '[]',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (run_id, node_id)
    ) WITHOUT ROWID;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
CACHE_KIB = 65536  # page cache per connection


class StoreError(Exception):
    """The memory database cannot be used (read-only, damaged, not sleuth's, or from a newer sleuth)."""


class Database:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._checked = False
        self._local = threading.local()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection; its `with con:` blocks are transactions.

        Each thread keeps one connection: SQLite's page cache belongs to a connection, and a warm
        one makes recall's full-text queries markedly faster than a fresh connection per call.
        """
        if not self._checked:
            self._open_or_migrate()
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30)
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._local.con = con
        try:
            yield con
        except sqlite3.Error as e:
            raise self._unusable(e) from e

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes SQLite's write lock first (BEGIN IMMEDIATE), so that what
        it reads before writing cannot change underneath it (two readers of one page both inserting)."""
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()

    def close(self) -> None:
        """Close this thread's connection (others close when their thread or this object goes)."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def _unusable(self, error: sqlite3.Error) -> StoreError:
        """The StoreError for what the user did to the file (read-only, damaged, disk full); a bug raises."""
        reason = why_unusable(self.path, error)
        if reason is None:
            raise error
        return StoreError(reason)

    def _open_or_migrate(self) -> None:
        try:
            ensure_folder(self.path.parent)
        except OSError as e:
            raise StoreError(e.strerror) from e
        try:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                _ensure_wal(con)
                con.execute("BEGIN IMMEDIATE")  # one process migrates at a time
                app_id = con.execute("PRAGMA application_id").fetchone()[0]
                version = con.execute("PRAGMA user_version").fetchone()[0]
                tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if app_id != APPLICATION_ID and (app_id != 0 or tables):
                    raise StoreError(f"{self.path} is not a sleuth memory database; move it away or choose another --data-dir.")
                if version > SCHEMA_VERSION:
                    raise StoreError(f"{self.path} was written by a newer sleuth (schema {version}); upgrade sleuth to use it.")
                for number in range(version, SCHEMA_VERSION):
                    for statement in _statements(MIGRATIONS[number]):
                        con.execute(statement)
                    con.execute(f"PRAGMA user_version={number + 1}")
                con.execute(f"PRAGMA application_id={APPLICATION_ID}")
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
            finally:
                con.close()
        except sqlite3.Error as e:
            raise self._unusable(e) from e
        self._checked = True


def _ensure_wal(con: sqlite3.Connection) -> None:
    """Switch a new database to WAL. Switching takes a lock SQLite does not wait for, so when other
    processes are busy on a database that is not WAL yet, try again a bounded number of times
    (about 45 s in all)."""
    for attempt in Retries(retries=49, backoff=0.05, cap=1.0):
        if con.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            return
        try:
            con.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or attempt.last:
                raise
            attempt.sleep()


def _statements(script: str) -> Iterator[str]:
    """Split a script into statements (triggers included), to run them inside our own transaction:
    `executescript` would commit first, letting two processes migrate at once."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()
