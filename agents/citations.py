"""Citations: numbered `[n]` markers in an answer, each resolved to a chunk that was really read.

A sub-answer cites its own recalled chunks as [1], [2], ...; the final answer's citations are
renumbered into one global list of sources. Then every marker is checked: a number that resolves
to no chunk read in this run is removed (an invented source cannot survive), and a cited chunk
that does not support its sentence is flagged. Support is lexical by default (the sentence's
content words found in the chunk); any `SupportCheck` can replace it.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from memory import Chunk
from memory.summary import STOPWORDS

_MARKER = re.compile(r"\s?\[(\d{1,3})\]")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")
_WORD = re.compile(r"\w+", re.UNICODE)

SupportCheck = Callable[[str, Chunk], bool]  # (sentence without markers, cited chunk) -> supported?


@dataclass(frozen=True)
class Citation:
    number: int  # the [n] in the final text
    chunk_id: int
    url: str
    title: str
    start: int  # the cited span in the page text
    end: int
    quote: str
    supported: bool


@dataclass
class Checked:
    text: str
    citations: list[Citation] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)  # markers that resolved to nothing read
    unsupported: list[int] = field(default_factory=list)


def lexical_support(sentence: str, chunk: Chunk, threshold: float = 0.5) -> bool:
    """At least `threshold` of the sentence's content words (numbers included) occur in the chunk."""
    words = {w.lower() for w in _WORD.findall(sentence)} - STOPWORDS
    if not words:
        return True
    present = {w.lower() for w in _WORD.findall(chunk.text)}
    stems = {w[:5] for w in present}
    found = sum(1 for w in words if w in present or (len(w) > 5 and w[:5] in stems))
    return found / len(words) >= threshold


def renumber(text: str, local: Sequence[int], mapping: dict[int, int]) -> str:
    """Rewrite a sub-answer's markers: its [i] cites `local[i-1]`, whose global number is in `mapping`.
    Markers that point past `local` are left as they are, for `verify` to remove."""
    def swap(m: re.Match) -> str:
        i = int(m.group(1))
        if 1 <= i <= len(local) and local[i - 1] in mapping:
            return f"{m.group(0)[: -len(m.group(0).lstrip())]}[{mapping[local[i - 1]]}]"
        return m.group(0)

    return _MARKER.sub(swap, text)


def verify(text: str, sources: dict[int, Chunk], support: SupportCheck = lexical_support) -> Checked:
    """Keep markers that resolve to a read chunk (`sources`: number -> chunk), flag unsupported ones."""
    result = Checked(text="")
    kept: dict[int, Citation] = {}
    pieces = []
    for sentence in _SENTENCE.finditer(text):
        s = sentence.group(0)
        plain = _MARKER.sub("", s)
        def check(m: re.Match) -> str:
            n = int(m.group(1))
            chunk = sources.get(n)
            if chunk is None:
                result.removed.append(n)
                return ""
            ok = support(plain, chunk)
            if not ok and n not in result.unsupported:
                result.unsupported.append(n)
            if n not in kept:
                kept[n] = Citation(number=n, chunk_id=chunk.id, url=chunk.url, title=chunk.title, start=chunk.start,
                                   end=chunk.end, quote=chunk.text, supported=ok)
            elif not ok and kept[n].supported:
                kept[n] = replace(kept[n], supported=False)
            return m.group(0)

        pieces.append(_MARKER.sub(check, s))
    result.text = "".join(pieces) if pieces else text
    result.citations = [kept[n] for n in sorted(kept)]
    return result
