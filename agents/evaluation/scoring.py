"""Scoring answers against gold answers: the SQuAD/HotpotQA normalisation, exact match, token F1."""

import re
import string
from collections import Counter

from tools.text import MARKER

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """Lower-case, citation markers, punctuation and articles removed, whitespace collapsed."""
    text = MARKER.sub(" ", text).lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, golds: list[str]) -> float:
    p = normalize(prediction)
    return float(any(p == normalize(g) for g in golds if g))


def f1(prediction: str, golds: list[str]) -> float:
    """The best token F1 against any gold answer."""
    p = normalize(prediction).split()
    best = 0.0
    for gold in golds:
        g = normalize(gold).split()
        common = sum((Counter(p) & Counter(g)).values())
        if common:
            precision, recall = common / len(p), common / len(g)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains(text: str, golds: list[str]) -> bool:
    """Whether a normalised gold answer occurs in `text` as a run of whole words."""
    t = f" {normalize(text)} "
    return any(n and f" {n} " in t for g in golds if (n := normalize(g)))
