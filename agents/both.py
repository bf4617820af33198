"""Whether two things are both of a kind: "Are Frozen and Escape from the Dark both animated
features?", "Are both magazines, Woman's Viewpoint and Pick Me Up, British publications?", "Are both
Medici and Senet board games?".

Such a question plans itself: each thing asked alone ("Is Frozen an animated feature?", "Is Escape
from the Dark an animated feature?"). The passages read about each decide it, not the model: a thing
is of the kind when a passage about it (one whose title names it) holds every word of the kind
("animated", "feature"); no if either is not, yes if both are. A small model says yes to nearly
every "Is X a Y?", asked of both at once or of each ("Is Lord of the Fries a board game?": yes, of
a card game). Where no passage read is about the thing, its answer's yes or no stands; where that
is neither, the model answers. Findings are data: they are read for words, never run.
"""

import re

from agents.compare import Finding
from tools.text import content_words

_AFTER = re.compile(r"(Are|Were) (.+?) and (.+?),? both (.+)")  # "Are A and B both C"
_KIND = re.compile(r"(Are|Were) both (?:the )?[a-z]+, (.+?) and (.+?), (.+)")  # "Are both magazines, A and B, C"
# "Are both A and B c": B's words capitalised, the kind's first word not
_BEFORE = re.compile(r"(Are|Were) both (.+?) and ([^\sa-z]\S*(?: [^\sa-z]\S*)*) ([a-z].*)")
_HEAD = re.compile(r"(.*?)((?:(?:^| )(?:of|from|in|for|by|with|at|on|to)\b.*)?)")  # "members" | " of the Bee Gees"


def _one(kind: str) -> str:
    """What a kind is for one thing: "animated features" -> "an animated feature", "members of the
    Bee Gees" -> "a member of the Bee Gees"; "from Canada", "American", "born in 1950" stay."""
    head, rest = _HEAD.fullmatch(kind).groups()
    if not head or not re.search(r"[a-z]s$", head) or head.endswith("ss"):
        return kind
    *before, noun = head.split()
    noun = noun[:-3] + "y" if noun.endswith("ies") else noun[:-2] if re.search(r"(?:ch|sh|x)es$", noun) else noun[:-1]
    one = " ".join([*before, noun])
    return f"{'an' if re.match(r'[aeiouAEIOU]', one) else 'a'} {one}{rest}"


def asked(question: str) -> tuple[tuple[str, str], list[str], str] | None:
    """The two things, the question asked of each ("Is Frozen an animated feature?") and the kind
    ("animated features"); None for any other question."""
    q = re.sub(r"[\s?]+$", "", question.strip())
    m = _KIND.fullmatch(q) or _AFTER.fullmatch(q) or _BEFORE.fullmatch(q)
    if not m or re.search(r"\bsame\b", q):  # "both in the same country": agents.same
        return None
    verb, a, b, kind = m.group(1), m.group(2).strip(), m.group(3).strip(), m.group(4).strip()
    if not a or not b or max(len(a.split()), len(b.split())) > 12 or "," in a + b:
        return None
    be = {"Are": "Is", "Were": "Was"}[verb]
    return (a, b), [f"{be} {thing} {_one(kind)}?" for thing in (a, b)], kind


def missing(question: str, findings: list[Finding]) -> list[str] | None:
    """The questions of the two things not asked yet; None for a question of another kind."""
    if not (parsed := asked(question)):
        return None
    return [q for q in parsed[1] if not any(f.question == q for f in findings)]


def _stems(text: str) -> set[str]:
    """Its content words, a plural's "s" off ("films" is "film")."""
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in content_words(text)}


def _is(thing: str, kind: str, finding: Finding) -> bool | None:
    """Whether the passages about the thing call it that kind; without any about it, what the
    finding's answer says first (yes or no), else None."""
    named = content_words(thing) or {thing.lower()}
    about = [text for title, text in finding.passages if named <= content_words(title)]
    if about:
        return any(_stems(_one(kind)) <= _stems(text) for text in about)
    word = re.match(r"\W*(\w+)", finding.said)
    return {"yes": True, "no": False}.get(word.group(1).lower()) if word else None


def decide(question: str, findings: list[Finding]) -> tuple[str, list[int]] | None:
    """"No" with the finding about the thing that is not of the kind, or "Yes" with both; None when
    the question is not of this kind or the findings do not settle it."""
    if not (parsed := asked(question)):
        return None
    (a, b), ask, kind = parsed
    found = [next((i for i, f in enumerate(findings) if f.question == q), None) for q in ask]
    said = {i: _is(thing, kind, findings[i]) for thing, i in zip((a, b), found) if i is not None}
    if no := [i for i, yes in said.items() if yes is False]:
        return "No", no[:1]
    if len(said) == 2 and all(said.values()):
        return "Yes", list(said)
    return None
