"""Whether two share a country or a place (`agents.same`): the question's parts, the plan it still
needs, and the yes or no its findings give."""

from agents.compare import Finding
from agents.same import asked, country_of, decide, missing, same_place


def test_the_two_things_and_what_they_share_are_read_from_the_question():
    assert asked("Did Jean Renoir and Akira Kurosawa share the same nationality?") == (
        ("Jean Renoir", "Akira Kurosawa"), "nationality", None)
    assert asked("Are both movies, The Cow And I (Film) and Rashomon, from the same country?") == (
        ("The Cow And I (Film)", "Rashomon"), "country", None)  # "And" in a title is not the "and" between them
    assert asked("Did the movies Metropolis and Live At The Rainbow '74, originate from the same country?") == (
        ("Metropolis", "Live At The Rainbow '74"), "country", None)
    assert asked("Are both businesses, Google and Nokia, located in the same country?")[1:] == ("located", None)
    assert asked("Were both Federico Fellini and Sophia Loren, born in the same place?")[1] == "place"
    assert asked("Are Nantong and Jingdezhen situated in the same province ?")[:2] == (("Nantong", "Jingdezhen"), "province")


def test_a_question_compared_through_a_role_says_so():
    for question in ["Do director of film Rashomon and director of film Metropolis share the same nationality?",
                     "Do both films Rashomon and Metropolis have the directors from the same country?",
                     "Do both directors of films Rashomon and Metropolis have the same nationality?",
                     "Are director of film Rashomon and director of film Metropolis both from the same country?"]:
        assert asked(question)[0] == ("Rashomon", "Metropolis"), question
        assert asked(question)[2] == "director", question
    # directors themselves, not compared through anyone
    assert asked("Are Jean Renoir and Akira Kurosawa directors from the same country?")[2] is None


def test_other_questions_are_not_of_this_kind():
    assert asked("In which country is Midway, in the same county as McRae in the same state as KAGH-FM?") is None
    assert asked("Are Marian Gold and Jung Eun-ji members of the same band?") is None
    assert asked("Were Rome and Milan in the same place?") is None  # a place of what
    assert missing("Who was born first, Jean Renoir or Akira Kurosawa?", []) is None


def test_the_plan_asks_each_ones_country_through_what_it_is_compared_by():
    question = "Do both films Rashomon and Metropolis have the directors from the same country?"
    assert missing(question, []) == ["Who is the director of Rashomon?", "Who is the director of Metropolis?"]
    found = [Finding("Who is the director of Rashomon?", "Akira Kurosawa [1]"),
             Finding("Who is the director of Metropolis?", "Fritz Lang [2]")]
    # a director is a person: asked for a nationality, not for where they are from (born)
    assert missing(question, found) == ["What is the nationality of Akira Kurosawa?", "What is the nationality of Fritz Lang?"]
    found += [Finding("What is the nationality of Akira Kurosawa?", "Japan [3]"),
              Finding("What is the nationality of Fritz Lang?", "Austrian-German [4]")]
    assert missing(question, found) == []
    assert decide(question, found) == ("No", [2, 3])
    # a title that says "Country" does not make its director's name a country
    coen = "Do both films No Country for Old Men and Fargo have the directors from the same country?"
    assert missing(coen, [Finding("Who is the director of No Country for Old Men?", "Joel Coen [1]")]) == [
        "What is the nationality of Joel Coen?", "Who is the director of Fargo?"]
    plain = "Did Jean Renoir and Akira Kurosawa share the same nationality?"
    assert missing(plain, []) == ["What is the nationality of Jean Renoir?", "What is the nationality of Akira Kurosawa?"]


def test_a_country_said_by_name_or_by_its_people_is_the_same():
    question = "Did Orson Welles and John Ford share the same nationality?"
    found = [Finding("What is the nationality of Orson Welles?", "American [1]"),
             Finding("What is the nationality of John Ford?", "United States [2]")]
    assert decide(question, found) == ("Yes", [0, 1])
    assert country_of("an American-born British actor") == {"United States", "United Kingdom"}
    assert country_of("South Korean") == {"South Korea"} and country_of("Latin American") == set()
    assert same_place("Scottish", "English", what="nationality") is True  # both the United Kingdom
    assert same_place("French", "Belgian", what="nationality") is False


def test_what_cannot_be_told_is_left_to_the_model():
    question = "Did Orson Welles and John Ford share the same nationality?"
    assert decide(question, [Finding("What is the nationality of Orson Welles?", "American [1]")]) is None
    assert same_place("Kingdom of Prussia", "Germany", what="nationality") is None  # not in the table
    # places: one naming the other is the same, none in common different, some in common unknown
    assert same_place("Rome", "Rome, Italy", what="place") is True
    assert same_place("Milan", "Rome", what="place") is False
    assert same_place("Rome, Italy", "Milan, Italy", what="place") is None
    assert same_place("Jiangsu Province", "Jingdezhen Province", what="province") is False  # not the same for "Province"
    assert same_place("California", "Missouri", what="country") is True  # two states of one country
