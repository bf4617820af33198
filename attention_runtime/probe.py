"""Proof that sleuth's attention backend runs: when `SLEUTH_ATTENTION_PROBE` names a file, each
process that runs the backend's forward pass appends one JSON line to it (pid and backend)."""

import json
import os

_seen: set[str] = set()


def mark(backend: str) -> None:
    path = os.environ.get("SLEUTH_ATTENTION_PROBE")
    if not path or backend in _seen:
        return
    _seen.add(backend)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"pid": os.getpid(), "backend": backend}) + "\n")
