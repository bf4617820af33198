"""Proof that sleuth's attention backend runs, and what it did: when `SLEUTH_ATTENTION_PROBE` names a
file, each process that runs the backend's forward pass appends JSON lines to it: once its pid and
backend (`mark`), and one line per routed request and layer (`record`: the route, sizes, density)."""

import json
import os

_seen: set[str] = set()


def mark(backend: str) -> None:
    if os.environ.get("SLEUTH_ATTENTION_PROBE") and backend not in _seen:
        _seen.add(backend)
        _write({"backend": backend})


def record(**data: object) -> None:
    if os.environ.get("SLEUTH_ATTENTION_PROBE"):
        _write(data)


def _write(data: dict) -> None:
    with open(os.environ["SLEUTH_ATTENTION_PROBE"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"pid": os.getpid(), **data}) + "\n")
