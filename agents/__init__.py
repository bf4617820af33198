"""sleuth's public Python API: settings and reading into memory now; the Researcher, its graphs and
the LLM clients as they land."""

from agents.reader import Read, Reader
from agents.settings import Settings, SettingsError, config_path

__all__ = ["Read", "Reader", "Settings", "SettingsError", "config_path"]
