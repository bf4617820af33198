"""Comparisons by date (`agents.compare`): options, direction, dates, and which findings decide."""

from agents.compare import Finding, date_of, decide, direction, options


def test_options_and_direction_are_read_from_the_question():
    assert options("Who was born first, Patrik Lácha or Brad Booth?") == ("Patrik Lácha", "Brad Booth")
    assert options("Which plant is larger, the Pterocarya or the Cotula?") == ("Pterocarya", "Cotula")
    assert options("Who founded the Sazerac Company?") is None
    assert direction("Which film was released more recently, Nandhi or Kriminal?") == "later"
    assert direction("Which magazine was published first, Guitar World or Science News?") == "earlier"
    assert direction("Which film came out earlier, The Last Waltz or Jaws?") == "earlier"  # "Last" is a title's word
    assert direction("Which plant is larger, the Pterocarya or the Cotula?") is None


def test_options_are_found_as_people_write_them():
    """Without the comma, asked with the verb first, or with a comma in an option's name."""
    assert options("Which band was formed first The Exies or Circus Diablo ?") == ("Exies", "Circus Diablo")
    assert options("Was Manuel Díaz Rodríguez or Mona Tyndall born first?") == ("Manuel Díaz Rodríguez", "Mona Tyndall")
    assert options("Who died earlier, Lazarus Fletcher or Sir William Brereton, 1St Baronet?") == (
        "Lazarus Fletcher", "Sir William Brereton, 1St Baronet")
    assert direction("Was Manuel Díaz Rodríguez or Mona Tyndall born first?") == "earlier"
    assert options("Who directed the film that was shot in or around Leland, North Carolina in 1986") is None


def test_dates_are_parsed_as_precisely_as_they_are_written():
    assert date_of("20 January 1992 [1]") == (1992, 1, 20)
    assert date_of("September 4, 1908 [2]") == (1908, 9, 4)
    assert date_of("July 1980") == (1980, 7, 0)
    assert date_of("1922 [2]") == (1922, 0, 0)
    assert date_of("1933–1997") is None  # a lifespan is not one date
    assert date_of("In Ottawa at the age of 96 [3]") is None


def test_the_earlier_or_later_date_picks_the_option_and_cites_its_findings():
    findings = [Finding("When was Guitar World first published?", "July 1980 [1]"),
                Finding("When was Science News first published?", "1922 [2]")]
    assert decide("Which magazine was published first, Guitar World or Science News?", findings) == ("Science News", [1])
    assert decide("Which magazine was published later, Guitar World or Science News?", findings) == ("Guitar World", [0])


def test_a_date_one_step_away_counts_for_its_option():
    """By `#n` (depends_on) or by naming what was found for the option."""
    findings = [Finding("Who directed Sins of Madeleine?", "Henri Lepage [1]"),
                Finding("Who directed Captain Apache?", "Alexander Singer [2]"),
                Finding("When was Henri Lepage born?", "12 February 1898 [4]"),
                Finding("When was Alexander Singer born?", "1928 [1]", depends_on=(1,))]
    question = "Which film has the director born first, Sins Of Madeleine or Captain Apache?"
    assert decide(question, findings) == ("Sins Of Madeleine", [0, 2])
    assert decide(question.replace("first", "later"), findings) == ("Captain Apache", [1, 3])


def test_nothing_is_decided_without_both_dates_or_when_they_tie():
    question = "Who died first, Léopold Demers or Charles Herbert Little?"
    one = [Finding("When did Léopold Demers die?", "21 November 1990 [1]"),
           Finding("When did Charles Herbert Little die?", "In Ottawa at the age of 96 [3]")]
    assert decide(question, one) is None
    tie = [Finding("When did Léopold Demers die?", "1990 [1]"), Finding("When did Charles Herbert Little die?", "May 1990")]
    assert decide(question, tie) is None  # the year is all both say
    both = [Finding("Who died first, Léopold Demers or Charles Herbert Little?", "1990 [1]")]
    assert decide(question, both) is None  # a finding naming both options is no one's date


def test_a_comparison_by_date_says_which_sub_questions_it_still_needs():
    from agents.compare import missing

    through = "Which film whose director was born first, El Tonto or The Heart Of Doreon?"
    assert missing(through, []) == ["Who is the director of El Tonto?", "Who is the director of Heart Of Doreon?"]
    directors = [Finding("Who is the director of El Tonto?", "Charlie Day [1]"),
                 Finding("Who is the director of Heart Of Doreon?", "Cyrus J. Williams [2]")]
    assert missing(through, directors) == ["When was Charlie Day born?", "When was Cyrus J. Williams born?"]
    dated = directors + [Finding("When was Charlie Day born?", "February 9, 1976 [3]"),
                         Finding("When was Cyrus J. Williams born?", "1891 [4]")]
    assert missing(through, dated) == []
    assert missing("Who died first, Léopold Demers or Charles Herbert Little?",
                   [Finding("When did Léopold Demers die?", "21 November 1990 [1]")]) == ["When did Charles Herbert Little die?"]
    assert missing("Which film was released more recently, Moscow Pride '06 or My Favourite Fabric?", []) == [
        "When was Moscow Pride '06 released?", "When was My Favourite Fabric released?"]
    assert missing("Which magazine came out first, Entertain Magazine or Woman's Century?", [])[0] == "When did Entertain Magazine come out?"
    # what is dated is not said, or the things are not people: the model plans these
    assert missing("Which came first the chicken or the egg?", []) is None
    assert missing("Which is older, the Eiffel Tower or Big Ben?", []) is None
    assert missing("Who founded Dell Magazines?", []) is None


def test_who_lived_longer_is_asked_and_decided_from_both_lifespans():
    """Each one's birth and death; in days when all four dates give one, else in years."""
    from agents.compare import missing

    question = "Who lived longer, Johann Sebastian Bach or George Frideric Handel?"
    assert missing(question, []) == ["When was Johann Sebastian Bach born?", "When did Johann Sebastian Bach die?",
                                     "When was George Frideric Handel born?", "When did George Frideric Handel die?"]
    lives = [Finding("When was Johann Sebastian Bach born?", "31 March 1685 [1]"),
             Finding("When did Johann Sebastian Bach die?", "28 July 1750 [1]"),
             Finding("When was George Frideric Handel born?", "23 February 1685 [2]")]
    assert missing(question, lives) == ["When did George Frideric Handel die?"]
    assert decide(question, lives) is None  # Handel's death is not known yet
    lives.append(Finding("When did George Frideric Handel die?", "14 April 1759 [3]"))
    assert missing(question, lives) == []
    assert decide(question, lives) == ("George Frideric Handel", [2, 3])
    # in years when a date has no day: 1685 to 1750 is 65 years, 1685 to 1759 is 74
    lives[3] = Finding("When did George Frideric Handel die?", "1759 [3]")
    assert decide(question, lives) == ("George Frideric Handel", [2, 3])
    lives[3] = Finding("When did George Frideric Handel die?", "1740 [3]")
    assert decide(question, lives) == ("Johann Sebastian Bach", [0, 1])
    lives[1] = Finding("When did Johann Sebastian Bach die?", "1650 [1]")  # before his birth: a date misread
    assert decide(question, lives) is None
