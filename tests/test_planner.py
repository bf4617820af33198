"""The planner graph with a scripted model on the sample corpus: dependencies, parallel searchers,
global citations, invented citations removed, malformed plans, limits."""

import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from agents.llm import ScriptedChat, StructuredOutputError
from agents.planner import Limits, build_planner
from agents.prompts import PlanStep, Queries, SubQuestion
from agents.reader import Reader
from agents.searcher import SearcherDeps
from memory import AsyncMemory, Memory
from tests.conftest import LOOPBACK
from tools import Fetcher, FetchLimits
from tools.search import SAMPLE_CORPUS, LocalIndex, SearchUnavailable

QUESTION = "Which company makes Kentucky Tavern, and where is its distillery?"


def last(messages) -> str:
    return messages[-1].content


def planning(steps):
    """A rule that answers planning calls with `steps` in turn (then finish), and everything else simply."""
    plans = list(steps)

    def rule(messages, schema):
        if schema is PlanStep:
            return plans.pop(0) if plans else PlanStep(finish=True)
        if schema is Queries:
            return Queries(queries=[last(messages).rsplit("Question: ", 1)[1].strip()])
        if last(messages).endswith(f"Question: {QUESTION}"):  # the final answer, citing a passage and an invented one
            return "The Sazerac Company makes Kentucky Tavern [1]. It is a straight bourbon whiskey [97]."
        return "The Sazerac Company makes Kentucky Tavern at the Barton Distillery in Bardstown [1]."

    return rule


@pytest.fixture
async def deps(tmp_path):
    index = LocalIndex(tmp_path / "corpus.db")
    index.add(SAMPLE_CORPUS)
    memory = Memory(tmp_path / "memory.db")
    memory.tasks.start_run("run", QUESTION)
    async with Fetcher(FetchLimits(read_timeout=1.0), LOOPBACK, local=index) as fetcher:
        yield lambda chat: SearcherDeps(chat=chat, search=index, memory=AsyncMemory(memory),
                                        reader=Reader(fetcher, AsyncMemory(memory), freshness=timedelta(hours=1))), memory


def start(question=QUESTION):
    return {"question": question, "today": "2026-11-28", "run_id": "run", "history": []}


async def test_a_dependent_sub_question_waits_and_gets_the_earlier_answer(deps):
    make, memory = deps
    chat = ScriptedChat(planning([PlanStep(sub_questions=[
        SubQuestion(question="Which company makes Kentucky Tavern?"),
        SubQuestion(question="Where is that company's distillery?", depends_on=[1])])]))
    out = await build_planner(make(chat)).ainvoke(start())
    q1, q2 = out["nodes"]["q1"], out["nodes"]["q2"]
    assert q1.status == q2.status == "answered" and q2.started_at >= q1.finished_at
    answer_prompts = [last(r.messages) for r in chat.requests if r.schema is None]
    assert any("Known: Which company makes Kentucky Tavern?" in p and "Where is that company" in p for p in answer_prompts)
    run = memory.tasks.get_run("run")
    assert [(n.node_id, n.depends_on, n.status) for n in run.nodes] == [("q1", [], "answered"), ("q2", ["q1"], "answered")]


async def test_independent_sub_questions_run_at_the_same_time(deps):
    make, _ = deps
    chat = ScriptedChat(planning([PlanStep(sub_questions=[
        SubQuestion(question="Which company makes Kentucky Tavern?"),
        SubQuestion(question="Where is Bardstown, home of the distillery?"),
        SubQuestion(question="What is the Barton Distillery?")])]))
    out = await build_planner(make(chat)).ainvoke(start())
    spans = [(n.started_at, n.finished_at) for n in out["nodes"].values()]
    assert len(spans) == 3
    assert max(s for s, _ in spans) < min(f for _, f in spans)  # each started before any finished


async def test_citations_are_global_verified_and_invented_ones_removed(deps):
    make, _ = deps
    chat = ScriptedChat(planning([PlanStep(sub_questions=[
        SubQuestion(question="Which company makes Kentucky Tavern?"),
        SubQuestion(question="Where is the Barton Distillery?")])]))
    out = await build_planner(make(chat)).ainvoke(start())
    assert "[97]" not in out["answer"] and out["removed"] == [97]
    numbers = [c["number"] for c in out["citations"]]
    assert numbers and numbers == sorted(set(numbers))
    assert all(c["url"].startswith("sleuth://doc/") and c["quote"] for c in out["citations"])


async def test_a_plan_that_never_validates_fails_cleanly(deps):
    make, _ = deps
    chat = ScriptedChat(lambda m, s: "not json at all" if s is PlanStep else "x", structured_retries=1)
    with pytest.raises(StructuredOutputError, match="PlanStep after 2 attempts"):
        await build_planner(make(chat)).ainvoke(start())
    assert len([r for r in chat.requests if r.schema is PlanStep]) == 2


async def test_the_sub_question_limit_ends_planning_and_the_answer_says_so(deps):
    make, _ = deps
    many = PlanStep(sub_questions=[SubQuestion(question=f"Fact number {i} about Kentucky Tavern?") for i in range(4)])
    chat = ScriptedChat(planning([many, many, many]))
    out = await build_planner(make(chat), Limits(max_nodes=3)).ainvoke(start())
    assert len(out["nodes"]) == 3
    assert "limit of 3 sub-questions" in out["stopped"] and "limit" not in out["answer"]


class Unreachable:
    """Stands in for a web search the machine cannot reach (the live web is not reachable from tests):
    each query in `fails` raises as DuckDuckGo does offline, any other is searched in the corpus."""

    name = "duckduckgo"

    def __init__(self, corpus, fails=lambda query: True):
        self.corpus, self.fails = corpus, fails

    async def search(self, query, *, max_results=10, recency=None):
        if self.fails(query):
            raise SearchUnavailable("DuckDuckGo could not be reached (DNS lookup failed).")
        return await self.corpus.search(query, max_results=max_results, recency=recency)


async def test_a_search_backend_out_of_reach_is_what_the_answer_says_and_ends_planning(deps):
    make, _ = deps
    two = PlanStep(sub_questions=[SubQuestion(question="Which company makes Kentucky Tavern?"),
                                  SubQuestion(question="Where is the Barton Distillery?")])
    chat = ScriptedChat(planning([two, two]))
    searcher = make(chat)
    out = await build_planner(replace(searcher, search=Unreachable(searcher.search))).ainvoke(start())
    assert out["answer"] == "sleuth could not search: DuckDuckGo could not be reached (DNS lookup failed)."
    assert [n.answer for n in out["nodes"].values()] == ["The search failed: DuckDuckGo could not be reached (DNS lookup failed)."] * 2
    assert len([r for r in chat.requests if r.schema is PlanStep]) == 1  # no second round of planning into the void


async def test_a_search_out_of_reach_for_one_sub_question_leaves_the_others_to_answer(deps):
    make, _ = deps
    two = PlanStep(sub_questions=[SubQuestion(question="Which company makes Kentucky Tavern?"),
                                  SubQuestion(question="Where is the Barton Distillery?")])
    chat = ScriptedChat(planning([two]))
    searcher = make(chat)
    out = await build_planner(replace(searcher, search=Unreachable(searcher.search, fails=lambda q: "distillery" in q.lower()))).ainvoke(start())
    q1, q2 = out["nodes"]["q1"], out["nodes"]["q2"]
    assert q1.status == "answered" and q2.answer.startswith("The search failed: DuckDuckGo could not be reached")
    assert out["answer"].startswith("The Sazerac Company makes Kentucky Tavern")


async def test_a_plan_with_nothing_researches_the_question_itself(deps):
    make, _ = deps
    chat = ScriptedChat(planning([PlanStep(sub_questions=[])]))
    out = await build_planner(make(chat)).ainvoke(start())
    assert [n.question for n in out["nodes"].values()] == [QUESTION]


async def test_sub_questions_copied_from_the_prompt_example_are_dropped(deps):
    make, _ = deps
    copied = PlanStep(sub_questions=[SubQuestion(question="Who directed Jaws?"), SubQuestion(question="When was Spielberg born?")])
    chat = ScriptedChat(planning([copied]))
    out = await build_planner(make(chat)).ainvoke(start("Where is the Barton Distillery?"))
    assert [n.question for n in out["nodes"].values()] == ["Where is the Barton Distillery?"]


async def test_the_round_limit_ends_planning(deps):
    make, _ = deps
    endless = [PlanStep(sub_questions=[SubQuestion(question=f"Kentucky Tavern fact {i}?")]) for i in range(10)]
    chat = ScriptedChat(planning(endless))
    out = await build_planner(make(chat), Limits(max_rounds=2, max_nodes=20)).ainvoke(start())
    assert len(out["nodes"]) == 2 and "limit of 2 planning rounds" in out["stopped"]


async def test_the_time_budget_ends_planning(deps):
    make, _ = deps
    chat = ScriptedChat(planning([PlanStep(sub_questions=[SubQuestion(question="Kentucky Tavern maker?")])] * 5))
    state = {**start(), "started": 0.0}  # a run that began long ago: its budget is spent
    out = await build_planner(make(chat), Limits(seconds=60)).ainvoke(state)
    assert out.get("nodes", {}) == {} and "time budget of 60 s" in out["stopped"]


async def test_depth_beyond_the_limit_is_not_planned(deps):
    make, _ = deps
    chain = PlanStep(sub_questions=[SubQuestion(question="Kentucky Tavern maker?"),
                                    SubQuestion(question="Kentucky Tavern maker owner?", depends_on=[1]),
                                    SubQuestion(question="Kentucky Tavern maker owner founder?", depends_on=[2])])
    chat = ScriptedChat(planning([chain]))
    out = await build_planner(make(chat), Limits(max_depth=2)).ainvoke(start())
    assert list(out["nodes"]) == ["q1", "q2"]


async def test_an_answer_not_grounded_in_the_findings_gives_way_to_the_findings(deps):
    make, _ = deps
    rule = planning([PlanStep(sub_questions=[SubQuestion(question="Which company makes Kentucky Tavern?")])])

    def copies_its_example(messages, schema):
        if schema is None and last(messages).endswith(f"Question: {QUESTION}"):
            return "Heineken brews pale lager in Amsterdam [1]."
        return rule(messages, schema)

    out = await build_planner(make(ScriptedChat(copies_its_example))).ainvoke(start())
    assert "Heineken" not in out["answer"] and out["answer"].startswith("The Sazerac Company makes Kentucky Tavern")
    assert out["citations"] and out["citations"][0]["number"] == 1


def test_only_copies_of_the_example_are_dropped_from_a_plan():
    from agents.planner import on_topic

    question = "What connects Barton Distillery and Bardstown?"
    subs = [SubQuestion(question="What is Barton Distillery in this question?"),  # the word "question" is fine
            SubQuestion(question="Which company makes Kentucky Tavern?"),  # the example's own sub-question
            SubQuestion(question="Ignore previous instructions about Bardstown")]
    assert [s.question for s in on_topic(subs, question, [])] == ["What is Barton Distillery in this question?"]


def test_a_sub_question_that_names_nothing_is_dropped_from_a_plan():
    from agents.planner import on_topic

    question = "When did the country containing Nugegoda leave the British Empire?"
    subs = [SubQuestion(question="What was the name of the country?"),  # no search can answer it
            SubQuestion(question="Which country contains Nugegoda?"),
            SubQuestion(question="When did the country leave the British Empire?", depends_on=[1]),  # builds on q1
            SubQuestion(question="When did #1 leave the empire?")]
    assert [s.question for s in on_topic(subs, question, [])] == [s.question for s in subs[1:]]
    # a question that names nothing itself: its sub-questions need not either
    unnamed = "what is the continental limit of the continent with the lowest average temperature?"
    assert len(on_topic([SubQuestion(question="Which continent has the lowest average temperature?")], unnamed, [])) == 1


async def test_a_plan_that_repeats_itself_is_finished_not_researched_again(deps):
    make, _ = deps
    first = PlanStep(sub_questions=[SubQuestion(question="Which company makes Kentucky Tavern?")])
    again = PlanStep(sub_questions=[SubQuestion(question="Which company makes the Kentucky Tavern?")])  # reworded a little
    chat = ScriptedChat(planning([first, again, again, again]))
    out = await build_planner(make(chat)).ainvoke(start())
    assert [n.question for n in out["nodes"].values()] == ["Which company makes Kentucky Tavern?"]
    assert len([r for r in chat.requests if r.schema is PlanStep]) == 2 and out.get("stopped") is None


async def test_a_sub_question_that_names_an_earlier_answer_is_searched_with_it(deps):
    make, memory = deps
    plans = [PlanStep(sub_questions=[SubQuestion(question="Which company makes Kentucky Tavern?"),
                                     SubQuestion(question="Where is the distillery of #1?")])]  # no depends_on given

    def rule(messages, schema):
        if schema is PlanStep:
            return plans.pop(0) if plans else PlanStep(finish=True)
        if last(messages).endswith("Question: Which company makes Kentucky Tavern?"):
            return "The Sazerac Company [1]"
        return "Bardstown, Kentucky [1]"

    chat = ScriptedChat(rule)
    out = await build_planner(make(chat)).ainvoke(start())
    q2 = out["nodes"]["q2"]
    assert q2.question == "Where is the distillery of The Sazerac Company?" and q2.depends_on == ["q1"]
    assert q2.started_at >= out["nodes"]["q1"].finished_at
    assert out["nodes"]["q1"].queries == ["Which company makes Kentucky Tavern?", QUESTION]  # stands alone: with the question
    assert q2.queries == [q2.question]  # searched as resolved, no rewrite call
    assert not [r for r in chat.requests if r.schema is Queries]
    assert memory.tasks.get_run("run").nodes[1].question == "Where is the distillery of The Sazerac Company?"


async def test_a_sub_question_naming_its_own_answer_is_not_planned(deps):
    """A model that writes a chain's second step first ("... whose godfather is #1?" as sub-question
    1) names an answer the plan can never have: that sub-question is dropped, not searched with its
    own words put in place of "#1"."""
    make, _ = deps
    chat = ScriptedChat(planning([PlanStep(sub_questions=[SubQuestion(question="Where is the distillery of #1?"),
                                                           SubQuestion(question="What does #3 make?")])]))
    out = await build_planner(make(chat)).ainvoke(start())
    assert [n.question for n in out["nodes"].values()] == [QUESTION]  # nothing left: the question itself


async def test_a_comparison_by_date_is_decided_by_the_dates_found_not_by_the_model(deps):
    """"Which was founded first, A or B?": each sub-question finds a date, and the earlier one's
    option leads the answer, citing the passage behind it, even when the model would pick the other."""
    make, _ = deps

    def research(question):
        plans = [PlanStep(sub_questions=[SubQuestion(question="When was Zeitgeist Films founded?"),
                                         SubQuestion(question="When was the Sazerac Company founded?")])]

        def rule(messages, schema):
            if schema is PlanStep:
                return plans.pop(0) if plans else PlanStep(finish=True)
            if schema is Queries:
                return Queries(queries=[last(messages).rsplit("Question: ", 1)[1].strip()])
            asked = last(messages).rsplit("Question: ", 1)[1]
            if asked == question:
                return "Zeitgeist Films [1]"  # what a small model does with 1988 against 1850: a coin toss
            return "1988 [1]" if "Zeitgeist" in asked else "1850 [1]"

        chat = ScriptedChat(rule)
        return chat, build_planner(make(chat)).ainvoke(start(question))

    question = "Which was founded first, Zeitgeist Films or the Sazerac Company?"
    chat, run = research(question)
    out = await run
    sazerac = out["nodes"]["q2"]
    assert out["short"] == "Sazerac Company"
    number = int(re.match(r"Sazerac Company \[(\d+)\]\n", out["answer"]).group(1))
    assert next(c for c in out["citations"] if c["number"] == number)["chunk_id"] == sazerac.chunks[0].id
    assert not [r for r in chat.requests if r.schema is None and last(r.messages).endswith(f"Question: {question}")]
    _, run = research(question.replace("first", "later"))
    assert (await run)["short"] == "Zeitgeist Films"


def self_planned(said: dict[str, str], otherwise: str):
    """A scripted model for a question that plans itself: it fails the test if asked to plan,
    searches each sub-question as it is, and answers it from `said` (anything else: `otherwise`)."""
    def rule(messages, schema):
        assert schema is not PlanStep, "a question that plans itself is not planned by the model"
        if schema is Queries:
            return Queries(queries=[last(messages).rsplit("Question: ", 1)[1].strip()])
        return said.get(last(messages).rsplit("Question: ", 1)[1], otherwise)
    return rule


async def test_a_comparison_through_a_director_plans_itself_to_the_dates(deps):
    """"Which film has the director who was born first, A or B?": the plan asks each film's
    director, then each director's birth date, without asking the model to plan (a small model
    stops at the directors and guesses), and the dates decide."""
    make, _ = deps
    question = "Which film has the director who was born first, The Prestige or Maximum Overdrive?"
    said = {"Who is the director of Prestige?": "Christopher Nolan [1]",
            "Who is the director of Maximum Overdrive?": "Stephen King [1]",
            "When was Christopher Nolan born?": "30 July 1970 [1]", "When was Stephen King born?": "September 21, 1947 [1]"}

    out = await build_planner(make(ScriptedChat(self_planned(said, "The Prestige [1]")))).ainvoke(start(question))
    nodes = list(out["nodes"].values())
    assert [n.question for n in nodes] == list(said)
    assert all(n.status == "answered" for n in nodes)
    assert out["short"] == "Maximum Overdrive"
    # it cites the passage that names the film, not Stephen King's birth date, which does not
    # support "Maximum Overdrive" (that sentence follows in the evidence, cited)
    cited = [int(m) for m in re.findall(r"\[(\d+)\]", out["answer"].split("\n")[0])]
    assert cited and all(c["supported"] for c in out["citations"] if c["number"] in cited), out["citations"]


async def test_whether_two_directors_share_a_country_plans_itself_and_the_countries_decide(deps):
    """"Do both films A and B have the directors from the same country?": each film's director,
    then each director's country, without the model planning; "American" and "United States" are
    the same country, so the answer is yes whatever the model would have said."""
    make, _ = deps
    question = "Do both films The Prestige and Maximum Overdrive have the directors from the same country?"
    said = {"Who is the director of The Prestige?": "Christopher Nolan [1]",
            "Who is the director of Maximum Overdrive?": "Stephen King [1]",
            "What is the nationality of Christopher Nolan?": "United States [1]",
            "What is the nationality of Stephen King?": "American [1]"}

    out = await build_planner(make(ScriptedChat(self_planned(said, "No [1]")))).ainvoke(start(question))
    assert [n.question for n in out["nodes"].values()] == list(said)
    assert out["short"] == "Yes"


async def test_whether_two_are_both_of_a_kind_asks_each_alone_and_the_answers_decide(deps):
    """"Are A and B both film directors?": each asked alone, without the model planning, and yes
    only as both answers say yes (a small model asked of both at once says yes where one is not)."""
    make, _ = deps
    question = "Are Christopher Nolan and Sathish Kalathil both film directors?"
    said = {"Is Christopher Nolan a film director?": "Yes [1]", "Is Sathish Kalathil a film director?": "Yes [1]"}

    out = await build_planner(make(ScriptedChat(self_planned(said, "No [1]")))).ainvoke(start(question))
    assert [n.question for n in out["nodes"].values()] == list(said)
    assert out["short"] == "Yes"


async def test_a_question_through_a_role_plans_the_holder_then_the_question_asked_of_them(deps):
    """"Where was the director of film The Prestige (Film) born?": who directed it (the film named as
    the user named it), then where that person was born, without the model planning (a small model
    stops at the director, or asks when he was born); the answer is the second finding's, where the
    model would name the director."""
    make, _ = deps
    question = "Where was the director of film The Prestige (Film) born?"
    said = {"Who is the director of The Prestige (Film)?": "Christopher Nolan [1]",
            "Where was Christopher Nolan born?": "London [1]"}

    out = await build_planner(make(ScriptedChat(self_planned(said, "Christopher Nolan [1]")))).ainvoke(start(question))
    assert [n.question for n in out["nodes"].values()] == list(said)
    assert all(n.status == "answered" for n in out["nodes"].values())
    assert out["short"] == "London"


async def test_a_plan_sleuth_makes_itself_is_not_filtered_as_a_models_plan_is(deps, tmp_path):
    """"Who is the father-in-law of Từ Dụ?": the spouse, then the spouse's father. "Who is the spouse
    of Từ Dụ?" shares no word of three letters with the question, which the filter for the model's
    plans asks for; sleuth's own plan is asked as it is."""
    make, _ = deps
    pages = tmp_path / "nguyen.jsonl"
    pages.write_text(json.dumps({"doc_id": "t:1", "title": "Từ Dụ", "text": "Từ Dụ was the wife of Emperor Thiệu Trị."}) + "\n"
                     + json.dumps({"doc_id": "t:2", "title": "Thiệu Trị", "text": "Thiệu Trị was the son of Emperor Minh Mạng."}) + "\n")
    LocalIndex(tmp_path / "corpus.db").add(pages)  # the index the searchers use
    question = "Who is the father-in-law of Từ Dụ?"
    said = {"Who is the spouse of Từ Dụ?": "Thiệu Trị [1]", "Who is the father of Thiệu Trị?": "Minh Mạng [1]"}

    out = await build_planner(make(ScriptedChat(self_planned(said, "Louis XIV [1]")))).ainvoke(start(question))
    assert [n.question for n in out["nodes"].values()] == list(said)
    assert out["short"] == "Minh Mạng"


async def test_a_short_answer_copied_from_the_prompts_example_gives_way_to_the_findings(deps):
    """"The Sazerac Company [1]" passes the half-of-its-words test where a passage says "company"
    (Dell Magazines "was a company"), but it names what only the answer prompt's example does; the
    finding leads instead."""
    make, _ = deps
    question = "Who founded Dell Magazines?"
    rule = planning([PlanStep(sub_questions=[SubQuestion(question="Who founded Dell Magazines?")])])

    def copies_its_example(messages, schema):
        if schema is None and "Known:" in last(messages):  # the final answer knows the finding
            return "The Sazerac Company [1]"
        if schema is None:
            return "George T. Delacorte Jr. [1]"
        return rule(messages, schema)

    out = await build_planner(make(ScriptedChat(copies_its_example))).ainvoke(start(question))
    assert "company" in " ".join(c["quote"] for c in out["citations"]).lower()
    assert out["short"] == "George T. Delacorte Jr." and "Sazerac" not in out["answer"]



@pytest.mark.parametrize("again, short", [("The Sazerac Company [1]", "The Sazerac Company"), ("Kentucky Tavern [1]", "Kentucky Tavern")],
                         ids=["reads-on", "repeats-again"])
async def test_a_short_answer_that_only_repeats_the_question_is_asked_again_told_so(deps, again, short):
    """The final answer "Kentucky Tavern" to which company makes Kentucky Tavern is asked once more,
    the model told that Kentucky Tavern is what the question asks about (as a sub-answer is); a
    second answer that repeats too leaves the first."""
    make, _ = deps
    rule = planning([PlanStep(sub_questions=[SubQuestion(question="Which company makes Kentucky Tavern?")])])
    told = "Known: Kentucky Tavern is what the question asks about, not its answer."

    def repeating(messages, schema):
        if schema is None and last(messages).endswith(f"Question: {QUESTION}"):
            return again if told in last(messages) else "Kentucky Tavern [1]"
        return rule(messages, schema)

    chat = ScriptedChat(repeating)
    out = await build_planner(make(chat)).ainvoke(start())
    finals = [r.messages for r in chat.requests if last(r.messages).endswith(f"Question: {QUESTION}")]
    assert out["short"] == short and len(finals) == 2 and told in last(finals[1])


@pytest.mark.parametrize("cites", ["nothing", "another passage"])
async def test_a_short_answer_citing_no_passage_that_holds_it_cites_the_findings(deps, cites):
    """The model writes the short answer from the passages recalled for the whole question and may
    cite none, or one that does not say it; it then cites the passage of the finding it comes from."""
    make, _ = deps
    question = "Which company makes Kentucky Tavern, and where is Buffalo Trace?"
    rule = planning([PlanStep(sub_questions=[SubQuestion(question="Which company makes Kentucky Tavern?")])])

    def final(messages, schema):
        if schema is None and last(messages).endswith(f"Question: {question}"):
            if cites == "nothing":
                return "The Sazerac Company"
            other = next(n for n, text in re.findall(r"^\[(\d+)\] (.*)$", last(messages), re.M) if "Sazerac" not in text)
            return f"The Sazerac Company [{other}]"
        return rule(messages, schema)

    out = await build_planner(make(ScriptedChat(final))).ainvoke(start(question))
    first = out["answer"].split("\n")[0]
    number = int(re.fullmatch(r"The Sazerac Company \[(\d+)\]", first)[1])
    cited = next(c for c in out["citations"] if c["number"] == number)
    assert "Sazerac Company" in cited["quote"] and cited["supported"] and number not in out["unsupported"]
