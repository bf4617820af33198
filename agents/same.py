"""Whether two things share a country or a place: "Did A and B share the same nationality?",
"Did the movies A and B originate from the same country?", "Were both A and B born in the same
place?", "Do both films A and B have the directors from the same country?".

Such a question plans itself, as a comparison by date does (`agents.compare`): each option's
country (or birthplace, state, province), first through what it is compared by ("Who is the
director of A?") when the question says so. The two answers then decide it: the same country,
whether said as its name or its people ("United States", "American"), is yes, two different ones
no; two places are the same when one names the other ("Rome", "Rome, Italy") and different when
they share no word. Anything else (a country this table does not know, an answer missing) is left
to the model. Findings are data: they are read for names, never run.
"""

import re

from agents.compare import Finding, holder_question, trail
from tools.text import MARKER, content_words

_SAME = re.compile(r"\bsame (nationality|country|place|state|province)\b", re.I)
_YES_NO = re.compile(r"^(?:are|is|was|were|do|does|did)\s", re.I)
_LEAD = re.compile(r"^(?:(?:[a-z][\w'-]*|,)\s*)+")  # the lower-case words before an option: "are both businesses, "
_TAIL = re.compile(r"(?:,?\s+[a-z][\w'-]*)+$")  # those after the second: ", originate from the same country"
_ROLE = re.compile(r"\b(?:the (director|author|composer|producer|founder|creator|performer)s?"
                   r"|(director|author|composer|producer|founder|creator|performer)s? of)\b")
# What a sub-question about each attribute asks ("{}" is the option, or what it is compared through).
_ASK = {"nationality": "What is the nationality of {}?", "country": "Which country is {} from?",
        "located": "In which country is {} located?", "place": "Where was {} born?",
        "state": "In which state is {}?", "province": "In which province is {}?"}
_COUNTRY_KINDS = {"nationality", "country", "located"}
# What a person found through a role is asked instead: "Which country is Wilfred Lucas from?" reads
# as where he was born (Canada; an American actor), his nationality is what is meant.
_OF_A_PERSON = {"country": "nationality"}
# A finding answers what is shared when it was asked as the plan asks it: "Who is the director of
# No Country for Old Men?" says "Country", and is no answer.
_ASKED = {what: re.compile("|".join(re.escape(_ASK[k]).replace(r"\{\}", ".+") for k in {what, _OF_A_PERSON.get(what, what)}))
          for what in _ASK}


def asked(question: str) -> tuple[tuple[str, str], str, str | None] | None:
    """The two things a question asks about, what they must share ("nationality", "country",
    "located" for a country something is in, "place" of birth, "state", "province") and the role
    they are compared through ("director"), if any; None for any other question."""
    q = re.sub(r"[\s?]+$", "", question)
    same = _SAME.search(q)
    if not same or not _YES_NO.match(q):
        return None
    q = q[:1].lower() + q[1:]
    a, sep, b = _TAIL.sub("", q).partition(" and ")
    a, b = (_LEAD.sub("", x).strip(" ,") for x in (a, b))
    if not sep or not a or not b or max(len(a.split()), len(b.split())) > 12:
        return None
    what = same[1].lower()
    if what == "place" and not re.search(r"\bborn\b", q):
        return None  # a place of what: not known
    if what == "country" and re.search(r"\blocated\b", q):
        what = "located"
    role = _ROLE.search(q)
    return (a, b), what, (role[1] or role[2]) if role else None


def _answer(option: str, offered: tuple[str, str], findings: list[Finding], what: str) -> tuple[int | None, int | None]:
    """The finding that names the option (`compare.trail`) and the last of its trail that answers
    `what`, each None if there is none."""
    named, own = trail(option, offered, findings)
    answers = [i for i in sorted(own) if _ASKED[what].fullmatch(findings[i].question) and findings[i].said]
    return named, answers[-1] if answers else None


def missing(question: str, findings: list[Finding]) -> list[str] | None:
    """The sub-questions such a question still needs, in the order asked: for each option without
    its answer, what it is compared through ("Who is the director of A?"), or the country or place
    of that or of the option itself ("What is the nationality of Jean Renoir?"). None when the
    question is not of this kind; empty when both options have their answer."""
    if not (parsed := asked(question)):
        return None
    offered, what, role = parsed
    needed = []
    for option in offered:
        named, answer = _answer(option, offered, findings, what)
        if answer is not None:
            continue
        found = findings[named].said if named is not None and role else ""
        needed.append(_ASK[_OF_A_PERSON.get(what, what)].format(found) if found
                      else holder_question(role, option) if role else _ASK[what].format(option))
    return needed


def decide(question: str, findings: list[Finding]) -> tuple[str, list[int]] | None:
    """"Yes" or "No" as the findings' answers decide it, with the two findings behind it; None when
    the question is not of this kind or they do not settle it."""
    if not (parsed := asked(question)):
        return None
    offered, what, _ = parsed
    said = [_answer(option, offered, findings, what)[1] for option in offered]
    if None in said:
        return None
    alike = same_place(*(MARKER.sub(" ", findings[i].answer) for i in said), what)
    return None if alike is None else ("Yes" if alike else "No", said)


def same_place(x: str, y: str, what: str) -> bool | None:
    """Whether two answers name the same `what` (a key of `_ASK`: a country, or a place, state or
    province); None when that cannot be told. The word asked for says nothing: "Jiangsu Province"."""
    if what in _COUNTRY_KINDS:
        cx, cy = country_of(x), country_of(y)
        if cx and cy:
            return bool(cx & cy)
    wx, wy = content_words(x) - {what}, content_words(y) - {what}
    if not wx or not wy:
        return None
    if wx <= wy or wy <= wx:
        return True
    return None if what in _COUNTRY_KINDS or not wx.isdisjoint(wy) else False


# Countries as answers name them: the name, then its people, other names, and the states or provinces
# of the largest (a page says an American was born "in Missouri"; the Georgia of the Caucasus and of
# the United States is left out).
_COUNTRIES = """\
United States: America, American, United States of America, US, U.S., USA, U.S.A., New England, Alabama, Alaska,
 Arizona, Arkansas, California, Colorado, Connecticut, Delaware, Florida, Hawaii, Idaho, Illinois, Indiana, Iowa,
 Kansas, Kentucky, Louisiana, Maine, Maryland, Massachusetts, Michigan, Minnesota, Mississippi, Missouri, Montana,
 Nebraska, Nevada, New Hampshire, New Jersey, New Mexico, New York, North Carolina, North Dakota, Ohio, Oklahoma,
 Oregon, Pennsylvania, Rhode Island, South Carolina, South Dakota, Tennessee, Texas, Utah, Vermont, Virginia,
 Washington, West Virginia, Wisconsin, Wyoming
United Kingdom: UK, U.K., Britain, British, Great Britain, England, English, Scotland, Scottish, Wales, Welsh,
 Northern Ireland, Northern Irish
Ireland: Irish, Republic of Ireland
Canada: Canadian, Alberta, British Columbia, Manitoba, New Brunswick, Newfoundland, Nova Scotia, Ontario, Quebec,
 Saskatchewan
Australia: Australian, New South Wales, Queensland, Tasmania
New Zealand: New Zealander
France: French, Frenchman
Germany: German, West Germany, West German, East Germany, East German
Austria: Austrian
Switzerland: Swiss
Italy: Italian
Spain: Spanish, Spaniard
Portugal: Portuguese
Netherlands: Dutch, Holland, the Netherlands
Belgium: Belgian
Luxembourg: Luxembourgish
Denmark: Danish, Dane
Norway: Norwegian
Sweden: Swedish, Swede
Finland: Finnish, Finn
Iceland: Icelandic
Poland: Polish, Pole
Czech Republic: Czech, Czechia
Czechoslovakia: Czechoslovak
Slovakia: Slovak
Hungary: Hungarian
Romania: Romanian
Bulgaria: Bulgarian
Greece: Greek
Cyprus: Cypriot
Malta: Maltese
Turkey: Turkish, Turk
Russia: Russian, Russian Federation
Soviet Union: Soviet, USSR
Ukraine: Ukrainian
Belarus: Belarusian
Estonia: Estonian
Latvia: Latvian
Lithuania: Lithuanian
Yugoslavia: Yugoslav, Yugoslavian
Serbia: Serbian, Serb
Croatia: Croatian, Croat
Slovenia: Slovenian, Slovene
Bosnia and Herzegovina: Bosnian
Albania: Albanian
Armenia: Armenian
Azerbaijan: Azerbaijani
Kazakhstan: Kazakh
Mexico: Mexican
Cuba: Cuban
Jamaica: Jamaican
Haiti: Haitian
Dominican Republic: Dominican
Brazil: Brazilian
Argentina: Argentine, Argentinian
Chile: Chilean
Peru: Peruvian
Colombia: Colombian
Venezuela: Venezuelan
Uruguay: Uruguayan
Paraguay: Paraguayan
Bolivia: Bolivian
Ecuador: Ecuadorian
Japan: Japanese
China: Chinese, People's Republic of China
Taiwan: Taiwanese, Republic of China
Hong Kong: Hongkonger
South Korea: Korea, Korean, South Korean
North Korea: North Korean
Mongolia: Mongolian
India: Indian
Pakistan: Pakistani
Bangladesh: Bangladeshi
Sri Lanka: Sri Lankan
Nepal: Nepali, Nepalese
Afghanistan: Afghan
Iran: Iranian, Persian
Iraq: Iraqi
Israel: Israeli
Lebanon: Lebanese
Syria: Syrian
Saudi Arabia: Saudi, Saudi Arabian
Egypt: Egyptian
Morocco: Moroccan
Algeria: Algerian
Tunisia: Tunisian
Nigeria: Nigerian
Ghana: Ghanaian
Senegal: Senegalese
Cameroon: Cameroonian
Kenya: Kenyan
Uganda: Ugandan
Tanzania: Tanzanian
Ethiopia: Ethiopian
South Africa: South African
Zimbabwe: Zimbabwean
Indonesia: Indonesian
Malaysia: Malaysian
Singapore: Singaporean
Thailand: Thai
Vietnam: Vietnamese
Philippines: Filipino, Philippine, the Philippines"""
_COUNTRY_OF = {form.strip(): name for line in _COUNTRIES.replace("\n ", " ").splitlines()
               for name, _, forms in [line.partition(": ")] for form in [name, *forms.split(",")]}
# Longest first, so that "South Korean" is not read as "Korean"; "American" after "South" or
# "Latin" is a continent's.
_COUNTRY = re.compile(r"(?<![\w.])(?<!South )(?<!Latin )(?<!Central )(?:"
                      + "|".join(re.escape(f) for f in sorted(_COUNTRY_OF, key=len, reverse=True)) + r")(?![\w])")


def country_of(text: str) -> set[str]:
    """The countries a text names, by name or by people: "an American-born British actor" ->
    {"United States", "United Kingdom"}."""
    return {_COUNTRY_OF[m[0]] for m in _COUNTRY.finditer(text)}
