"""Why a file in sleuth's data folder cannot be used, said in one sentence.

The corpus and the memory are SQLite files in the data folder. What a user can do to them (point
`--data-dir` at a file, make the folder read-only, damage a file, fill the disk) surfaces as
`OSError`s and `sqlite3.Error`s; these functions turn each into a sentence that names the file and
what to do, and tell a read-only file from a damaged one.
"""

import errno
import sqlite3
from pathlib import Path


def ensure_folder(folder: Path) -> None:
    """Create the data folder if needed; raise `OSError` with a sentence as its message if it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:  # mkdir(exist_ok) raises this only when the path is not a folder
        raise OSError(e.errno, f"{folder} is a file, not a folder: choose another --data-dir.") from e
    except OSError as e:
        raise OSError(e.errno, f"cannot create the data folder {folder}: {_reason(e)}.") from e


def why_unusable(path: Path, error: sqlite3.Error) -> str | None:
    """One sentence saying why the SQLite file `path` could not be used, by SQLite's error code;
    None for an error the user cannot cause (a bug in sleuth's SQL), which the caller re-raises."""
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_READONLY") or name == "SQLITE_PERM":
        return (f"{path} is read-only: sleuth writes to it and beside it (its -wal and -shm files) even to read it; "
                f"make {path.parent} writable, or choose another --data-dir.")
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB":
        return (f"{path} is damaged or not a SQLite database ({error}); sleuth has not changed it: "
                f"move it away to start afresh, or choose another --data-dir.")
    if name.startswith("SQLITE_FULL"):
        return f"the disk that holds {path} is full; nothing was written."
    if name.startswith("SQLITE_CANTOPEN"):
        return f"cannot open {path} ({error}); check that {path.parent} exists and is writable."
    if name.startswith("SQLITE_IOERR"):
        return f"reading or writing {path} failed ({error})."
    if name == "SQLITE_BUSY" or "locked" in str(error):
        return f"{path} is locked by another process for too long; try again when it is done."
    return None


def describe_os_error(error: OSError) -> str:
    """A sentence for an `OSError` a user can cause (a missing folder, a permission, a full disk)."""
    if error.filename is None:
        return str(error.strerror or error)
    return f"cannot use {error.filename}: {_reason(error)}."


def _reason(error: OSError) -> str:
    if error.errno == errno.ENOENT:
        return "no such file or folder"
    if error.errno == errno.ENOTDIR:
        return "a part of that path is a file, not a folder"
    return (error.strerror or str(error)).lower()
