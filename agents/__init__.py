"""sleuth's public Python API: `Researcher` (ask a question, get a cited `Answer`), its settings,
and the parts it is built from (the reader, the planner's limits; the LLM clients in `agents.llm`)."""

from agents.planner import Limits
from agents.reader import Read, Reader
from agents.researcher import Answer, Event, ResearchError, Researcher, Source
from agents.settings import Settings, SettingsError, config_path

__all__ = ["Answer", "Event", "Limits", "Read", "Reader", "ResearchError", "Researcher", "Settings", "SettingsError", "Source", "config_path"]
