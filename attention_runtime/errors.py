"""Errors of the local LLM runtime; each message says in one sentence what went wrong or what to do.

`AttentionRuntimeError` is the base: the CLI prints any of them as one line (with where the engine's
log is).
"""


class AttentionRuntimeError(Exception):
    """Base class of every error from `attention_runtime`."""


class ModelError(AttentionRuntimeError):
    """The model cannot be prepared or found; the message says what to do."""


class EngineError(AttentionRuntimeError):
    """The engine cannot start or run; the message says why in one sentence."""
