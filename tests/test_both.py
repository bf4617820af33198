"""Whether two things are both of a kind plans itself (`agents.both`): each asked alone, and the two
answers decide."""

import pytest

from agents.both import asked, decide, missing
from agents.compare import Finding


@pytest.mark.parametrize("question, parsed", [
    ("Are Frozen and Escape from the Dark both animated features?",
     ("Frozen", "Escape from the Dark", "Is Frozen an animated feature?", "Is Escape from the Dark an animated feature?")),
    ("Are both magazines, the Woman's Viewpoint and Pick Me Up, British publications?",
     ("the Woman's Viewpoint", "Pick Me Up", "Is the Woman's Viewpoint a British publication?", "Is Pick Me Up a British publication?")),
    ("Are both Medici and Senet board games?", ("Medici", "Senet", "Is Medici a board game?", "Is Senet a board game?")),
    ("Were Barry Gibb and Robin Gibb both members of the Bee Gees?",
     ("Barry Gibb", "Robin Gibb", "Was Barry Gibb a member of the Bee Gees?", "Was Robin Gibb a member of the Bee Gees?")),
    ("Are Denver International Airport and Bundaberg Airport both in the United States?",
     ("Denver International Airport", "Bundaberg Airport", "Is Denver International Airport in the United States?",
      "Is Bundaberg Airport in the United States?")),
    ("Are King Vidor and Géza von Cziffra both American?",
     ("King Vidor", "Géza von Cziffra", "Is King Vidor American?", "Is Géza von Cziffra American?")),
], ids=["both-after", "kind-between-commas", "both-before", "of-a-group", "a-place", "an-adjective"])
def test_each_thing_is_asked_alone(question, parsed):
    a, b, ask_a, ask_b = parsed
    assert asked(question)[:2] == ((a, b), [ask_a, ask_b])


@pytest.mark.parametrize("question", [
    "Are Nantong and Jingdezhen both in the same province?",  # agents.same
    "Are Marian Gold and Jung Eun-ji members of the same band?",
    "Is Frozen an animated feature?",
    "Which is a board game, Medici or Senet?",
])
def test_other_questions_are_not_of_this_kind(question):
    assert asked(question) is None and missing(question, []) is None and decide(question, []) is None


MEDICI = ("Medici (board game)", "Medici is a board game designed by Reiner Knizia.")
SENET = ("Senet", "Senet is a board game from ancient Egypt.")
FRIES = ("Lord of the Fries", "Lord of the Fries is a card game published by Cheapass Games.")


def test_the_passages_about_each_decide_not_the_models_yes():
    question = "Are Medici and Senet both board games?"
    assert missing(question, []) == ["Is Medici a board game?", "Is Senet a board game?"]
    medici = Finding("Is Medici a board game?", "Yes [1]", passages=(MEDICI, FRIES))
    assert missing(question, [medici]) == ["Is Senet a board game?"] and decide(question, [medici]) is None
    assert decide(question, [medici, Finding("Is Senet a board game?", "Yes [2]", passages=(SENET,))]) == ("Yes", [0, 1])
    assert decide(question, [medici, Finding("Is Senet a board game?", "No [2]", passages=(SENET,))]) == ("Yes", [0, 1])
    fries = "Are Medici and Lord of the Fries both board games?"
    assert decide(fries, [medici, Finding("Is Lord of the Fries a board game?", "Yes [1]", passages=(FRIES, MEDICI))]) == ("No", [1])


def test_without_a_passage_about_it_the_answer_stands_and_one_no_settles_it():
    question = "Are Medici and Senet both board games?"
    senet = Finding("Is Senet a board game?", "No [2]", passages=(MEDICI,))  # nothing read about Senet
    assert decide(question, [senet]) == ("No", [0])
    assert decide(question, [Finding("Is Senet a board game?", "Yes, played on a board [2]")]) is None  # one of two
    medici = Finding("Is Medici a board game?", "Yes [1]", passages=(MEDICI,))
    assert decide(question, [medici, Finding("Is Senet a board game?", "Senet is played on a board [2]")]) is None


def test_a_plural_in_the_question_or_the_passage_is_the_same_word():
    question = "Are Frozen and Melody Time both animated films?"
    frozen = Finding("Is Frozen an animated film?", "Yes [1]", passages=(("Frozen (2013 film)", "Frozen is a 2013 animated musical fantasy film."),))
    melody = Finding("Is Melody Time an animated film?", "No [1]", passages=(("Melody Time", "It is one of the animated films of Disney."),))
    assert decide(question, [frozen, melody]) == ("Yes", [0, 1])
