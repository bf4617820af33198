"""A question through a role, a relation or a thing told by a clause plans itself (`agents.chain`):
which questions are of that kind, and the plan."""

import pytest

from agents.chain import asked, decide, missing
from agents.compare import Finding


@pytest.mark.parametrize("question, parsed", [
    ("Where was the director of film The Ape (2005 Film) born?", ("director", "The Ape (2005 Film)", "Where was {} born?")),
    ("Which country the director of film Sarah Silverman: Jesus Is Magic is from?",
     ("director", "Sarah Silverman: Jesus Is Magic", "Which country {} is from?")),
    ("What is the place of birth of the performer of song B Boy (Song)?", ("performer", "B Boy (Song)", "What is the place of birth of {}?")),
    ("When did the director of Lord of the Rings die?", ("director", "Lord of the Rings", "When did {} die?")),
    ("What piece by the composer of Bastien und Bastienne is a cliché?", ("composer", "Bastien und Bastienne", "What piece by {} is a cliché?")),
    ("The writer of the song \"Death of Samantha\" was the second wife of what singer?",
     ("writer", "\"Death of Samantha\"", "{} was the second wife of what singer?")),
    ("Who is the spouse of the director of The Jewel of the Nile?", ("director", "The Jewel of the Nile", "Who is the spouse of {}?")),
    ("Where was the father of Prince Boris Of Leiningen born?", ("father", "Prince Boris Of Leiningen", "Where was {} born?")),
    ("Where did Grand Duchess Elena Vladimirovna Of Russia's father die?",
     ("father", "Grand Duchess Elena Vladimirovna Of Russia", "Where did {} die?")),
    ("When did John Lyon, 6Th Lord Glamis's father die?", ("father", "John Lyon, 6Th Lord Glamis", "When did {} die?")),
    ("Where was the place of death of Archibald Hamilton (1790–1815)'s father?",
     ("father", "Archibald Hamilton (1790–1815)", "Where was the place of death of {}?")),
    ("Who is Karl Von Habsburg's paternal grandmother?", ("father", "Karl Von Habsburg", "Who is the mother of {}?")),
    ("Who is the maternal grandfather of Rudolf Of Żagań?", ("mother", "Rudolf Of Żagań", "Who is the father of {}?")),
    ("Who is the father-in-law of Từ Dụ?", ("spouse", "Từ Dụ", "Who is the father of {}?")),
    ("Where was Peter Blake's mother-in-law born?", ("spouse", "Peter Blake", "Where was the mother of {} born?")),
], ids=["disambiguated", "colon", "song", "small-words", "foreign-words", "quoted", "title-the", "kin", "owner", "owner-comma",
        "owner-years", "grandparent", "grandparent-non-latin", "in-law", "in-law-owner"])
def test_a_question_through_a_role_is_parsed_into_who_holds_it_and_what_is_asked_of_them(question, parsed):
    role, thing, template = parsed
    assert asked(question) == (f"Who is the {role} of {thing}?", template)


@pytest.mark.parametrize("question", [
    "Who is the director of film Jaws?",  # asks for the holder itself: one step
    "Which film has the director who was born first, Jaws or Alien?",  # a comparison (agents.compare)
    "Where was Steven Spielberg born?",
    "Who is Louis Armand I, Prince Of Conti's father?",  # asks for the holder itself
    "Who is the spouse of Big Eye's main director?",  # the spouse of a director the model must find first
])
def test_other_questions_are_left_to_the_model(question):
    assert asked(question) is None and missing(question, []) is None


def test_the_plan_is_the_holder_then_the_question_asked_of_them_then_nothing():
    question = "Where was the director of film Jaws (Film) born?"
    assert missing(question, []) == ["Who is the director of Jaws (Film)?"]
    found = [Finding("Who is the director of Jaws (Film)?", "Steven Spielberg [2]")]
    assert missing(question, found) == ["Where was Steven Spielberg born?"]
    assert missing(question, [*found, Finding("Where was Steven Spielberg born?", "Cincinnati, Ohio [1]")]) == []
    # a holder not found (the sub-question failed, so it is no finding) is asked once: the planner drops repeats
    assert missing(question, [Finding("Who directed something else?", "X [1]")]) == ["Who is the director of Jaws (Film)?"]


def test_the_answer_is_what_the_question_asked_of_the_holder_found():
    question = "Where was the director of film Jaws (Film) born?"
    found = [Finding("Who is the director of Jaws (Film)?", "Steven Spielberg [2]")]
    assert decide(question, found) is None  # not asked yet: the model answers
    assert decide(question, [*found, Finding("Where was Steven Spielberg born?", "Cincinnati, Ohio [1] [3]")]) == ("Cincinnati, Ohio", [1])
    assert decide("Where was Steven Spielberg born?", found) is None  # another kind of question


def test_braces_in_a_question_are_its_text():
    question = "Where was the director of film Jaws born {x}?"
    found = [Finding("Who is the director of Jaws?", "Steven Spielberg [1]")]
    assert missing(question, found) == ["Where was Steven Spielberg born {x}?"]
    assert decide(question, [*found, Finding("Where was Steven Spielberg born {x}?", "Cincinnati [2]")]) == ("Cincinnati", [1])
    assert asked("Where was the director of film Jaws born {}?") is None  # two places for the holder


def test_a_grandparent_is_a_parents_parent():
    question = "Who is Busba Kitiyakara's paternal grandfather?"
    assert missing(question, []) == ["Who is the father of Busba Kitiyakara?"]
    found = [Finding("Who is the father of Busba Kitiyakara?", "Kitiyakara Voralaksana [1]")]
    assert missing(question, found) == ["Who is the father of Kitiyakara Voralaksana?"]
    assert decide(question, [*found, Finding("Who is the father of Kitiyakara Voralaksana?", "Chulalongkorn [2]")]) == ("Chulalongkorn", [1])


@pytest.mark.parametrize("question, parsed", [
    ("When did the country where the village of Clonbrook is located, become a member of CARICOM?",
     ("What is the country where the village of Clonbrook is located?", "When did {} become a member of CARICOM?")),
    ("What is the name of the waterfall in the country where the Bubye River is found?",
     ("What is the country where the Bubye River is found?", "What is the name of the waterfall in {}?")),
    ("Who was the first president of the association which published Journal of Psychotherapy Integration?",
     ("What is the association which published Journal of Psychotherapy Integration?", "Who was the first president of {}?")),
    ("What is the native language of the person who broke the salt law in Belgium in 1930?",
     ("Who is the person who broke the salt law in Belgium in 1930?", "What is the native language of {}?")),
    ("Humboldt Peak, in the state where Silverton is located, is part of what mountain range?",
     ("What is the state where Silverton is located?", "Humboldt Peak, in {}, is part of what mountain range?")),
    ("The state where Henry Worrall died has how many congressional districts?",
     ("What is the state where Henry Worrall died?", "{} has how many congressional districts?")),
    ("What county shares a border with the county in which Johnnycake, West Virginia is located?",
     ("What is the county in which Johnnycake, West Virginia is located?", "What county shares a border with {}?")),
    ("Who founded the band that released The Colour and the Shape?",
     ("What is the band that released The Colour and the Shape?", "Who founded {}?")),
    ("What is the record label that signed the band who made Lynch the Weirdo?",
     ("What is the band who made Lynch the Weirdo?", "What is the record label that signed {}?")),
    ("What currency predated the Euro in the country Signmark is from?",
     ("What is the country Signmark is from?", "What currency predated the Euro in {}?")),
    ("Who are the candidates for governor in the state the Battle of Mine Creek was fought?",
     ("What is the state the Battle of Mine Creek was fought?", "Who are the candidates for governor in {}?")),
    ("Which county is the city the Detroit Tigers are based in the seat of?",
     ("What is the city the Detroit Tigers are based in?", "Which county is {} the seat of?")),
    ("What kind of plane dropped the bomb on Akinoshu Kenji's birthplace?",
     ("What is the birthplace of Akinoshu Kenji?", "What kind of plane dropped the bomb on {}?")),
    ("Of what church is the Diocese of the birthplace of Meehan Bonnar?",
     ("What is the birthplace of Meehan Bonnar?", "Of what church is the Diocese of {}?")),
    ("When did the country of Izgoy's performer invade Manchuria?",
     ("Who is the performer of Izgoy?", "When did the country of {} invade Manchuria?")),
    ("In what year was the band that recorded My Dinosaur Life formed?",
     ("What is the band that recorded My Dinosaur Life?", "In what year was {} formed?")),
    ("When did the city where the next winter Olympics will be held fall?",
     ("What is the city where the next winter Olympics will be held?", "When did {} fall?")),
], ids=["comma", "at-the-end", "which", "who", "between-commas", "closing-verb", "comma-in-a-name", "asked-by-a-verb",
        "the-holder-after-a-modifier", "no-where", "no-where-the", "no-where-then-more", "owner-attribute", "the-attribute-of", "owner-role",
        "its-verb-last", "its-verb-last-where"])
def test_a_thing_told_by_a_clause_or_an_attribute_is_asked_for_first(question, parsed):
    assert asked(question) == parsed


@pytest.mark.parametrize("question", [
    "Who did the actor who starred as Constable Benton Fraser in the television series \"Due South\" have a child with?",
    "What time does the state where Greenfield-Central High is stop selling booze?",  # where the clause ends is not clear
    "Who was the first president of the association that published which journal?",  # the clause asks
    "What is the country where Baure is located?",  # asks for the thing itself
    "What is the record label that signed Bad Acid Trip?",  # the same, after a word that says what kind
])
def test_a_clause_whose_end_is_not_clear_is_left_to_the_model(question):
    assert asked(question) is None


def test_the_innermost_holder_is_found_first_and_each_found_goes_in_its_place():
    question = "Who was in charge of the country where the composer of Aschenbrodel was a citizen?"
    found = []
    for ask, answer in [("Who is the composer of Aschenbrodel?", "Johann Strauss II [1]"),
                        ("What is the country where Johann Strauss II was a citizen?", "Austria [2]"),
                        ("Who was in charge of Austria?", "Karl Renner [1] [3]")]:
        assert missing(question, found) == [ask] and decide(question, found) is None
        found.append(Finding(ask, answer))
    assert missing(question, found) == [] and decide(question, found) == ("Karl Renner", [2])


def test_a_country_through_a_performer_is_three_hops():
    question = "When did the country of Izgoy's performer invade Manchuria?"
    found = [Finding("Who is the performer of Izgoy?", "Kino [1]")]
    assert missing(question, found) == ["What is the country of Kino?"]
    found.append(Finding("What is the country of Kino?", "the Soviet Union [2]"))
    assert missing(question, found) == ["When did the Soviet Union invade Manchuria?"]


@pytest.mark.parametrize("question, parsed", [
    ("Kate Ramsay is a fictional character from an Australian soap opera created by who?",
     ("Kate Ramsay is a fictional character from which Australian soap opera?", "The Australian soap opera {} was created by who?")),
    ("Toad Hall is a residential hall in a university located in what Australian city?",
     ("Toad Hall is a residential hall in which university?", "The university {} is located in what Australian city?")),
    ("From 1945-1949 Dick Humbert played for an NFL team based in what state?",
     ("From 1945-1949 Dick Humbert played for which NFL team?", "The NFL team {} is based in what state?")),
    ("The Women's National Basketball League includes the Adelaide team that was formed in what year?",
     ("The Women's National Basketball League includes which Adelaide team?", "The Adelaide team {} was formed in what year?")),
    ("Steve Johnson is the current head football coach at a University which also has a second campus in which California city?",
     ("Steve Johnson is the current head football coach at which University?",
      "The University {} also has a second campus in which California city?")),
    ("The manuscript for Flute Sonata in C major, BWV 1033 is in the hand of a German musician whose godfather is whom?",
     ("The manuscript for Flute Sonata in C major, BWV 1033 is in the hand of which German musician?",
      "The German musician {}'s godfather is whom?")),
    ("Transfiguration of Vincent is the third studio album by a singer-songwriter from what state?",
     ("Transfiguration of Vincent is the third studio album by which singer-songwriter?", "The singer-songwriter {} is from what state?")),
    ("Jean Vander Pyl provided the voice of Rosie on the Hanna-Barbera animated sitcom that originally premiered on which date?",
     ("Jean Vander Pyl provided the voice of Rosie on which Hanna-Barbera animated sitcom?",
      "The Hanna-Barbera animated sitcom {} originally premiered on which date?")),
    ("The soundtrack from the film \"Natural Born Killers\" was produced by a man born in what year?",
     ("The soundtrack from the film \"Natural Born Killers\" was produced by which man?", "The man {} was born in what year?")),
    ("Will Smith starred in a film directed by a man born in what year?",
     ("Will Smith starred in which film?", "The film {} was directed by a man born in what year?")),
], ids=["participle", "located", "words-before-the-subject", "that", "which-twice", "whose", "from", "an-adjective-in-ed",
        "a-name-then-a-bridge", "the-outer-thing-first"])
def test_a_thing_told_by_what_the_question_says_of_it_is_asked_for_first(question, parsed):
    assert asked(question) == parsed


@pytest.mark.parametrize("question", [
    "Scott Howell is a consultant who has worked with the mayor of what city?",  # the subject itself: one question
    "Terry McGurrin was the story editor for the show \"Scaredy Squirrel\" which was written by who?",  # already named
    "Is 976-EVIL II a film directed by a man born in what year?",  # asks yes or no
    "What show does a retired Orlando Magic player, who missed the entire 2003-2004 season, host?",  # asks first
    "Possession is a 1922 film directed by a Swiss director born in Nyon.",  # asks nothing
    "Do Lafzon Ki Kahani is a 2016 film, a remake of Always, released in which year, is a South Korean film directed by Song Il-gon?",
])
def test_a_question_that_asks_first_or_of_its_own_subject_is_not_a_bridge(question):
    assert asked(question) is None


def test_a_bridge_in_a_bridge_is_a_third_hop():
    question = "Will Smith starred in a film directed by a man born in what year?"
    found = [Finding("Will Smith starred in which film?", "Hancock [1]")]
    assert missing(question, found) == ["The film Hancock was directed by which man?"]
    found.append(Finding("The film Hancock was directed by which man?", "Peter Berg [2]"))
    assert missing(question, found) == ["The man Peter Berg was born in what year?"]


def test_a_bridge_is_the_thing_then_the_rest_asked_of_it_then_its_answer():
    question = "Thumb Wrestling Federation is on a network founded by who?"
    assert missing(question, []) == ["Thumb Wrestling Federation is on which network?"]
    found = [Finding("Thumb Wrestling Federation is on which network?", "Cartoon Network [1]")]
    assert missing(question, found) == ["The network Cartoon Network was founded by who?"] and decide(question, found) is None
    found.append(Finding("The network Cartoon Network was founded by who?", "Betty Cohen [2] [3]"))
    assert missing(question, found) == [] and decide(question, found) == ("Betty Cohen", [1])
