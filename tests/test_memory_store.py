"""Knowledge, conversation and task memory in one SQLite file."""

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memory import AsyncMemory, Memory, Scope, TaskNode, canonical_url
from tools import Page

ARTICLE = ("The Barton Distillery is in Bardstown, Kentucky. It makes Kentucky Tavern bourbon. "
           "The Sazerac Company bought it in 2009.\n\nVisitors can tour it most days.")


def page(url: str, text: str = ARTICLE, title: str = "Barton Distillery", age: timedelta = timedelta(0)) -> Page:
    return Page(url=url, final_url=url, title=title, text=text, fetched_at=datetime.now(UTC) - age, status=200)


@pytest.fixture
def memory(tmp_path) -> Memory:
    return Memory(tmp_path / "memory.db", target_tokens=20)


def test_pages_are_stored_with_chunks_and_offsets(memory):
    added = memory.knowledge.add(page("https://example.org/barton"), backend="duckduckgo")
    assert added.status == "added" and added.page.n_chunks >= 2 and added.page.backend == "duckduckgo"
    stored = memory.knowledge.page("https://example.org/barton")
    chunks = memory.knowledge.chunks(stored.id)
    assert len(chunks) == stored.n_chunks
    for c in chunks:
        assert stored.text[c.start : c.end] == c.text and c.summary.startswith("Barton Distillery")


def test_the_same_page_is_stored_once(memory):
    first = memory.knowledge.add(page("https://Example.org:443/barton?utm_source=x#top"))
    again = memory.knowledge.add(page("https://example.org/barton"))
    assert again.status == "unchanged" and again.page.id == first.page.id
    mirror = memory.knowledge.add(page("https://mirror.example.net/copy"))
    assert mirror.status == "duplicate" and mirror.page.id == first.page.id
    assert memory.knowledge.stats()["pages"] == 1


def test_a_changed_page_replaces_its_old_chunks(memory):
    memory.knowledge.add(page("https://example.org/barton"))
    updated = memory.knowledge.add(page("https://example.org/barton", text="Completely new text about rye whiskey."))
    assert updated.status == "updated"
    chunks = memory.knowledge.chunks(updated.page.id)
    assert [c.text for c in chunks] == ["Completely new text about rye whiskey."]
    assert memory.knowledge.search("Sazerac") == [] and memory.knowledge.search("rye")[0].page_id == updated.page.id


def test_empty_pages_are_not_stored(memory):
    result = memory.knowledge.add(page("https://example.org/empty", text="   "))
    assert result.status == "empty" and result.page is None
    assert memory.knowledge.stats()["pages"] == 0


def test_huge_pages_keep_their_first_chunks_and_say_so(tmp_path):
    memory = Memory(tmp_path / "m.db", target_tokens=20, max_chunks_per_page=5)
    text = " ".join(f"Sentence number {i} is about topic {i}." for i in range(200))
    result = memory.knowledge.add(page("https://example.org/huge", text=text))
    assert result.truncated and "first 5 chunks" in result.reason
    chunks = memory.knowledge.chunks(result.page.id)
    assert [c.ordinal for c in chunks] == [0, 1, 2, 3, 4] and chunks[0].start == 0
    assert memory.knowledge.stats()["truncated_pages"] == 1


def test_fresh_pages_are_served_from_memory(memory):
    memory.knowledge.add(page("https://example.org/new"))
    memory.knowledge.add(page("https://example.org/old", text="An older text.", age=timedelta(days=3)))
    fresh = memory.knowledge.fresh("https://example.org/new#section", timedelta(hours=24))
    assert fresh is not None and fresh.text == ARTICLE
    assert memory.knowledge.fresh("https://example.org/old", timedelta(hours=24)) is None
    assert memory.knowledge.fresh("https://example.org/new", timedelta(0)) is None  # a forced refetch
    assert memory.knowledge.fresh("https://example.org/never", timedelta(hours=24)) is None


def test_forgetting_a_page_removes_its_chunks(memory):
    added = memory.knowledge.add(page("https://example.org/barton"))
    assert memory.knowledge.forget(str(added.page.id))
    assert memory.knowledge.search("Bardstown") == [] and memory.knowledge.stats()["chunks"] == 0
    assert not memory.knowledge.forget("https://example.org/barton")


def test_conversation_keeps_recent_turns_and_compacts_old_ones(memory):
    for i in range(1, 8):
        memory.conversations.add_turn("t1", f"question {i}", f"answer {i}", [f"https://example.org/{i}"])
    ctx = memory.conversations.context("t1", last=3)
    assert [t.question for t in ctx.turns] == ["question 5", "question 6", "question 7"] and ctx.summary == ""
    assert ctx.turns[0].sources == ["https://example.org/5"]

    async def summarise(previous: str, turns):
        await asyncio.sleep(0)
        return (previous + " " + "; ".join(t.question for t in turns)).strip()

    folded = asyncio.run(memory.conversations.compact("t1", summarise, keep=2))
    assert folded == 5
    ctx = memory.conversations.context("t1", last=4)
    assert ctx.summary == "question 1; question 2; question 3; question 4; question 5"
    assert [t.question for t in ctx.turns] == ["question 6", "question 7"]
    memory.conversations.add_turn("t1", "question 8", "answer 8")
    assert asyncio.run(memory.conversations.compact("t1", lambda prev, turns: prev + " | question 6", keep=2)) == 1
    assert memory.conversations.context("t1").summary.endswith("| question 6")
    assert len(memory.conversations.turns("t1")) == 8  # compaction never deletes what was said


def test_threads_are_listed_and_forgotten(memory):
    memory.conversations.add_turn("a", "first in a", "x")
    memory.conversations.add_turn("b", "first in b", "y")
    memory.tasks.start_run("r-b", "first in b", thread_id="b")
    listed = {t.id: t for t in memory.conversations.threads()}
    assert listed["b"].runs == 1 and listed["a"].first_question == "first in a"
    assert memory.conversations.forget("b") and memory.tasks.get_run("r-b") is None
    assert [t.id for t in memory.conversations.threads()] == ["a"]


def test_task_memory_records_the_plan_as_it_progresses(memory):
    memory.tasks.start_run("r1", "Who owns Kentucky Tavern?", thread_id="t")
    memory.tasks.save_node("r1", TaskNode(node_id="q2", question="Who makes it?"))
    memory.tasks.save_node("r1", TaskNode(node_id="q10", question="Who owns the maker?", depends_on=["q2"]))
    added = memory.knowledge.add(page("https://example.org/barton"), run_id="r1")
    memory.tasks.save_node("r1", TaskNode(node_id="q2", question="Who makes it?", status="answered",
                                          answer="Barton Distillery", chunk_ids=[added.page.id]))
    run = memory.tasks.get_run("r1")
    assert run.status == "running" and run.pages == 1 and run.finished_at is None
    assert [n.node_id for n in run.nodes] == ["q2", "q10"]  # plan order, not alphabetical
    assert run.nodes[0].status == "answered" and run.nodes[0].answer == "Barton Distillery"
    assert run.nodes[1].depends_on == ["q2"]
    memory.tasks.finish_run("r1", "done")
    assert memory.tasks.get_run("r1").status == "done" and [r.id for r in memory.tasks.runs("t")] == ["r1"]


async def test_async_access_runs_off_the_event_loop(memory):
    amem = AsyncMemory(memory)
    results = await asyncio.gather(*(amem.knowledge.add(page(f"https://example.org/{i}", text=f"Page {i} text about item{i}."))
                                     for i in range(10)))
    assert {r.status for r in results} == {"added"}
    recall = await amem.recall("item3", budget_tokens=100)
    assert recall.chunks[0].url == "https://example.org/3"


def test_canonical_urls():
    assert canonical_url("HTTPS://Example.ORG:443/a?b=2&a=1&utm_medium=x#frag") == "https://example.org/a?a=1&b=2"
    assert canonical_url("http://example.org") == "http://example.org/"
    assert canonical_url("http://example.org:8080/x") == "http://example.org:8080/x"
    assert canonical_url("sleuth://doc/hotpotqa:abc#x") == "sleuth://doc/hotpotqa:abc"


def test_scope_restricts_recall_to_a_run_or_thread(memory):
    memory.tasks.start_run("r1", "q", thread_id="t1")
    memory.tasks.start_run("r2", "q", thread_id="t2")
    memory.knowledge.add(page("https://example.org/one", text="Bourbon is made in Kentucky."), run_id="r1")
    memory.knowledge.add(page("https://example.org/two", text="Bourbon is also made in Tennessee."), run_id="r2")
    urls = lambda scope: {c.url for c in memory.recall("bourbon", budget_tokens=500, scope=scope).chunks}
    assert urls(Scope()) == {"https://example.org/one", "https://example.org/two"}
    assert urls(Scope.run("r1")) == {"https://example.org/one"}
    assert urls(Scope.thread("t2")) == {"https://example.org/two"}


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
def test_opening_the_memory_anew_for_each_run_leaves_no_file_open_each_time(tmp_path):
    """A research run opens the memory anew (`Settings.open_memory`) while an evaluation keeps one
    open: after 40 such runs on 4 threads the file is open no more often than after 5 (an ablation
    of 2,400 runs ran out of file descriptors: a connection more each run and thread)."""
    db = tmp_path / "memory.db"

    def open_files() -> int:
        names = []
        for fd in Path("/proc/self/fd").iterdir():
            try:
                names.append(os.readlink(fd))
            except OSError:
                pass
        return sum(n in (str(db), f"{db}-wal") for n in names)

    together = threading.Barrier(4)

    def on_every_thread(memory: Memory) -> None:  # each of the 4 threads reads once
        list(pool.map(lambda _: (together.wait(), memory.tasks.runs()), range(4)))

    kept = Memory(db)
    counts = []
    with ThreadPoolExecutor(4) as pool:
        on_every_thread(kept)
        for runs in (5, 35):
            for _ in range(runs):
                on_every_thread(Memory(db))
            counts.append(open_files())
    assert counts[1] <= counts[0]


def test_a_memory_deleted_and_made_anew_at_the_same_path_starts_empty_while_the_old_one_is_open(tmp_path):
    """Connections are shared by the objects of one file (the test above), not of one path: a new
    memory at the path of a deleted one does not read the old file through a lingering connection."""
    db = tmp_path / "memory.db"
    old = Memory(db)
    old.tasks.start_run("r1", "Who founded the Barton Distillery?")
    for file in tmp_path.glob("memory.db*"):
        file.unlink()
    new = Memory(db)
    assert new.tasks.runs() == []
    new.tasks.start_run("r2", "Where is Bardstown?")
    assert [r.id for r in new.tasks.runs()] == ["r2"]
