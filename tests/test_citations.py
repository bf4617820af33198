"""Citations: renumbered into one list, invented ones removed, unsupported ones flagged."""

import pytest

from agents.citations import lexical_support, renumber, repeats, verify
from memory import Chunk


def chunk(id: int, text: str, url: str = "https://example.org/") -> Chunk:
    return Chunk(id=id, page_id=id, ordinal=0, start=0, end=len(text), text=text, tokens=len(text.split()),
                 summary="", url=f"{url}{id}", title=f"Page {id}")


TAVERN = chunk(11, "Kentucky Tavern is a bourbon produced by the Sazerac Company at the Barton Distillery in Bardstown.")
GLENMORE = chunk(12, "Glenmore Distillery Company registered the Kentucky Tavern trademark in 1903.")


def test_sub_answer_markers_become_global_numbers():
    text = "It is made by Sazerac [1]. The trademark dates from 1903 [2]."
    assert renumber(text, local=[11, 12], mapping={11: 3, 12: 1}) == "It is made by Sazerac [3]. The trademark dates from 1903 [1]."


def test_a_citation_to_nothing_read_is_removed():
    checked = verify("Kentucky Tavern is made by Sazerac [1]. It won every award [7].", {1: TAVERN})
    assert checked.text == "Kentucky Tavern is made by Sazerac [1]. It won every award."
    assert checked.removed == [7] and [c.number for c in checked.citations] == [1]
    assert checked.citations[0].url == TAVERN.url and checked.citations[0].quote == TAVERN.text


def test_a_citation_that_does_not_support_its_sentence_is_flagged():
    checked = verify("Kentucky Tavern is produced by Sazerac in Bardstown [1]. The moon is made of cheese [2].",
                     {1: TAVERN, 2: GLENMORE})
    assert checked.unsupported == [2]
    assert [c.supported for c in checked.citations] == [True, False]
    assert "[2]" in checked.text  # flagged, not removed: the source was read


def test_the_support_check_is_pluggable():
    checked = verify("Anything at all [1].", {1: TAVERN}, support=lambda sentence, c: False)
    assert checked.unsupported == [1]


def test_lexical_support_matches_inflected_words_and_numbers():
    assert lexical_support("The trademark was registered in 1903.", GLENMORE)
    assert not lexical_support("The trademark was registered in 1950 by Heaven Hill.", GLENMORE)


def test_an_echo_of_the_question_adds_nothing():
    from agents.citations import adds_to

    question = "Which band was formed first, The Exies or Circus Diablo?"
    assert not adds_to("The Exies or Circus Diablo [1].", question)
    assert adds_to("The Exies formed in 1997 [1].", question)
    assert adds_to("The Exies [1].", question)  # one of the options
    # an option as long as half the question is still an answer, not an echo
    assert adds_to("Marcelino Manuel Da Graça [2]", "Who lived longer, Ludovico Sabbatini or Marcelino Manuel Da Graça?")
    assert adds_to("The Last Outpost (1951 Film)", "Which film has the director who was born first, Who'S Your Brother? "
                   "or The Last Outpost (1951 Film)?")
    assert not adds_to("Ludovico Sabbatini or Marcelino Manuel Da Graça", "Who lived longer, Ludovico Sabbatini or "
                       "Marcelino Manuel Da Graça?")
    assert adds_to("No.", "Are Medici and Senet both board games?")
    # a sentence that names one option and not the other picks it
    assert adds_to("Circus Diablo was formed first [2].", question)


def test_yes_is_an_answer_not_an_unsupported_claim():
    from agents.citations import grounded

    assert grounded("Yes [1] [2]", "Heaven Hill and Buffalo Trace are distilleries.")
    assert not grounded("Heineken brews lager [1]", "Heaven Hill and Buffalo Trace are distilleries.")


def test_a_yes_no_question_gets_a_yes_no_example():
    from agents import prompts

    shown = "\n".join(m["content"] for m in prompts.answer("Are Medici and Senet both board games?", [], []))
    assert "Yes [1] [2]" in shown and "The Sazerac Company [2]" not in shown
    shown = "\n".join(m["content"] for m in prompts.answer("Who made Medici?", [], []))
    assert "The Sazerac Company [2]" in shown and "Yes [1] [2]" not in shown


@pytest.mark.parametrize("answer, question, repeated", [
    ("Paul Gross [2]", "Who did Paul Gross have a child with?", True),
    ("The Miscellany News [1]", "What is the company that published The Miscellany News?", True),
    ("Hermann II, Landgrave of Hesse [1]", "Who is the father of Hermann Ii, Landgrave Of Hesse?", True),
    ("Martha Burns [1]", "Who did Paul Gross have a child with?", False),
    ("John II, Duke of Cleves [1]", "Who is the father of John Iii, Duke Of Cleves?", False),  # a name, whole
    ("Édouard Perrault", "Who is the father of Joseph-Édouard Perrault?", False),
    ("Pharoahe Monch [2]", "Who is the performer of Damage (Pharoahe Monch Song)?", False),  # "(... song)" tells pages apart
    ("The Exies [1]", "Which band was formed first The Exies or Circus Diablo ?", False),  # an option offered
    ("Irwin Shaw [1]", "Which writer has had a more diverse career between Scottish author and Irwin Shaw?", False),
], ids=["name", "title", "title-case", "answer", "numeral", "hyphen", "parenthesis", "option", "between"])
def test_an_answer_that_only_repeats_what_the_question_names(answer, question, repeated):
    assert repeats(answer, question) is repeated
