"""What sleuth uses to reach the world: search backends, the page fetcher, text extraction, the clock.

Nothing here imports the rest of sleuth; the agents call these tools.
"""

from tools.clock import now, today
from tools.errors import FetchError, ToolError
from tools.extract import Extracted, extract
from tools.fetch import Fetcher, FetchLimits, Page

__all__ = [
    "Extracted",
    "FetchError",
    "FetchLimits",
    "Fetcher",
    "Page",
    "ToolError",
    "extract",
    "now",
    "today",
]
