"""One SQLite file in sleuth's data folder: WAL mode, versioned migrations, a connection per thread
shared by every object of the file, safe for several processes. The memory (`memory.db`) and the
corpus (`tools.corpus`) are both one.

Writers queue on SQLite's lock (busy timeout) instead of failing; `write()` takes the lock before it
reads, so what a transaction checked cannot change before it writes. What a user can do to the file
(read-only, damaged, a full disk) becomes the owner's error class with one sentence
(`tools.datafile.why_unusable`); an error in sleuth's own SQL is re-raised as it is.
"""

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.datafile import ensure_folder, why_unusable
from tools.retry import Retries

CACHE_KIB = 65536  # page cache per connection


class _Connections(threading.local):
    """Each thread's connection to one file."""

    con: sqlite3.Connection | None = None


# The connections to each file (device, inode), shared by every `SQLiteFile` of it while one lives.
# A research run opens the memory and the corpus anew, and Python frees a connection nobody closed
# only when its garbage collector runs (a connection is in a reference cycle with its statement
# cache): with a connection per object and thread, a long evaluation ran out of file descriptors.
# Keyed by the file, not its path: a file deleted and made anew at the same path gets connections
# of its own, whatever of the old one lingers.
_OPEN: "weakref.WeakValueDictionary[tuple[int, int], _Connections]" = weakref.WeakValueDictionary()
_OPEN_LOCK = threading.Lock()


class SQLiteFile:
    """`migrations[n]` is the script that takes the file from schema version n to n + 1. With an
    `application_id`, a file that is not marked with it (and is not new) is refused as foreign."""

    def __init__(self, path: Path, migrations: list[str], error: type[Exception], *,
                 application_id: int | None = None, what: str = "database") -> None:
        self.path = Path(path)
        self.migrations = migrations
        self.error = error
        self.application_id = application_id
        self.what = what
        self._checked = False
        self._local: _Connections | None = None  # its file's, once opened

    @property
    def version(self) -> int:
        return len(self.migrations)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection to the file; its `with con:` blocks are transactions.

        Each thread keeps one connection a file, whichever object asks: SQLite's page cache belongs
        to a connection, and a warm one makes full-text queries markedly faster than a fresh
        connection per call.
        """
        if not self._checked:
            self._open_or_migrate()
        con = self._local.con
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
        it reads before writing cannot change underneath it (two processes adding one row)."""
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()

    def exists(self) -> bool:
        """Whether the file exists yet (a data folder that is a file is an error, not a missing file)."""
        self._folder()
        return self.path.exists()

    def copy_to(self, dest: Path) -> None:
        """A consistent copy of the database at `dest`, with what its write-ahead log still holds:
        a plain copy of the file misses that (a freshly indexed corpus lost its last 1,674 documents)."""
        ensure_folder(Path(dest).parent)
        with self.connect() as con:
            target = sqlite3.connect(dest)
            try:
                con.backup(target)
            finally:
                target.close()

    def _folder(self) -> None:
        try:
            ensure_folder(self.path.parent)
        except OSError as e:
            raise self.error(e.strerror) from e

    def _unusable(self, error: sqlite3.Error) -> Exception:
        """The error for what the user did to the file (read-only, damaged, disk full); a bug raises."""
        reason = why_unusable(self.path, error)
        if reason is None:
            raise error
        return self.error(reason)

    def _open_or_migrate(self) -> None:
        self._folder()
        try:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                _ensure_wal(con)
                con.execute("BEGIN IMMEDIATE")  # one process migrates at a time
                self._migrate(con)
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
            finally:
                con.close()
        except sqlite3.Error as e:
            raise self._unusable(e) from e
        try:
            file = self.path.stat()
        except OSError as e:
            raise self.error(f"{self.path}: {e.strerror}") from e
        with _OPEN_LOCK:
            self._local = _OPEN.setdefault((file.st_dev, file.st_ino), _Connections())
        self._checked = True

    def _migrate(self, con: sqlite3.Connection) -> None:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if self.application_id is not None:
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if app_id != self.application_id and (app_id != 0 or tables):
                raise self.error(f"{self.path} is not a sleuth {self.what}; move it away or choose another --data-dir.")
        if version > self.version:
            raise self.error(f"{self.path} was written by a newer sleuth (schema {version}); upgrade sleuth to use it.")
        for number in range(version, self.version):
            for statement in _statements(self.migrations[number]):
                con.execute(statement)
            con.execute(f"PRAGMA user_version={number + 1}")
        if self.application_id is not None:
            con.execute(f"PRAGMA application_id={self.application_id}")


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
