"""Errors the tools raise for conditions a user causes or meets (bad input, unreachable services).

Every one carries a message that is one readable sentence; the CLI prints it as is.
"""


class ToolError(Exception):
    """Base class: something outside sleuth's control went wrong, and the message says what."""


class SearchError(ToolError):
    """A search backend could not answer."""


class SearchUnavailable(SearchError):
    """The backend cannot be reached at all (no route, DNS failure, service down)."""


class RateLimited(SearchUnavailable):
    """The backend refused because of too many requests."""


class SearchTimeout(SearchUnavailable):
    """The backend did not answer in time."""


class EmptyCorpus(SearchError):
    """The local corpus has no documents to search."""


class FetchError(ToolError):
    """A URL could not be fetched for a reason the user should see (refused scheme, blocked host)."""


class BlockedAddress(FetchError):
    """The URL's host resolves to an address sleuth does not fetch from unless allowed."""


class CorpusError(ToolError):
    """A file given to the local index could not be read."""
