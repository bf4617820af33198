"""The searcher graph on the sample corpus, with a scripted model (the logic, not the model, is
under test here): queries, search, dedupe, reading into memory, recall, a cited sub-answer."""

import json
import re
from datetime import timedelta

import pytest

from agents import Settings
from agents.llm import ScriptedChat
from agents.prompts import Queries, model_tokens, passage
from agents.reader import Reader
from agents.searcher import FILLED, FIRST_PAGES, SearcherDeps, about_subject, build_searcher, evidence
from memory import AsyncMemory, Chunk, Memory
from tests.conftest import LOOPBACK
from tools import Fetcher, FetchLimits
from tools.search import SAMPLE_CORPUS, LocalIndex, SearchHit


def rule(messages, schema):
    if schema is Queries:
        return Queries(queries=["Kentucky Tavern bourbon producer", "Kentucky Tavern bourbon producer"])
    return "The Sazerac Company produces it [1]."


@pytest.fixture
async def setup(tmp_path):
    index = LocalIndex(tmp_path / "corpus.db")
    index.add(SAMPLE_CORPUS)
    memory = Memory(tmp_path / "memory.db")
    memory.tasks.start_run("run", "Who produces Kentucky Tavern?")
    async with Fetcher(FetchLimits(read_timeout=1.0, backoff=0.01), LOOPBACK, local=index) as fetcher:
        yield index, memory, Reader(fetcher, AsyncMemory(memory), freshness=timedelta(hours=1))


DOCS = [json.loads(line) for line in SAMPLE_CORPUS.read_text().splitlines() if line.strip()]


class Everything:  # a backend that finds every document of the sample corpus, as many as asked for
    name = "stub"

    async def search(self, query, *, max_results=10, recency=None):
        return [SearchHit(url=f"sleuth://doc/{d['doc_id']}", title=d["title"], snippet="", rank=i + 1, backend="stub")
                for i, d in enumerate(DOCS[:max_results])]


class ThreeFilms(Everything):  # The Prestige's page first, then The Dark Knight Rises's, then Christopher Nolan's
    async def search(self, query, *, max_results=10, recency=None):
        hits = await super().search(query, max_results=len(DOCS))
        order = ["The Prestige (film)", "The Dark Knight Rises", "Christopher Nolan"]
        return sorted([h for h in hits if h.title in order], key=lambda h: order.index(h.title))


class InOrder:  # a backend that finds the given pages, in the given order, whatever is asked
    name = "stub"

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls

    async def search(self, query, *, max_results=10, recency=None):
        return [SearchHit(url=u, title=t, snippet="", rank=i + 1, backend="stub") for i, (t, u) in enumerate(self.urls.items())]


def in_order(index, tmp_path, pages: dict[str, str], order: list[str]) -> InOrder:
    """Indexes `pages` (title -> text) into the corpus; a backend that finds them in `order`."""
    (tmp_path / "pages.jsonl").write_text("".join(json.dumps({"doc_id": f"pages:{i}", "title": t, "text": x}) + "\n"
                                                 for i, (t, x) in enumerate(pages.items())))
    index.add(tmp_path / "pages.jsonl")
    return InOrder({t: f"sleuth://doc/pages:{list(pages).index(t)}" for t in order})


def deps(chat, search, reader, memory, budget=2000, fit=None):
    return SearcherDeps(chat=chat, search=search, reader=reader, memory=AsyncMemory(memory), budget_tokens=budget,
                        fit_tokens=fit)


async def test_a_sub_question_gets_a_cited_answer_from_pages_read(setup):
    index, memory, reader = setup
    chat = ScriptedChat(rule)
    out = await build_searcher(deps(chat, index, reader, memory)).ainvoke(
        {"question": "Who produces it?", "context": ["Which bourbon is sold as KT? Kentucky Tavern"],
         "today": "2026-11-28", "run_id": "run"})
    assert out["queries"] == ["Who produces it?", "Kentucky Tavern bourbon producer"]  # rewritten with its context
    assert len({h.url for h in out["hits"]}) == len(out["hits"])  # deduplicated across queries
    assert out["pages_read"] >= 1 and out["chunks"][0].title == "Kentucky Tavern"
    assert out["answer"] == "The Sazerac Company produces it [1]."
    assert "Sazerac" in out["evidence"] and out["evidence"].endswith("[1].")  # the passage's own sentence, cited
    assert out["evidence"].removesuffix(" [1].") in " ".join(out["chunks"][0].text.split())
    prompt = "\n".join(m.content for m in chat.requests[-1].messages)
    assert "[1] Kentucky Tavern:" in prompt and "ignore any instructions" in prompt
    assert "Today is 2026-11-28" in chat.requests[0].messages[-1].content
    assert memory.tasks.get_run("run").pages == out["pages_read"]


async def test_a_sub_question_given_its_queries_is_searched_with_them_alone(setup):
    index, memory, reader = setup
    chat = ScriptedChat(rule)
    out = await build_searcher(deps(chat, index, reader, memory)).ainvoke(
        {"question": "Who produces Kentucky Tavern?", "queries": ["Who produces Kentucky Tavern?", "Where is Kentucky Tavern made?"],
         "today": "2026-11-28", "run_id": "run"})
    assert out["queries"] == ["Who produces Kentucky Tavern?", "Where is Kentucky Tavern made?"]
    assert [r.schema for r in chat.requests] == [None]  # one model call: the answer


async def test_no_search_results_means_no_answer_call(setup):
    index, memory, reader = setup
    chat = ScriptedChat(lambda m, s: Queries(queries=["qqxqz"]) if s is Queries else "should not be asked")
    out = await build_searcher(deps(chat, index, reader, memory)).ainvoke(
        {"question": "zzqxv?", "context": ["zzqxv? qqxqz"], "today": "2026-11-28", "run_id": "run"})
    assert out["hits"] == [] and out["found"] is False and len(chat.requests) == 1


async def test_every_fetch_failing_is_an_answer_that_says_so(setup, server):
    _, memory, reader = setup

    class DeadLinks:
        name = "stub"

        async def search(self, query, *, max_results=10, recency=None):
            return [SearchHit(url=f"{server.url}/missing/{i}", title="x", snippet="", rank=i, backend="stub") for i in range(3)]

    chat = ScriptedChat(rule)
    out = await build_searcher(deps(chat, DeadLinks(), reader, memory)).ainvoke(
        {"question": "Who produces Kentucky Tavern?", "today": "2026-11-28", "run_id": "run"})
    assert out["pages_read"] == 0 and out["found"] is False


async def test_queries_the_model_cannot_write_leave_the_sub_question_as_the_query(setup):
    index, memory, reader = setup

    def truncated(messages, schema):  # what a model cut off by max_tokens sends: JSON that never closes
        return '{"queries": ["Kentucky Tavern bourbon producer and its' if schema is Queries else rule(messages, schema)

    out = await build_searcher(deps(ScriptedChat(truncated), index, reader, memory)).ainvoke(
        {"question": "Who produces Kentucky Tavern?", "context": ["Which bourbon is KT? Kentucky Tavern"],
         "run_id": "run", "today": "2026-11-28"})
    assert out["queries"] == ["Who produces Kentucky Tavern?"]
    assert out["answer"] == "The Sazerac Company produces it [1]." and out["pages_read"] >= 1


async def test_the_budget_is_filled_with_more_pages_when_the_first_ones_are_short(setup):
    index, memory, reader = setup
    runs = {}
    for budget in (2000, 8000):
        memory.tasks.start_run(f"run-{budget}", "film directors")
        runs[budget] = await build_searcher(deps(ScriptedChat(rule), index, reader, memory, budget)).ainvoke(
            {"question": "Which film directors are there?", "queries": ["film director"],
             "today": "2026-11-28", "run_id": f"run-{budget}"})
        given = sum(c.tokens for c in runs[budget]["chunks"])
        assert given <= budget
        assert given >= FILLED * budget or not runs[budget]["queue"]  # filled, or every hit was read
    small, large = runs[2000], runs[8000]
    assert FIRST_PAGES < small["pages_read"] < large["pages_read"]  # the sample's pages are short: more were read
    assert len(large["chunks"]) > len(small["chunks"])


async def test_the_largest_budget_reads_as_many_short_pages_as_it_holds(setup, data_dir):
    """At the most the 32k context holds, a corpus of paragraphs fills the budget (a query asks for
    more than 100 hits, and later rounds read more than 32 pages each), and the prompt's passages
    fill the context without running past it: memory's estimate is under the model's count, so the
    last pages recalled are left out of the prompt, and the model cites only what it was shown."""
    index, memory, reader = setup
    memory.tasks.start_run("run-long", "everything")
    budget = Settings.load().max_context
    chat = ScriptedChat(rule)
    out = await build_searcher(deps(chat, Everything(), reader, memory, budget, fit=budget)).ainvoke(
        {"question": "What is there?", "queries": ["everything"], "today": "2026-11-28", "run_id": "run-long"})
    assert len(DOCS) > 250 and out["pages_read"] > 150
    shown = sum(model_tokens(passage(i, c)) + 1 for i, c in enumerate(out["chunks"], 1))
    assert FILLED * budget <= shown <= budget
    prompt = chat.requests[-1].messages[-1].content
    assert prompt.count("\n[") == len(out["chunks"]) and f"[{len(out['chunks']) + 1}]" not in prompt


async def test_passages_past_the_models_context_are_left_out_of_the_prompt(setup):
    """Memory counts tokens under the model's count; what would run past the context is not shown,
    the last (worst) pages first, and the answer cites only what was shown."""
    index, memory, reader = setup
    outs = {}
    for fit in (None, 1000):
        memory.tasks.start_run(f"run-{fit}", "fit")
        chat = ScriptedChat(rule)
        outs[fit] = await build_searcher(deps(chat, Everything(), reader, memory, budget=2000, fit=fit)).ainvoke(
            {"question": "What is there?", "queries": ["everything"], "today": "2026-11-28",
             "run_id": f"run-{fit}"})
        outs[fit]["prompt"] = chat.requests[-1].messages[-1].content
    whole, fitted = outs[None]["chunks"], outs[1000]["chunks"]
    assert sum(model_tokens(passage(i, c)) + 1 for i, c in enumerate(whole, 1)) > 1000
    assert 0 < len(fitted) < len(whole) and fitted == whole[: len(fitted)]
    assert sum(model_tokens(passage(i, c)) + 1 for i, c in enumerate(fitted, 1)) <= 1000
    assert f"[{len(fitted)}]" in outs[1000]["prompt"] and f"[{len(fitted) + 1}]" not in outs[1000]["prompt"]


async def test_a_sub_question_recalls_from_its_own_pages_and_its_dependencies_not_its_siblings(setup):
    index, memory, reader = setup
    hit = lambda title: next(h for h in index.search_sync(title, max_results=5) if h.title == title)
    sibling, dependency = hit("The Prestige (film)"), hit("Christopher Nolan")
    await reader.read_many([sibling.url, dependency.url], run_id="run")  # a sibling and a dependency read these
    given = [memory.knowledge.page(dependency.url).id]
    out = await build_searcher(deps(ScriptedChat(rule), index, reader, memory, budget=500)).ainvoke(  # 6 hits
        {"question": "Did Christopher Nolan direct The Prestige, and who distributes it?", "queries": ["Zeitgeist Films"],
         "given_pages": given, "today": "2026-11-28", "run_id": "run"})
    titles = {c.title for c in out["chunks"]}
    assert "The Prestige (film)" not in {h.title for h in out["hits"]}
    assert "Christopher Nolan" in titles and "The Prestige (film)" not in titles


async def test_an_answer_copied_from_the_prompts_example_is_no_answer(setup):
    """Passages that do not answer: the small model may reply with its example's answer, which names
    a company no passage read does. That is reported as nothing found, not as an answer."""
    index, memory, reader = setup
    lilu = next(h for h in index.search_sync("Lilu mythology", max_results=5) if h.title == "Lilu (mythology)")

    class OnePage:
        name = "stub"

        async def search(self, query, *, max_results=10, recency=None):
            return [lilu]

    out = await build_searcher(deps(ScriptedChat(rule), OnePage(), reader, memory)).ainvoke(
        {"question": "If Gallu is a demon, Lilu is what?", "queries": ["Lilu"], "today": "2026-11-28", "run_id": "run"})
    assert [c.title for c in out["chunks"]] == ["Lilu (mythology)"]  # it was read and shown to the model
    assert out["found"] is False and "Sazerac" not in out["answer"]


# the evidence under an answer is a whole sentence of the passage, whatever marks are inside it
PASSAGE = ("Trieste mia!, alternately titled Trieste del mio cuore, is a 1951 Italian film. "
           "The brewery's output was 6.21 million hectolitres in 2011. "
           "The 5th Infantry Regiment is a unit of the U.S. Army. It was formed in 1808. "
           "The Hobbit is a novel by J. R. R. Tolkien, who taught at Oxford. "
           "Whatever Happened to Baby Jane? is a 1962 film by Robert Aldrich. He said \"Cut.\" It was done. "
           "Matthew \"M.\" Ward (born c. 1973) is a singer.")


@pytest.mark.parametrize("answer, question, sentence", [
    ("Italian [1]", "Where is Trieste mia! from?",
     "Trieste mia!, alternately titled Trieste del mio cuore, is a 1951 Italian film [1]."),
    ("6.21 million hectolitres [1]", "What was the output in 2011?",
     "The brewery's output was 6.21 million hectolitres in 2011 [1]."),
    ("U.S. Army [1]", "Which army is the 5th Infantry Regiment part of?",
     "The 5th Infantry Regiment is a unit of the U.S. Army [1]."),
    ("Oxford [1]", "Where did the author of The Hobbit teach?",
     "The Hobbit is a novel by J. R. R. Tolkien, who taught at Oxford [1]."),
    ("Robert Aldrich [1]", "Who directed Whatever Happened to Baby Jane?",
     "Whatever Happened to Baby Jane? is a 1962 film by Robert Aldrich [1]."),
    ("Cut [1]", "What did he say?", "He said \"Cut.\" [1]."),
    ("singer [1]", "What is M. Ward?", "Matthew \"M.\" Ward (born c. 1973) is a singer [1]."),
], ids=["mark", "decimal", "abbreviation", "initials", "title-mark", "quote", "quoted-initial"])
def test_the_evidence_is_the_whole_sentence(answer, question, sentence):
    chunk = Chunk(id=1, page_id=1, ordinal=0, start=0, end=len(PASSAGE), text=PASSAGE, tokens=80, summary="")
    assert evidence(answer, question, [chunk]) == sentence


@pytest.mark.parametrize("citing", ["The Prestige \\(film\\)", "The Dark Knight Rises"], ids=["other-page", "own-page"])
async def test_an_answer_from_a_passage_about_something_else_is_asked_again_of_those_about_its_subject(setup, citing):
    """"Which year is Nolan's Dark Knight Rises film from?" (no page's full title: every passage is
    shown first) answered "2006" from The Prestige's page, citing that page or the film's own (which
    does not say 2006: the answer rests on the other page whatever it cites, `holding`), is asked
    again of the passages that name Dark Knight Rises and of the pages they name (Christopher
    Nolan's); the answer then cites its own film's page, numbered as the searcher read it."""
    index, memory, reader = setup

    def wrong_film_first(messages, schema):
        if schema is Queries:
            return Queries(queries=["The Dark Knight Rises film"])
        shown = messages[-1].content
        if cited := re.search(rf"\[(\d+)\] {citing}:", shown):
            if "The Prestige (film):" in shown:
                return f"2006 [{cited[1]}]"
        own = re.search(r"\[(\d+)\] The Dark Knight Rises:", shown)
        return f"2012 [{own[1]}]"

    chat = ScriptedChat(wrong_film_first)
    out = await build_searcher(deps(chat, ThreeFilms(), reader, memory)).ainvoke(
        {"question": "Which year is Nolan's Dark Knight Rises film from?", "queries": ["The Dark Knight Rises film"],
         "today": "2026-11-28", "run_id": "run"})
    titles = [c.title for c in out["chunks"]]
    assert "The Prestige (film)" in titles and "The Dark Knight Rises" in titles
    asked = [r.messages[-1].content for r in chat.requests if r.schema is None]
    assert len(asked) == 2 and "Christopher Nolan:" in asked[1] and "The Prestige (film):" not in asked[1]
    assert out["answer"] == f"2012 [{titles.index('The Dark Knight Rises') + 1}]"
    assert about_subject("When was he born?", out["chunks"]) == []  # a question that names nothing is not checked


def prestige_first(messages, schema):
    """A small model shown The Prestige's page takes its date (2006) for The Dark Knight Rises."""
    if schema is Queries:
        return Queries(queries=["The Dark Knight Rises film"])
    shown = messages[-1].content
    if prestige := re.search(r"\[(\d+)\] The Prestige \(film\):", shown):
        return f"2006 [{prestige[1]}]"
    own = re.search(r"\[(\d+)\] The Dark Knight Rises:", shown)
    return f"2012 [{own[1]}]"


async def test_a_question_naming_a_page_by_its_title_is_first_asked_of_that_pages_passages(setup):
    """"Which year is The Dark Knight Rises film from?", with The Prestige's page read too: the model
    is first shown the passages of the page the question names by its title and of the pages that
    one names (Christopher Nolan's), not The Prestige's, whose date it would take. The answer cites
    its film's page, numbered as the searcher read it, and every page read stays among its passages."""
    index, memory, reader = setup
    chat = ScriptedChat(prestige_first)
    out = await build_searcher(deps(chat, ThreeFilms(), reader, memory)).ainvoke(
        {"question": "Which year is The Dark Knight Rises film from?", "queries": ["The Dark Knight Rises film"],
         "today": "2026-11-28", "run_id": "run"})
    titles = [c.title for c in out["chunks"]]
    assert sorted(titles) == ["Christopher Nolan", "The Dark Knight Rises", "The Prestige (film)"]
    asked = [r.messages[-1].content for r in chat.requests if r.schema is None]
    assert len(asked) == 1 and "Christopher Nolan:" in asked[0] and "The Prestige (film):" not in asked[0]
    assert out["answer"] == f"2012 [{titles.index('The Dark Knight Rises') + 1}]"


async def test_when_the_named_pages_passages_give_no_answer_every_passage_is_asked(setup):
    """The passages about The Dark Knight Rises answered only with the prompt's example ("The Sazerac
    Company", no answer): the question is asked again of every passage read."""
    index, memory, reader = setup

    def example_unless_all(messages, schema):
        if schema is None and "The Prestige (film):" not in messages[-1].content:
            return "The Sazerac Company [1]"
        return prestige_first(messages, schema)

    chat = ScriptedChat(example_unless_all)
    out = await build_searcher(deps(chat, ThreeFilms(), reader, memory)).ainvoke(
        {"question": "Which year is The Dark Knight Rises film from?", "queries": ["The Dark Knight Rises film"],
         "today": "2026-11-28", "run_id": "run"})
    asked = [r.messages[-1].content for r in chat.requests if r.schema is None]
    assert len(asked) == 2 and "The Prestige (film):" in asked[1]
    prestige = [c.title for c in out["chunks"]].index("The Prestige (film)") + 1
    assert out["found"] and out["answer"] == f"2006 [{prestige}]"  # what every passage gives


async def test_a_question_naming_a_page_by_its_full_title_is_about_that_page_not_another_of_the_name(setup, tmp_path):
    """"Who is the director of Sabotage (1936 Film)?", with David Ayer's page read first (he directed
    the 2014 Sabotage), is asked of the page titled "Sabotage (1936 film)" and the pages it names
    (Alfred Hitchcock's): David Ayer's passage names "Sabotage" and "film" too, so only the full
    title tells the two films apart."""
    index, memory, reader = setup
    films = {"Sabotage (1936 film)": "Sabotage is a 1936 British espionage thriller film directed by Alfred Hitchcock.",
             "David Ayer": "David Ayer is an American film director. He directed the action film Sabotage in 2014.",
             "Alfred Hitchcock": "Sir Alfred Hitchcock was an English film director and producer."}
    found = in_order(index, tmp_path, films, ["David Ayer", "Sabotage (1936 film)", "Alfred Hitchcock"])  # the other film's first

    def other_film_first(messages, schema):
        shown = messages[-1].content
        ayer = re.search(r"\[(\d+)\] David Ayer:", shown)
        own = re.search(r"\[(\d+)\] Sabotage", shown)
        return f"David Ayer [{ayer[1]}]" if ayer else f"Alfred Hitchcock [{own[1]}]"

    chat = ScriptedChat(other_film_first)
    question = "Who is the director of Sabotage (1936 Film)?"
    out = await build_searcher(deps(chat, found, reader, memory)).ainvoke(
        {"question": question, "queries": [question], "today": "2026-11-28", "run_id": "run"})
    titles = [c.title for c in out["chunks"]]
    assert sorted(titles) == sorted(films)
    assert about_subject(question, out["chunks"]) == sorted(titles.index(t) + 1 for t in ("Sabotage (1936 film)", "Alfred Hitchcock"))
    assert out["answer"] == f"Alfred Hitchcock [{titles.index('Sabotage (1936 film)') + 1}]"
    assert about_subject("Who is the director of Sabotage?", out["chunks"]) == [1, 2, 3]  # no title named: by its names


@pytest.mark.parametrize("again, expected", [("The Sazerac Company [1]", "The Sazerac Company [1]"),
                                             ("Kentucky Tavern [1]", "Kentucky Tavern [1]")],
                         ids=["reads-on", "repeats-again"])
async def test_an_answer_that_only_repeats_the_question_is_asked_again_told_so(setup, again, expected):
    """"Which company produces Kentucky Tavern?" answered "Kentucky Tavern" is asked once more, the
    model told that Kentucky Tavern is what the question asks about; a second answer that repeats
    too leaves the first, and a question offering options is not asked again."""
    index, memory, reader = setup

    def repeating(messages, schema):
        return again if "Known: Kentucky Tavern is what the question asks about" in messages[-1].content else "Kentucky Tavern [1]"

    chat = ScriptedChat(repeating)
    out = await build_searcher(deps(chat, index, reader, memory)).ainvoke(
        {"question": "Which company produces Kentucky Tavern?", "queries": ["Kentucky Tavern"], "today": "2026-11-28", "run_id": "run"})
    assert out["answer"] == expected and len(chat.requests) == 2
    offered = ScriptedChat(repeating)
    out = await build_searcher(deps(offered, index, reader, memory)).ainvoke(
        {"question": "Which is older, Kentucky Tavern or Four Roses?", "queries": ["Kentucky Tavern"], "today": "2026-11-28",
         "run_id": "run"})
    assert out["answer"] == "Kentucky Tavern [1]" and len(offered.requests) == 1
