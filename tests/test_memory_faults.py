"""Memory under faults: concurrent writers, a writer killed mid-write, damaged and foreign files."""

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from memory import SCHEMA_VERSION, Memory, StoreError

ROOT = Path(__file__).resolve().parent.parent


def writer(db: Path, count: int, tag: str, sentences: int = 20) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.memory_writer", str(db), str(count), tag, str(sentences)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def assert_consistent(db: Path) -> None:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for table in ("chunks_fts", "summaries_fts", "pages_fts"):
            con.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")  # raises if the index is off
        mismatched = con.execute(
            "SELECT count(*) FROM pages p WHERE p.n_chunks != (SELECT count(*) FROM chunks c WHERE c.page_id = p.id)"
        ).fetchone()[0]
        assert mismatched == 0
    finally:
        con.close()


def test_concurrent_writers_lose_nothing(tmp_path):
    db = tmp_path / "memory.db"
    procs = [writer(db, 40, tag) for tag in ("alpha", "beta", "gamma")]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip().splitlines()[-1] == "wrote 40"
    assert_consistent(db)
    memory = Memory(db)
    assert memory.knowledge.stats()["pages"] == 120
    assert memory.knowledge.search("gamma-39")[0].url == "https://example.org/gamma/39"


def test_a_writer_killed_mid_write_leaves_a_consistent_database(tmp_path):
    db = tmp_path / "memory.db"
    p = writer(db, 10_000, "kill", sentences=400)  # big pages: each transaction takes a while
    for line in p.stdout:
        if line.strip() == "wrote 3":
            break
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    p.stdout.close()
    p.stderr.close()
    assert_consistent(db)
    memory = Memory(db)
    written = memory.knowledge.stats()["pages"]
    assert 3 <= written < 10_000
    # and it goes on working
    from tests.memory_writer import main
    main(str(db), 1, "after", 5)
    assert memory.knowledge.stats()["pages"] == written + 1


def test_a_damaged_file_is_a_clear_error_naming_it(tmp_path):
    db = tmp_path / "memory.db"
    db.write_bytes(b"this is not a database " * 500)
    with pytest.raises(StoreError, match=str(db)):
        Memory(db).knowledge.stats()
    assert db.read_bytes().startswith(b"this is not a database")  # nothing the user had is overwritten


def test_a_foreign_database_is_refused(tmp_path):
    db = tmp_path / "memory.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE invoices (id INTEGER, amount REAL)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a sleuth memory database"):
        Memory(db).knowledge.stats()
    con = sqlite3.connect(db)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["invoices"]
    con.close()


def test_a_database_from_a_newer_sleuth_is_refused(tmp_path):
    db = tmp_path / "memory.db"
    Memory(db).knowledge.stats()
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer sleuth"):
        Memory(db).knowledge.stats()


def test_migrations_are_versioned(tmp_path):
    db = tmp_path / "memory.db"
    Memory(db).knowledge.stats()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
