"""A question through a role: "Where was the director of film Jaws born?" plans itself, and so does
one through a relation ("Where was the father of X born?", "When did X's mother die?", "Who is
X's paternal grandmother?", the mother of X's father).

First who holds the role ("Who is the director of Jaws?"), then the question asked of that person
("Where was Steven Spielberg born?"): the question with its answer in place of "the director of
film Jaws". A small model plans such a question one step short (the director only), drops what
tells the film apart ("White Rabbit (Film)"), or asks another thing of the person ("When was ...
born?" for where). The answer is what the second finding says (`decide`): a small model writing it
from the findings names the director instead. Findings are data: they are read for the name found,
never run.
"""

import re

from agents.compare import Finding, holder_question

_KIN = ("father-in-law|mother-in-law|father|mother|husband|wife|spouse|son|daughter|brother|sister|sibling|child|uncle|aunt"
        "|(?:paternal|maternal) grand(?:father|mother)")
_ROLES = ("director|performer|composer|producer|writer|screenwriter|author|lyricist|cinematographer|editor|creator"
          f"|founder|publisher|developer|designer|illustrator|architect|{_KIN}")
_GRAND = re.compile(r"(paternal|maternal) grand(father|mother)")  # the mother of the father: two relations
_OWNED = re.compile(rf"['’]s ({_KIN})\b")  # "Jean Gimpel's father"
_ASKING = {"who", "what", "when", "where", "which", "why", "how", "name"}
_KINDS = "film|movie|song|album|single|novel|book|play|poem|opera|magazine|newspaper|series|show|game|painting"
_THROUGH = re.compile(rf"\b[Tt]he ({_ROLES}) of (?:the (?:{_KINDS}) |(?:{_KINDS}) )?")  # "The Jewel of the Nile" keeps "The"
_RELATIVE = re.compile(r"(?<!^)\b(?:where|which|whose|that|who|whom|when)\b", re.I)  # "... the country where {} was a citizen"
_TOKEN = re.compile(r"\([^()]*\)|\S+")  # a word, or a "(...)" whole
_SMALL = {"of", "the", "and", "a", "an", "in", "on", "at", "to", "for", "de", "la", "le", "du", "des", "di", "da",
          "del", "della", "dei", "von", "van", "der", "und", "et", "el", "los", "las", "les", "il", "y", "e", "or", "from",
          "with"}  # words a title may hold between its capitalised ones


def _named(word: str) -> bool:
    """Whether a word can be part of a name: capitalised ("Żagań" too), a number, quoted or in brackets."""
    return word[:1].isupper() or word[:1].isdigit() or word[:1] in "\"“'("


def _title(text: str) -> str:
    """The name at the start of `text`: a quoted title, or its words up to the first lower-case one
    that no capitalised word follows ("Lord of the Rings born" -> "Lord of the Rings")."""
    if quoted := re.match(r"[\"“]([^\"”]{1,80})[\"”]", text):
        return quoted.group(0)
    words = _TOKEN.findall(text)
    named = [_named(w) for w in words]
    end = 0
    for i, word in enumerate(words):
        if named[i]:
            end = i + 1
            continue
        after = next((named[j] for j in range(i + 1, len(words)) if words[j].lower() not in _SMALL), False)
        if word.lower() not in _SMALL or not after:
            break
    return " ".join(words[:end])


def _owner(before: str) -> str:
    """The name that ends `before`, the owner in "<name>'s father": its capitalised words and the
    small words between them ("When did Toda Of Pamplona" -> "Toda Of Pamplona"), not the word that
    asks ("Who")."""
    words = list(_TOKEN.finditer(before))
    first = None
    for i in range(len(words) - 1, -1, -1):
        word = words[i].group(0)
        if _named(word) and not (i == 0 and word.lower() in _ASKING):
            first = i
        elif not (first is not None and word.lower() in _SMALL and i > 0 and _named(words[i - 1].group(0))):
            break
    return "" if first is None else before[words[first].start():]


def _spans(q: str):
    """Each "the <role> of <name>" and "<name>'s <relation>" in the question: the role, the name, and
    where the two start and end."""
    for m in _THROUGH.finditer(q):
        if (thing := _title(q[m.end():].rstrip("? "))) and not thing.endswith(("'s", "’s")):  # "Big Eye's main director"
            yield m.group(1), thing, m.start(), m.end() + len(thing)
    for m in _OWNED.finditer(q):
        if thing := _owner(q[:m.start()]):
            yield m.group(1), thing, m.start() - len(thing), m.end()


def asked(question: str) -> tuple[str, str, str] | None:
    """The role, the thing or person it is of (as named, with its disambiguator: "B Boy (Song)") and
    the question with "{}" in place of the role's holder; None for a question of another kind, one
    that asks for the holder itself, or one with more hops after it. A grandparent is a parent's
    parent: "Who is X's paternal grandmother?" is "Who is the mother of {}?" of X's father."""
    q = question.strip()
    role, thing, start, end = min(_spans(q), key=lambda span: span[2], default=(None, "", 0, 0))
    if not thing or len(thing.split()) > 12:
        return None
    template = q[:start] + "{}" + q[end:]
    if template.count("{}") != 1:
        return None  # the question writes "{}" itself: where the holder goes is not clear
    if grand := _GRAND.fullmatch(role):
        role = {"paternal": "father", "maternal": "mother"}[grand.group(1)]
        template = template.replace("{}", f"the {grand.group(2)} of {{}}")
    if re.fullmatch(r"(?:(?:who|what) (?:is|was|are|were) )?\{\}\??", template.strip(), re.I):
        return None  # "Who is the director of Jaws?" asks for the holder: no chain
    if _RELATIVE.search(template):
        return None  # more hops than two ("the country where {} was a citizen"): the model plans it
    return role, thing, template


def _steps(question: str, findings: list[Finding]) -> tuple[str, str | None] | None:
    """The two sub-questions: who holds the role, and the question asked of them (None until found)."""
    if not (parsed := asked(question)):
        return None
    role, thing, template = parsed
    ask = holder_question(role, thing)
    holder = next((f.said.rstrip(".") for f in findings if f.question == ask), "")
    return ask, template.replace("{}", holder) if holder else None  # not format(): "{x}" in a question is text


def missing(question: str, findings: list[Finding]) -> list[str] | None:
    """The sub-question such a question still needs: who holds the role (asked again while none is
    found: the planner does not research a question twice, so a plan whose holder is not found ends),
    then the question asked of them; empty once that is answered. None for a question of another kind."""
    if not (steps := _steps(question, findings)):
        return None
    ask, then = steps
    if then is None:
        return [ask]
    return [] if any(f.question == then for f in findings) else [then]


def decide(question: str, findings: list[Finding]) -> tuple[str, list[int]] | None:
    """The answer the question asked of the role's holder found, with that finding: the answer
    itself, not the holder a small model names instead ("Sherry Hormann" for where she was born).
    None when the question is not of this kind or that finding is missing."""
    then = (_steps(question, findings) or ("", None))[1]
    found = next((i for i, f in enumerate(findings) if then and f.question == then and f.said), None)
    return None if found is None else (findings[found].said, [found])
