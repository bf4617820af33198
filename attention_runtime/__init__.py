"""The local LLM runtime: the vLLM engine, the model catalogue (models that ship on PyPI, converted
once), chat formatting, and the vLLM attention plugin whose backend routes long contexts to sparse
attention (FlexPrefill for prefill, HCAM for decoding; `AttentionSettings`).

Importing this package is cheap; vLLM and torch load only when an engine starts. Every error it raises
for a user's input is an `AttentionRuntimeError`.
"""

from attention_runtime.chat_format import PLAIN_TEMPLATE, format_prompt, plain_prompt
from attention_runtime.engine import Engine, EngineConfig, Generation, installed_build
from attention_runtime.errors import AttentionRuntimeError, EngineError, ModelError
from attention_runtime.model import (
    CATALOGUE, DEFAULT, CatalogueModel, entry, is_prepared, model_dir, prepare, resolve,
)
from attention_runtime.routing import AttentionSettings

__all__ = [
    "CATALOGUE", "DEFAULT", "PLAIN_TEMPLATE", "AttentionRuntimeError", "AttentionSettings", "CatalogueModel", "Engine", "EngineConfig",
    "EngineError", "Generation", "ModelError", "entry", "format_prompt", "installed_build", "is_prepared", "model_dir",
    "plain_prompt", "prepare", "resolve",
]
