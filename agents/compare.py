"""Comparisons by date: "Who was born first, A or B?" decided from the findings, not by the model.

A question that names two options and asks which is earlier or later (born first, older,
released more recently, died later, ...) is answered by comparing the dates its sub-questions
found for each option; a small model picks between two dates about as well as a coin. The
findings of an option are the answered sub-questions that name it and those that follow from them
(`#n`); its date is the one in the last of them that holds one. When either option has no date,
or the dates tie, nothing is decided and the model answers as before. `missing` says which
sub-questions such a question still needs (each option's date, or first what it is compared
through), so that the planner plans it without the model. Findings are data: they are parsed for a
date, never run.
"""

import datetime
import re
from dataclasses import dataclass

from tools.text import MARKER, content_words

_ASKED = re.compile(r"^(?:was|were|is|are|did|does|do|has|have|had)\s+(.+?)\s+or\s+(.+)$", re.I)  # "Was A or B born first"
_PREDICATE = re.compile(r"(?:\s+[a-z][\w-]*)+$")  # "... B born first": the lower-case words after the last name
_THE = re.compile(r"^the\s+", re.I)
_EARLIER = re.compile(r"\b(first|earlier|earliest|older|oldest|sooner)\b", re.I)
_LATER = re.compile(r"\b(later|latest|last|younger|youngest|more recent(?:ly)?|most recent(?:ly)?|newer|newest)\b", re.I)
_ASKS_BY_DATE = re.compile(f"{_EARLIER.pattern}|{_LATER.pattern}", re.I)
_MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_DATE = re.compile(r"\b(?:(\d{1,2})\s+)?(?:([A-Z][a-z]+)\.?\s+)?(?:(\d{1,2}),?\s+)?(\d{4})\b")
_RANGE = re.compile(r"\d{4}\s*[–-]\s*\d{2,4}")


@dataclass(frozen=True)
class Finding:
    """An answered sub-question as searched ("When was Bram Stoker born?"), its cited short answer,
    and the findings it depends on (their indices in the list given to `decide`)."""

    question: str
    answer: str
    depends_on: tuple[int, ...] = ()
    passages: tuple[tuple[str, str], ...] = ()  # (title, text) of each passage its searcher read

    @property
    def said(self) -> str:
        """The answer without its [n] markers, its spaces made single: "Steven Spielberg"."""
        return " ".join(MARKER.sub(" ", self.answer).split())


def options(question: str) -> tuple[str, str] | None:
    """The two options a question offers, if it offers two: "Who was born first, A or B?",
    "Which band was formed first A or B ?" (no comma: A starts after the word that asks for the
    date), "Was A or B born first?"."""
    q = re.sub(r"[\s?]+$", "", question)
    if m := _ASKED.match(q):
        a, b = m.group(1), _PREDICATE.sub("", m.group(2))
    else:
        head, _, b = q.rpartition(" or ")
        cut = head.rfind(",")
        if cut < 0:  # no comma: the option starts after the last word that asks for a date
            cut = max((w.end() - 1 for w in _ASKS_BY_DATE.finditer(head)), default=-1)
        if not head or cut < 0:
            return None
        a = head[cut + 1:]
    a, b = (_THE.sub("", x.strip()) for x in (a, b))
    return (a, b) if a and b and max(len(a.split()), len(b.split())) <= 12 else None


def _head(question: str, offered: tuple[str, str] | None) -> str:
    """The question without its options: their own words ("The Last Waltz") say nothing of what it asks."""
    for option in offered or ():
        question = question.replace(option, " ")
    return question


def direction(question: str) -> str | None:
    """"earlier" or "later": which date the question asks for, if it asks by a date."""
    head = _head(question, options(question))
    earlier, later = bool(_EARLIER.search(head)), bool(_LATER.search(head))
    return "earlier" if earlier and not later else "later" if later and not earlier else None


def date_of(text: str) -> tuple[int, int, int] | None:
    """The first date in a text as (year, month, day), 0 for what it does not say: "20 January
    1992", "July 1980", "September 4, 1908", "1922". A range ("1933–1997") is not one date."""
    text = MARKER.sub(" ", text)
    if _RANGE.search(text):
        return None
    for m in _DATE.finditer(text):
        day, month, day2, year = m.groups()
        number = _MONTHS.get((month or "")[:3].lower(), 0)
        if month and not number:
            continue  # "Chapter 1922" is not a date
        if 1000 <= int(year) <= 2100:
            return int(year), number, int(day or day2 or 0) if number else 0
    return None


def _names(finding: Finding, option: str) -> bool:
    words = content_words(option)
    return bool(words) and words <= content_words(finding.question)


def holder_question(role: str, thing: str) -> str:
    """The sub-question for who holds a role: "Who is the director of Jaws?" (`compare`, `same` and
    `chain` plan it alike)."""
    return f"Who is the {role} of {thing}?"


def trail(option: str, offered: tuple[str, str], findings: list[Finding]) -> tuple[int | None, set[int]]:
    """The finding that names the option alone (None if none does), and every finding that follows
    from it: those that depend on it and those that name what it found ("Who directed Jaws?" ->
    "Steven Spielberg", then "When was Steven Spielberg born?")."""
    own = {i for i, f in enumerate(findings) if _names(f, option) and not any(_names(f, o) for o in offered if o != option)}
    named = min(own, default=None)
    grew = True
    while grew:
        answers = [findings[i].said for i in own]
        more = {i for i, f in enumerate(findings) if i not in own and not any(_names(f, o) for o in offered)
                and (set(f.depends_on) & own or any(_names(f, a) for a in answers if not date_of(a)))}
        own |= more
        grew = bool(more)
    return named, own


def decide(question: str, findings: list[Finding]) -> tuple[str, list[int]] | None:
    """The option the findings' dates pick, with the findings behind it (the one that names the
    option and the one that holds its date); None when the question is not a comparison by date
    or the findings do not settle it."""
    offered, wanted = options(question), direction(question)
    if offered and _LIVED.search(_head(question, offered)):
        return _longer(offered, findings)
    if not offered or not wanted:
        return None
    dated = []
    for option in offered:
        named, own = trail(option, offered, findings)
        with_date = [(i, d) for i in sorted(own) if (d := date_of(findings[i].answer))]
        if not with_date:
            return None
        i, d = with_date[-1]
        dated.append((option, sorted({named, i}), d))
    (a, cite_a, da), (b, cite_b, db) = dated
    common = [(x, y) for x, y in zip(da, db) if x and y]  # compare as precisely as both dates allow
    first, second = [x for x, _ in common], [y for _, y in common]
    if first == second:
        return None
    return (a, cite_a) if (first < second) == (wanted == "earlier") else (b, cite_b)


# What a comparison dates, as a question about one of its things: "born first" -> "When was X born?"
_BORN = re.compile(r"\b(born|older|oldest|younger|youngest)\b", re.I)
_DIED = re.compile(r"\b(died|die)\b", re.I)
_CAME_OUT = re.compile(r"\bc(?:a|o)me out\b", re.I)
_DONE = re.compile(r"\b(released|founded|established|formed|published|built|opened|created|launched|premiered)\b", re.I)
_THROUGH = re.compile(r"\b(?:has the|whose) ([a-z]+)\b")  # "Which film has the director who ...": compared through its director


_LIVED = re.compile(r"\blived (?:the )?long(?:er|est)\b", re.I)  # "Who lived longer, A or B?": each one's birth and death
_BIRTH = re.compile(r"\b(?:born|birth)\b", re.I)
_DEATH = re.compile(r"\b(?:die|died|death)\b", re.I)


def _last_date(findings: list[Finding], own: set[int], asks: re.Pattern) -> tuple[int, tuple[int, int, int]] | None:
    """The last of `own` whose question `asks` (of a birth, of a death) and whose answer holds a date, with that date."""
    return next(((i, d) for i in sorted(own, reverse=True) if asks.search(findings[i].question)
                 and (d := date_of(findings[i].answer))), None)


def _longer(offered: tuple[str, str], findings: list[Finding]) -> tuple[str, list[int]] | None:
    """Who lived longer, from each option's dates of birth and death: in days when all four dates
    give one, else in years; None when a date is missing, a death comes before its birth, or the
    two lifespans tie."""
    lives = []
    for option in offered:
        named, own = trail(option, offered, findings)
        born, died = _last_date(findings, own, _BIRTH), _last_date(findings, own, _DEATH)
        if not born or not died:
            return None
        lives.append((option, sorted({born[0], died[0]} | ({named} - {None})), born[1], died[1]))
    try:
        spans = [(datetime.date(*d) - datetime.date(*b)).days for _, _, b, d in lives]
    except ValueError:  # a month or a day not given (0), or not a date
        spans = [d[0] - b[0] for _, _, b, d in lives]
    if spans[0] == spans[1] or min(spans) < 0:  # a death before the birth: one of the dates is another's
        return None
    option, behind, _, _ = lives[0] if spans[0] > spans[1] else lives[1]
    return option, behind


def missing(question: str, findings: list[Finding]) -> list[str] | None:
    """The sub-questions a comparison by date still needs, in the order asked; None when the
    question is not one whose plan is known (no two options, not by date, or a date of what is not
    said: "Which came first, A or B?"). For each option whose findings hold no date: the date of what
    was found for it ("When was Steven Spielberg born?" after "Who is the director of Jaws?"), or,
    when nothing was, the date of the option itself ("When did Anna Pavlova die?") or first what the
    question compares through ("Who is the director of Jaws?"). Empty when every option has a date."""
    offered = options(question)
    head = _head(question, offered)
    if offered and _LIVED.search(head):
        return [q.format(option.rstrip("?")) for option in offered for asks, q in
                ((_BIRTH, "When was {} born?"), (_DEATH, "When did {} die?"))
                if not _last_date(findings, trail(option, offered, findings)[1], asks)]
    if not offered or not direction(question):
        return None
    through = _THROUGH.search(head)
    person = bool(through) or head.lstrip().lower().startswith(("who ", "was "))
    if (verb := _DONE.search(head)) and not through:
        when = f"When was {{}} {verb[1].lower()}?"
    elif _CAME_OUT.search(head) and not through:
        when = "When did {} come out?"
    elif _DIED.search(head) and person:
        when = "When did {} die?"
    elif _BORN.search(head) and person:
        when = "When was {} born?"
    else:
        return None
    needed = []
    for option in offered:
        named, own = trail(option, offered, findings)
        option = option.rstrip("?")  # "Who'S Your Brother?" is asked about without its own mark
        if any(date_of(findings[i].answer) for i in own):
            continue
        found = findings[named].said if named is not None else ""
        if through and not found:
            needed.append(holder_question(through[1], option))
        else:
            needed.append(when.format(found if through else option))
    return needed
