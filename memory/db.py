"""The memory database: one SQLite file (`tools.sqlitefile`: WAL mode, versioned migrations, safe for
several processes) holding knowledge, conversation and task memory.

Transactions make every write all-or-nothing, so a process killed mid-write leaves the database as
it was before that write.
"""

from pathlib import Path

from tools.sqlitefile import SQLiteFile

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


class StoreError(Exception):
    """The memory database cannot be used (read-only, damaged, not sleuth's, or from a newer sleuth)."""


class Database(SQLiteFile):
    def __init__(self, path: Path) -> None:
        super().__init__(path, MIGRATIONS, StoreError, application_id=APPLICATION_ID, what="memory database")
