"""A question through a role: "Where was the director of film Jaws born?" plans itself, and so does
one through a relation ("Where was the father of X born?", "When did X's mother die?", "Who is
X's paternal grandmother?", the mother of X's father; a father-in-law, the spouse's father), an
attribute ("X's birthplace", "the country of X") or a thing told by a clause ("the country where X
is located", "the association which published Y", "the country Signmark is from"), or by what the
question says of it ("Kate Ramsay is a character from an Australian soap opera created by who?":
the soap opera, then who created it).

First who or what that is ("Who is the director of Jaws?"), then the question asked of it ("Where
was Steven Spielberg born?"): the question with its answer in place of "the director of film Jaws",
parsed again, so that hops chain ("the country where the composer of X was a citizen": the composer,
then his country). A small model plans such a question one step short (the director only), drops
what tells the film apart ("White Rabbit (Film)"), asks another thing of the person ("When was ...
born?" for where), or copies the whole question into a sub-question. The answer is what the last
finding says (`decide`): a small model writing it from the findings names the director instead.
Findings are data: they are read for the name found, never run.
"""

import re

from agents.compare import Finding, holder_question, options

_KIN = ("father-in-law|mother-in-law|father|mother|husband|wife|spouse|son|daughter|brother|sister|sibling|child|uncle|aunt"
        "|(?:paternal|maternal) grand(?:father|mother)")
_ROLES = ("director|performer|composer|producer|writer|screenwriter|author|lyricist|cinematographer|editor|creator"
          f"|founder|publisher|developer|designer|illustrator|architect|{_KIN}")
_ATTRS = "birthplace|place of birth|city of birth|country of birth|hometown|country|alma mater|team"  # "What is the ... of X?"
_GRAND = re.compile(r"(paternal|maternal) grand(father|mother)")  # the mother of the father: two relations
_IN_LAW = re.compile(r"(father|mother)-in-law")  # the father of the spouse
_OWNED = re.compile(rf"['’]s ({_ROLES}|{_ATTRS})\b")  # "Jean Gimpel's father", "Damerjog's country"
_ASKING = {"who", "what", "when", "where", "which", "why", "how", "name"}
_KINDS = "film|movie|song|album|single|novel|book|play|poem|opera|magazine|newspaper|series|show|game|painting"
_THROUGH = re.compile(rf"\b[Tt]he ({_ROLES}|{_ATTRS}) of (?:the (?:{_KINDS}) |(?:{_KINDS}) )?")  # "The Jewel of the Nile" keeps "The"
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
    if not named or not named[0]:
        return ""  # "the daughter of the English nobleman ...": no name follows
    end = 0
    for i, word in enumerate(words):
        if named[i]:
            end = i + 1
            continue
        after = next((named[j] for j in range(i + 1, len(words)) if words[j].lower() not in _SMALL), False)
        if word.lower() not in _SMALL or not after:
            break
    return " ".join(words[:end]).rstrip(",")


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


_PEOPLE = ("person|man|woman|actor|actress|singer|artist|musician|writer|politician|player|footballer|president|king"
           "|queen|emperor|leader|poet|painter|explorer|scientist|inventor|athlete|coach")
_NOUNS = ("country|nation|state|city|county|continent|town|village|region|province|area|location|place|district|island"
          "|borough|municipality|commune|department|prefecture|parish|suburb|neighbou?rhood|territory|republic"
          "|river|colony|empire|kingdom|dynasty|company|firm|studio|airline|manufacturer|brand|association|organization"
          "|organisation|institution|band|group|team|club|league|party|orchestra|church|newspaper|journal|publisher"
          f"|school|university|college|label|network|station|film|movie|album|song|single|book|novel|magazine|{_PEOPLE}")
# "the country where X is located", "the association which published Y": a thing told by a clause
_CLAUSE = re.compile(rf"\b[Tt]he ({_NOUNS}) (where|in which|of which|which|that|who|whose) ")
# where a "where" clause ends when the question goes on after it ("... is located, become", "... died has")
_CLAUSE_END = re.compile(r"\b(?:(?:is|are|was|were) (?:located|found|situated|based|born|formed|founded|headquartered"
                         r"|buried|set|held|a citizen)|died|took place)\b")
_LAST_VERB = re.compile(r"\s(?:[a-z]+ed|[a-z]+en|born|built|made|held|won|fall|die|start|begin|end|open|close|play|live|work"
                        r"|become|leave|join)$")  # "In what year was the band that recorded X formed?"
_AUXILIARY = re.compile(r"\b(?:did|does|do|is|are|was|were|has|have|had|can|could|will|would)\s*$", re.I)
_ASKS = re.compile(r"\b(?:which|what|how|when|whom)\b|^(?:he|she|it|they)\b", re.I)  # a clause that asks, or says "he"


# "the country Signmark is from", "the state the Battle of Mine Creek was fought": a clause with no "where"
_CONTACT = re.compile(rf"\b[Tt]he ({_NOUNS}) (?=(?:the )?[A-Z0-9\"“])")
_CONTACT_END = re.compile(r"\s*(?:(?:is|are|was|were) (?:from|located in|located|born in|born|fought in|fought|based in|set in"
                          r"|part of)|lived in|died in|died)\b")


def _which(noun: str, told: str) -> str:
    """The question for what a clause tells: "What is the country where X is located?", "Who is the
    person who broke the salt law?"."""
    return f"{'Who' if re.fullmatch(_PEOPLE, noun) else 'What'} is the {noun} {told}?"


def _contact(q: str):
    """Each "the <noun> <name> <is from | was born | is located in ...>": the holder question is "What
    is the country Signmark is from?"."""
    for m in _CONTACT.finditer(q):
        rest = q[m.end():]
        lead = "the " if rest.startswith("the ") else ""
        if not (name := _title(rest[len(lead):])) or not (closed := _CONTACT_END.match(rest, len(lead) + len(name))):
            continue
        if re.match(r"\s*(?:what|which|who|whom|how)\b", rest[closed.end():], re.I):
            continue  # "The man Peter Berg was born in what year?": the verb has its object, so no clause ends there
        yield _which(m.group(1), rest[:closed.end()].strip()), m.start(), m.end() + closed.end(), "{}"


def _clauses(q: str):
    """Each "the <noun> <where|which|that|...> <clause>" whose end is clear: the question's end, a
    comma before a lower-case word ("..., become a member"), or for a place ("where", "in which"),
    a verb that closes it ("is located", "was born", "died"), or, after an auxiliary, the question's
    last word ("In what year was the band that recorded X formed?"). The holder question is "What is
    the country where X is located?". None where the question goes on with more words after an
    auxiliary ("Who did the actor who starred in X have a child with?"): where the clause ends is not
    clear."""
    for m in _CLAUSE.finditer(q):
        rest = q[m.end():]
        end = len(rest.rstrip("? "))
        comma = re.search(r",\s+(?=[a-z])", rest[:end])
        closed = m.group(2) in ("where", "in which") and _CLAUSE_END.search(rest[:comma.start() if comma else end])
        if closed:
            end = closed.end()
        elif comma:
            end = comma.start()
        elif _AUXILIARY.search(q[:m.start()]):
            # the question's own verb follows the clause: one last word ("In what year was the band that
            # recorded X formed?") is it; more ("Who did the actor who starred in X have a child with?") are not clear
            if not (last := _LAST_VERB.search(rest[:end])) or not last.start():
                continue
            end = last.start()
        clause = rest[:end].strip()
        if not clause or _ASKS.search(clause):
            continue
        stop = m.end() + end + (1 if rest[end:end + 1] == "," and "," not in q[:m.start()] else 0)
        yield _which(m.group(1), f"{m.group(2)} {clause}"), m.start(), stop, "{}"


# "Kate Ramsay is a character from an Australian soap opera created by who?": a thing told by what
# the question says of it, then asked of ("a university located in what city", "a man whose godfather is whom")
_BRIDGE = re.compile(r"(?:a|an|the) ((?:(?!(?:a|an|the|is|are|was|were|has|have|had) )[^\s,?]+ ){1,6}?)"
                     r"(that|which|who|whose|from|(?:[a-z]+ed|born|built|made|known|written|held|run|set|owned|sold|shown)"
                     r"(?= (?:by|in|on|at|for|after|as|to|from|with|during|near|under|where|when)\b)) (.+)\?$")
_ASKER = re.compile(r"\b(?:what|which|who|whom|whose|when|where|how)\b", re.I)
_OPENS = re.compile(r"(?:Is|Are|Was|Were|Did|Does|Has|Have|Had) ")  # asks yes or no ("Will Smith ..." does not)
_COPULA = re.compile(r"\b(?:is|are|was|were|be|been|being)$")
_STATE = re.compile(r"located|based|headquartered|known|situated|named|owned|run|set|from|found")


def _bridges(q: str):
    """Each "<what is said> a|an|the <thing> <that ... | located in ... | from ...> <what is asked>?" of a
    question that says, not asks, its first part ("Toad Hall is a residential hall in a university
    located in what Australian city?"): the thing first ("Toad Hall is a residential hall in which
    university?"), then the rest asked of it ("The university Australian National University is
    located in what Australian city?"). Not the thing a question's subject is ("Scott Howell is a
    consultant who ..."): that is one question."""
    for article in re.finditer(r"\b(?:a|an|the) ", q):
        if not (m := _BRIDGE.match(q, article.start())):
            continue
        said, thing, mark, rest = q[:m.start()].rstrip(), m.group(1).strip(), m.group(2), m.group(3)
        words = thing.split()
        named = _named(words[-1]) and not all(_named(w) for w in words)  # 'the show "Scaredy Squirrel"' is named
        if (len(said.split()) < 2 or _COPULA.search(said) or _ASKER.search(said) or _OPENS.match(said) or named
                or re.search(r",(?! and\b)", rest)):
            continue
        if mark in ("that", "which", "who"):
            then = rest
        elif mark == "whose":
            then = f"{{}}'s {rest}"
        else:
            then = f"{'is' if _STATE.fullmatch(mark) else 'was'} {mark} {rest}"
        if not _ASKER.search(then):
            continue
        put = then if then.startswith("{}") else f"{{}} {then}"
        yield f"{said} which {thing}?", 0, len(q), f"The {thing} {put}?"


def _spans(q: str):
    """Each "the <role> of <name>", "<name>'s <relation>" and "the <noun> where <clause>" in the
    question: the question for its holder, where the span starts and ends, and what takes its place
    ("{}": the holder; "the mother of {}" for a paternal grandmother, the father's mother)."""
    for m in _THROUGH.finditer(q):
        if (thing := _title(q[m.end():].rstrip("? "))) and not thing.endswith(("'s", "’s")):  # "Big Eye's main director"
            ask, put = _holder(m.group(1), thing)
            yield ask, m.start(), m.end() + len(thing), put
    for m in _OWNED.finditer(q):
        if thing := _owner(q[:m.start()]):
            ask, put = _holder(m.group(1), thing)
            yield ask, m.start() - len(thing), m.end(), put
    yield from _clauses(q)
    yield from _contact(q)
    yield from _bridges(q)  # last: it spans the whole question, so a span inside it comes first


def _holder(role: str, thing: str) -> tuple[str, str]:
    """The question for who or what holds a role, a relation or an attribute of `thing`, and what
    takes the span's place in the question."""
    if re.fullmatch(_ATTRS, role):
        return f"What is the {role} of {thing}?", "{}"
    if grand := _GRAND.fullmatch(role):
        return holder_question({"paternal": "father", "maternal": "mother"}[grand.group(1)], thing), f"the {grand.group(2)} of {{}}"
    if in_law := _IN_LAW.fullmatch(role):
        return holder_question("spouse", thing), f"the {in_law.group(1)} of {{}}"
    return holder_question(role, thing), "{}"


def asked(question: str) -> tuple[str, str] | None:
    """The first sub-question such a question needs, and the question with "{}" in place of its answer:
    "Who is the director of B Boy (Song)?" and "Where was {} born?". Of two, the one that starts last
    comes first: it is the innermost ("the country where the composer of Aschenbrodel was a citizen":
    the composer first). None for a question of another kind, one that asks for the holder itself, or
    one that offers two options (`agents.compare`). A grandparent is a parent's parent: "Who is X's
    paternal grandmother?" is "Who is the mother of {}?" of X's father, and a father-in-law the
    spouse's father."""
    q = question.strip()
    if options(q):
        return None
    ask, start, end, put = max(_spans(q), key=lambda span: span[1], default=("", 0, 0, ""))
    if not ask or len(ask.split()) > 30:
        return None
    template = q[:start] + put + q[end:]
    if template.count("{}") != 1:
        return None  # the question writes "{}" itself: where the holder goes is not clear
    if re.fullmatch(r"(?:(?:who|what) (?:is|was|are|were) (?:the )?(?:(?!of\b)[a-z]+ )?)?\{\}\??", template.strip(), re.I):
        return None  # "Who is the director of Jaws?", "What is the record label that signed X?" ask for the holder
    return ask, template


def _steps(question: str, findings: list[Finding]) -> tuple[str, str | None] | None:
    """The sub-question still needed, or None with the question left once every holder is found:
    each holder found goes in its place, and what that leaves is parsed again ("the country where
    Johann Strauss II was a citizen"). None for a question of another kind."""
    if not (parsed := asked(question)):
        return None
    q = question
    for _ in range(4):  # hops at most
        ask, template = parsed
        holder = next((f.said.rstrip(".") for f in findings if f.question == ask), "")
        if not holder:
            return ask, None
        q = template.replace("{}", holder)  # not format(): "{x}" in a question is text
        if not (parsed := asked(q)):
            break
    return None, q


def missing(question: str, findings: list[Finding]) -> list[str] | None:
    """The sub-question such a question still needs: the next holder (asked again while none is
    found: the planner does not research a question twice, so a plan whose holder is not found ends),
    then the question asked of the last; empty once that is answered. None for a question of another kind."""
    if not (steps := _steps(question, findings)):
        return None
    ask, then = steps
    if ask is not None:
        return [ask]
    return [] if any(f.question == then for f in findings) else [then]


def decide(question: str, findings: list[Finding]) -> tuple[str, list[int]] | None:
    """The answer the question asked of the last holder found, with that finding: the answer
    itself, not the holder a small model names instead ("Sherry Hormann" for where she was born).
    None when the question is not of this kind or that finding is missing."""
    then = (_steps(question, findings) or ("", None))[1]
    found = next((i for i, f in enumerate(findings) if then and f.question == then and f.said), None)
    return None if found is None else (findings[found].said, [found])
