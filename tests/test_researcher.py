"""The Python API end to end with a scripted model on the sample corpus: a cited answer, a
follow-up on the same thread, and resuming an interrupted run without redoing finished work."""

import pytest

from agents import AnswerDelta, PageRead, Researcher, SearchStarted, Settings
from agents.llm import ScriptedChat
from agents.prompts import PlanStep, Queries, SubQuestion
from tools.search import SAMPLE_CORPUS, LocalIndex

QUESTION = "Which company makes Kentucky Tavern, and where is its distillery?"
PLAN = PlanStep(sub_questions=[SubQuestion(question="Which company makes Kentucky Tavern?"),
                               SubQuestion(question="Where is the Barton Distillery?", depends_on=[1])])


class Crash(Exception):
    pass


def rule(crash_on: str | None = None):
    def answer(messages, schema):
        text = messages[-1].content
        if schema is PlanStep:  # plan once; with findings in hand, finish
            return PLAN if text.endswith("Findings:\n(nothing yet)") else PlanStep(finish=True)
        if schema is Queries:
            return Queries(queries=[text.rsplit("Question: ", 1)[1].strip()])
        if text.endswith(f"Question: {QUESTION}"):  # the final answer
            return "The Sazerac Company makes Kentucky Tavern at the Barton Distillery [1]."
        if crash_on and crash_on in text.rsplit("Question: ", 1)[1]:
            raise Crash("the process died here")
        return "The Sazerac Company makes it at the Barton Distillery in Bardstown [1]."

    return answer


@pytest.fixture
def settings(tmp_path, data_dir):
    s = Settings.load(data_dir=tmp_path / "data", search_backend="local")
    LocalIndex(s.corpus_path).add(SAMPLE_CORPUS)
    return s


async def test_an_answer_with_citations_sources_and_plan(settings):
    chat = ScriptedChat(rule())
    answer = await Researcher(settings, chat=chat).aask(QUESTION, thread_id="t1")
    assert "Sazerac" in answer.text and answer.citations
    assert all(c.url.startswith("sleuth://doc/") and c.quote for c in answer.citations)
    assert answer.sources == [c.url for c in answer.citations]
    assert [(k, n.status) for k, n in answer.plan.items()] == [("q1", "answered"), ("q2", "answered")]
    assert answer.usage.prompt_tokens > 0 and answer.timings["total_s"] > 0
    run = settings.open_memory().tasks.get_run(answer.run_id)
    assert run.status == "done" and run.pages >= 1


async def test_a_follow_up_on_the_same_thread_sees_the_earlier_turn(settings):
    await Researcher(settings, chat=ScriptedChat(rule())).aask(QUESTION, thread_id="t2")
    chat = ScriptedChat(rule())
    await Researcher(settings, chat=chat).aask("And who founded it?", thread_id="t2")
    plan_prompt = next(r for r in chat.requests if r.schema is PlanStep).messages[-1].content
    assert f"Earlier: {QUESTION} ->" in plan_prompt


async def test_resume_continues_without_redoing_finished_sub_questions(settings):
    with pytest.raises(Crash):
        await Researcher(settings, chat=ScriptedChat(rule(crash_on="Barton Distillery"))).aask(
            QUESTION, thread_id="t3", run_id="run-3")
    chat = ScriptedChat(rule())
    answer = await Researcher(settings, chat=chat).aask(QUESTION, thread_id="t3", run_id="run-3", resume=True)
    assert [n.status for n in answer.plan.values()] == ["answered", "answered"]
    asked = [r.messages[-1].content.rsplit("Question: ", 1)[1] for r in chat.requests if r.schema is None
             and r.messages[-1].content.startswith("Passages:")]
    assert asked == ["Where is the Barton Distillery?", QUESTION]  # q1 was not researched again; then the answer


async def test_events_show_the_work_as_it_happens(settings):
    events = [e async for e in Researcher(settings, chat=ScriptedChat(rule())).astream(QUESTION, thread_id="t4")]
    types = [e.type for e in events]
    assert types[0] == "PlanUpdated" and types[-2:] == ["AnswerDelta", "Done"]
    started = [e for e in events if isinstance(e, SearchStarted)]
    assert [s.node for s in started] == ["q1", "q2"] and started[0].queries
    read = [e for e in events if isinstance(e, PageRead)]
    assert read and all(r.url.startswith("sleuth://doc/") and r.node in ("q1", "q2") for r in read)
    # each sub-question's pages are read after its search starts and before its answer
    assert types.index("SearchStarted") < types.index("PageRead") < types.index("SubAnswer")


async def test_the_answer_streams_sentence_by_sentence_already_checked(settings):
    def inventive(messages, schema):
        text = messages[-1].content
        if schema is None and text.endswith(f"Question: {QUESTION}"):  # two sentences, the second citing a source never read
            return "Sazerac makes Kentucky Tavern [1]. It is made in Bardstown at the Barton Distillery [99]."
        return rule()(messages, schema)

    events = [e async for e in Researcher(settings, chat=ScriptedChat(inventive)).astream(QUESTION, thread_id="t5")]
    deltas = [e.text for e in events if isinstance(e, AnswerDelta)]
    answer = events[-1].answer.model_dump()
    assert len(deltas) >= 3 and "".join(deltas) == answer["text"]
    assert deltas[0] == "Sazerac makes Kentucky Tavern [1]." and "[99]" not in deltas[1]
    assert answer["removed_citations"] == [99]
    assert answer["short"] == "Sazerac makes Kentucky Tavern. It is made in Bardstown at the Barton Distillery."
    evidence = answer["text"].split("\n\n", 1)[1]  # after the short answer, the passages' sentences, cited
    assert "Sazerac" in evidence and all(c["quote"] for c in answer["citations"])


async def test_concurrent_runs_sharing_one_model_each_count_their_own_calls(settings):
    import asyncio

    chat = ScriptedChat(rule())
    r = Researcher(settings, chat=chat)
    one, two = await asyncio.gather(r.aask(QUESTION, thread_id="t6"), r.aask("Who makes Kentucky Tavern?", thread_id="t7"))
    assert one.usage.calls > 0 and two.usage.calls > 0
    assert one.usage.calls + two.usage.calls == len(chat.calls)
    assert one.usage.completion_tokens + two.usage.completion_tokens == sum(c.usage.completion_tokens for c in chat.calls)
    # the largest prompt is one call's, and the largest of all calls is one of the two runs'
    assert 0 < one.usage.largest_prompt < one.usage.prompt_tokens
    assert max(one.usage.largest_prompt, two.usage.largest_prompt) == max(c.usage.prompt_tokens for c in chat.calls)
