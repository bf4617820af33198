"""The local LLM runtime: the vLLM engine, the embedded default model, chat formatting, and the vLLM
attention plugin whose backend routes long contexts to sparse attention (FlexPrefill for
prefill, HCAM for decoding; `AttentionSettings`).

Importing this package is cheap; vLLM and torch load only when an engine starts.
"""

from attention_runtime.chat_format import PLAIN_TEMPLATE, format_prompt, plain_prompt
from attention_runtime.engine import Engine, EngineConfig, EngineError, Generation, installed_build
from attention_runtime.model import ModelError, default_model_dir, is_prepared, prepare
from attention_runtime.routing import AttentionSettings

__all__ = [
    "PLAIN_TEMPLATE", "AttentionSettings", "Engine", "EngineConfig", "EngineError", "Generation", "ModelError", "default_model_dir",
    "format_prompt", "installed_build", "is_prepared", "plain_prompt", "prepare",
]
