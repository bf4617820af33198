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

from agents.compare import options
from memory import Chunk
from tools.text import SPACED_MARKER as _MARKER, STOPWORDS, WORD as _WORD

_END = re.compile(r"[.!?]+(?=\s)|\n")  # a sentence is complete once the character after it is known

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


def strip_markers(text: str) -> str:
    """The text without its [n] markers (and the spaces before them): a short answer as scored."""
    return re.sub(r"\s*\[\d{1,3}\]", "", text).strip()


def lexical_support(sentence: str, chunk: Chunk, threshold: float = 0.5) -> bool:
    """At least `threshold` of the sentence's content words (numbers included) occur in the chunk."""
    return grounded(sentence, chunk.text, threshold)


def adds_to(sentence: str, question: str) -> bool:
    """Whether the sentence is an answer rather than an echo of the question: it says yes or no,
    has a content word of its own, picks one of the two options a question offers ("A or B?"), or
    picks out a part of the question rather than repeating half of it or more. A small model
    often echoes the question."""
    asked = {w.lower()[:5] for w in _WORD.findall(question) if w.lower() not in STOPWORDS}
    words = {w.lower() for w in _WORD.findall(_MARKER.sub(" ", sentence))}
    said = words - STOPWORDS
    if words & {"yes", "no"} or any(w[:5] not in asked for w in said):
        return True
    if offered := options(question):
        named = [{w.lower() for w in _WORD.findall(o)} for o in offered]
        if any(said <= o for o in named):
            return bool(said)  # an option long beside the question ("Marcelino Manuel Da Graça") is still a pick
        if sum(bool(said & o) for o in named) == 1:
            return True  # one option's words and not the other's: "Circus Diablo was formed first"
    return 2 * len({w[:5] for w in said}) < len(asked)


def repeats(answer: str, question: str) -> bool:
    """Whether a short answer is only something the question names, word for word ("Who did Paul
    Gross have a child with?": "Paul Gross"), not one of the options it offers nor a part of its
    "(... song)" that tells one page from another ("Damage (Pharoahe Monch Song)"). "John II, Duke
    of Cleves" does not repeat "John III, Duke of Cleves": a name is compared whole."""
    said = " ".join(re.sub(r"^the\s+", "", strip_markers(answer).lower()).rstrip(".").split())
    if not said or re.search(r"\b(?:or|between)\b", question, re.I):  # options offered ("A or B?", `options`)
        return False
    asked = " ".join(re.sub(r"\(.*?\)", " ", question).lower().split())
    return re.search(rf"(?<![\w-]){re.escape(said)}(?![\w-])", asked) is not None


def grounded(sentence: str, source: str, threshold: float = 0.5) -> bool:
    """At least `threshold` of the sentence's content words (markers aside) occur in `source`.
    A small model otherwise writes its few-shot example's words instead of the passages'."""
    words = {w.lower() for w in _WORD.findall(_MARKER.sub(" ", sentence))} - STOPWORDS - {"yes"}  # "no" is a stopword
    if not words:
        return True
    present = {w.lower() for w in _WORD.findall(source)}
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


class Verifier:
    """Checks an answer while it is written: `feed` text as it arrives and get back the sentences
    completed so far, checked (invented markers removed, unsupported ones flagged); `close` checks
    the rest. What it returns is final, so it can be shown at once; `result` has the citations.
    `clean` may rewrite or drop (by returning "") each sentence before it is checked."""

    def __init__(self, sources: dict[int, Chunk], support: SupportCheck = lexical_support,
                 clean: Callable[[str], str] | None = None) -> None:
        self.sources, self.support, self.clean = sources, support, clean
        self.result = Checked(text="")
        self._kept: dict[int, Citation] = {}
        self._pending = ""

    def feed(self, piece: str) -> str:
        self._pending += piece
        done = []
        while m := _END.search(self._pending):
            done.append(self._check(self._pending[: m.end()]))
            self._pending = self._pending[m.end():]
        return self._emit("".join(done))

    def close(self) -> str:
        rest, self._pending = self._pending, ""
        return self._emit(self._check(rest) if rest else "")

    def _emit(self, text: str) -> str:
        self.result.text += text
        self.result.citations = [self._kept[n] for n in sorted(self._kept)]
        return text

    def _check(self, sentence: str) -> str:
        if self.clean:
            body = sentence.strip()
            cleaned = self.clean(body) if body else body
            if body and not cleaned:
                return ""
            sentence = sentence.replace(body, cleaned, 1)
        plain = _MARKER.sub("", sentence)

        def check(m: re.Match) -> str:
            n = int(m.group(1))
            chunk = self.sources.get(n)
            if chunk is None:
                self.result.removed.append(n)
                return ""
            ok = self.support(plain, chunk)
            if not ok and n not in self.result.unsupported:
                self.result.unsupported.append(n)
            if n not in self._kept:
                self._kept[n] = Citation(number=n, chunk_id=chunk.id, url=chunk.url, title=chunk.title,
                                         start=chunk.start, end=chunk.end, quote=chunk.text, supported=ok)
            elif not ok and self._kept[n].supported:
                self._kept[n] = replace(self._kept[n], supported=False)
            return m.group(0)

        return _MARKER.sub(check, sentence)


def verify(text: str, sources: dict[int, Chunk], support: SupportCheck = lexical_support) -> Checked:
    """Keep markers that resolve to a read chunk (`sources`: number -> chunk), flag unsupported ones."""
    v = Verifier(sources, support)
    v.feed(text)
    v.close()
    return v.result
