"""Text helpers every part of sleuth shares: stop words, content words, FTS5 queries, `[n]` markers.

Nothing here knows about pages, memory or models; it is plain string work.
"""

import re

# Too common to tell passages apart: dropped from questions before matching or recalling.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    one two first new known later became since including many well used however among within""".split()
)
# The local corpus search drops fewer: only words too common to help BM25 but costly to look up in
# an OR query. With STOPWORDS instead, a supporting page is among the 4 best hits for fewer dev
# questions (recall 0.651 against 0.654 over the 400; "first", "new", "one" are in titles).
SEARCH_STOPWORDS = frozenset(
    "a an and are as at be by for from has have he her his in is it its of on or she that the their "
    "they this to was were what when where which who whom whose why with how did does do".split()
)

WORD = re.compile(r"\w+", re.UNICODE)
MARKER = re.compile(r"\[(\d{1,3})\]")  # a citation marker, "[2]"; group 1 is its number
SPACED_MARKER = re.compile(r"\s?\[(\d{1,3})\]")  # with the space before it, for removing or renumbering


def content_words(text: str, min_len: int = 3) -> set[str]:
    """The text's words of at least `min_len` characters, lower-cased, stop words out."""
    return {w.lower() for w in WORD.findall(text) if len(w) >= min_len} - STOPWORDS


def query_words(text: str, stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """The words of a question worth searching for: lower-cased, unique, in order, stop words removed
    (unless nothing else is left)."""
    words = [w.lower() for w in WORD.findall(text)]
    return list(dict.fromkeys([w for w in words if w not in stopwords] or words))


def fts_or(words: list[str]) -> str | None:
    """Words as a safe FTS5 OR-query (each quoted, so no word is read as syntax), or None."""
    return " OR ".join(f'"{w}"' for w in words) if words else None


def fts_query(text: str, stopwords: frozenset[str] = STOPWORDS) -> str | None:
    """A user's words as a safe FTS5 OR-query, or None if no word is left."""
    return fts_or(query_words(text, stopwords))
