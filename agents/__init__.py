"""sleuth's public Python API: settings now; the Researcher, its graphs and the LLM clients as they land."""

from agents.settings import Settings, SettingsError, config_path

__all__ = ["Settings", "SettingsError", "config_path"]
