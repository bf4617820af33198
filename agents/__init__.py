"""sleuth's public Python API: `Researcher` (ask a question, get a cited `Answer`), its settings,
and the parts it is built from (the reader, the planner's limits; the LLM clients in `agents.llm`).
Every error it raises for a user's input is an `AgentError`."""

from agents.errors import AgentError, EvalError, LLMError, ResearchError, SettingsError
from agents.planner import Limits
from agents.reader import Read, Reader
from agents.events import Answer, AnswerDelta, Done, Event, PageRead, PlanUpdated, SearchStarted, Source, SubAnswer
from agents.plan import NodeStatus, PlanItem
from agents.researcher import Researcher
from agents.settings import Settings, config_path

__all__ = [
    "AgentError", "Answer", "AnswerDelta", "Done", "EvalError", "Event", "LLMError", "Limits", "NodeStatus", "PageRead",
    "PlanItem", "PlanUpdated", "Read", "Reader", "ResearchError", "Researcher", "SearchStarted", "Settings",
    "SettingsError", "Source", "SubAnswer", "config_path",
]
