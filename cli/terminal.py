"""What reaches the user's terminal: sleuth's own lines only, unless `--verbose`.

Once a command is about to use the local engine, `quiet_engine` points file descriptor 2 at
`<data dir>/logs/engine.log`: everything vLLM, transformers and their progress bars write there,
from this process and from the engine processes it starts (they inherit the descriptor), lands in
the log. sleuth's own lines go to `err`, a console on the original stderr, and so do the records of
the `sleuth` loggers but the engine's own (`sleuth.engine`, `sleuth.attention`), which go with the
engine's output.
"""

import logging
import os
import sys
from pathlib import Path

from rich.console import Console

MAX_LOG_BYTES = 10_000_000  # a longer log is kept as engine.log.1 and a new one begun
ENGINE_LOGGERS = ("sleuth.engine", "sleuth.attention")

verbose = False
log_path: Path | None = None
on_interrupt = "interrupted."  # what Ctrl-C gets; a command that can be resumed says how
err = Console(stderr=True, highlight=False)


def line(text: str) -> None:
    """One line of sleuth's own on the user's stderr."""
    print(text, file=err.file, flush=True)


class _ToTerminal(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            line(self.format(record))
        except Exception:  # noqa: BLE001 - logging must not raise
            self.handleError(record)


class _ToStderr(logging.Handler):
    """Writes to whatever fd 2 is now (the log, once the engine is quiet)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001
            self.handleError(record)


def route_logs() -> None:
    """sleuth's notices to the terminal; the engine's with the engine's output."""
    sleuth = logging.getLogger("sleuth")
    if not any(isinstance(h, _ToTerminal) for h in sleuth.handlers):
        sleuth.addHandler(_ToTerminal())
        sleuth.propagate = False
    for name in ENGINE_LOGGERS:
        engine = logging.getLogger(name)
        if not any(isinstance(h, _ToStderr) for h in engine.handlers):
            engine.addHandler(_ToStderr())
            engine.propagate = False


def quiet_engine(data_dir: Path) -> Path | None:
    """From here on, the engine's output goes to `data_dir/logs/engine.log` (not with --verbose)."""
    if verbose:
        return None
    return engine_output_to(Path(data_dir) / "logs" / "engine.log")


def engine_output_to(log: Path) -> Path | None:
    """Point fd 2 at `log` (appended to) and keep `err` on the original stderr. Where the log cannot
    be opened, nothing changes: the engine's lines stay on the terminal."""
    global log_path
    if log_path is not None:
        return log_path
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        if log.is_file() and log.stat().st_size > MAX_LOG_BYTES:
            log.replace(log.with_name(log.name + ".1"))
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        return None
    sys.stderr.flush()
    terminal = os.dup(2)
    os.dup2(fd, 2)
    os.close(fd)
    err.file = os.fdopen(terminal, "w", buffering=1, encoding="utf-8", errors="replace")
    log_path = log
    return log
