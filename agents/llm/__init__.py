"""The LLM clients: one `ChatModel` interface, three implementations.

- `LocalChat`: the in-process vLLM engine (attention_runtime), the default;
- `OpenAIChat`: any OpenAI-compatible server (`sleuth serve`, `vllm serve`, a cluster);
- `ScriptedChat`: replies chosen by a rule, for tests of the agents' logic.
`LocalChat` is imported lazily: it needs the engine extra.
"""

from agents.errors import LLMError, LLMUnavailable, StructuredOutputError
from agents.llm.base import CallRecord, ChatModel, Message, Usage, counting, parse_structured
from agents.llm.openai import OpenAIChat
from agents.llm.scripted import ScriptedChat


def __getattr__(name: str):
    if name == "LocalChat":
        from agents.llm.local import LocalChat

        return LocalChat
    raise AttributeError(name)


__all__ = [
    "CallRecord", "ChatModel", "LLMError", "LLMUnavailable", "LocalChat", "Message", "OpenAIChat", "ScriptedChat",
    "StructuredOutputError", "Usage", "counting", "parse_structured",
]
