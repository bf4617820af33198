"""The clock: one place that says what time it is, so prompts and tests agree on "today"."""

from datetime import UTC, date, datetime


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC."""
    return now().date()
