"""Chunk summaries for HCAM's coarse step: what a chunk is about, in a few words.

The default is extractive and free: the page title, the chunk's lead sentence and its most
salient terms (frequent in the chunk, not stop words, capitalised names favoured). An LLM
summariser with the same signature can replace it.
"""

import re
from collections import Counter
from collections.abc import Callable

Summariser = Callable[[str, str], str]  # (page title, chunk text) -> summary

_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
_LEAD = re.compile(r"^.*?[.!?](?=\s|$)", re.DOTALL)
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    one two first new known later became since including many well used however among within""".split()
)


def salient_terms(text: str, n: int = 8) -> list[str]:
    counts: Counter[str] = Counter()
    for word in _WORD.findall(text):
        lower = word.lower()
        if len(lower) > 2 and lower not in STOPWORDS:
            counts[lower] += 2 if word[0].isupper() else 1
    return [w for w, _ in counts.most_common(n)]


def extractive_summary(title: str, text: str) -> str:
    lead = _LEAD.match(text.strip())
    lead_sentence = (lead.group(0) if lead else text.strip())[:300]
    return " | ".join(part for part in (title.strip(), lead_sentence, " ".join(salient_terms(text))) if part)
