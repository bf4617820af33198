"""Errors the agents raise for what a user causes or meets; each message is one readable sentence.

`AgentError` is the base: the CLI prints any of them as one line.
"""


class AgentError(Exception):
    """Base class of every error from `agents`."""


class SettingsError(AgentError, ValueError):
    """The configuration (file, environment or flags) holds a value sleuth cannot use.

    `from_flag`: the value refused was given to `Settings.load` (the CLI's flags), so the command
    line is what to fix: the CLI exits 2, as for any usage error, and 1 for the file or environment.
    """

    def __init__(self, message: str, from_flag: bool = False):
        super().__init__(message)
        self.from_flag = from_flag


class LLMError(AgentError):
    """The model could not give an answer; the message says why in one sentence."""


class LLMUnavailable(LLMError):
    """The model server cannot be reached, or does not serve the requested model."""


class StructuredOutputError(LLMError):
    """The model's reply did not validate against the requested schema after the allowed retries."""


class ResearchError(AgentError):
    """A run cannot be done as asked (e.g. resuming a run that does not exist); says why in one sentence."""


class EvalError(AgentError):
    """The evaluation cannot run as asked (a missing or malformed questions file); says why."""
