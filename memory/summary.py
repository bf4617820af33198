"""Chunk summaries for HCAM's coarse step: what a chunk is about, in a few words.

The default is extractive and free: the page title, the chunk's lead sentence and its most
salient terms (frequent in the chunk, not stop words, capitalised names favoured). An LLM
summariser with the same signature can replace it.
"""

import re
from collections import Counter
from collections.abc import Callable

from tools.text import STOPWORDS

Summariser = Callable[[str, str], str]  # (page title, chunk text) -> summary

_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)
# the lead is cut at the first . ! or ?, even an initial's ("directed by Alan J."): cut as a sentence
# (`memory.chunking.sentences`), 1,778 of the dev corpus's 17,876 summaries grew longer, and `deep` lost
# F1 on 200 dev questions (-0.013, 95% -0.030 to 0.000; README, "Memory")
_LEAD = re.compile(r"^.*?[.!?](?=\s|$)", re.DOTALL)


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
