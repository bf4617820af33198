"""sleuth's public Python API: `Researcher` (ask a question, get a cited `Answer`), its settings,
and the parts it is built from (the reader, the planner's limits; the LLM clients in `agents.llm`).
Every error it raises for a user's input is an `AgentError`."""

from agents.errors import AgentError, EvalError, LLMError, ResearchError, SettingsError
from agents.planner import Limits
from agents.reader import Read, Reader
from agents.researcher import Answer, Event, Researcher, Source
from agents.settings import Settings, config_path

__all__ = [
    "AgentError", "Answer", "EvalError", "Event", "LLMError", "Limits", "Read", "Reader", "ResearchError", "Researcher",
    "Settings", "SettingsError", "Source", "config_path",
]
