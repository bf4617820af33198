"""HCAM recall: coarse summaries, detail re-scoring, budget, per-page cap, reading order, the entity hop."""

from datetime import UTC, datetime

import pytest

from memory import Memory, RecallParams
from tools import Page
from tools.search import SAMPLE_CORPUS, read_jsonl


def page(url: str, title: str, text: str) -> Page:
    return Page(url=url, final_url=url, title=title, text=text, fetched_at=datetime.now(UTC), status=200)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Memory:
    memory = Memory(tmp_path_factory.mktemp("m") / "memory.db")
    memory.knowledge.add_many([page(d.url, d.title, d.text) for d in read_jsonl(SAMPLE_CORPUS, [])])
    return memory


@pytest.mark.parametrize("budget", [150, 400, 1000, 3000])
def test_recall_fits_whole_chunks_in_the_budget(sample, budget):
    result = sample.recall("Kentucky Tavern bourbon distillery", budget_tokens=budget)
    assert result.stats.tokens_used == sum(c.tokens for c in result.chunks) <= budget
    assert result.stats.chunks_used == len(result.chunks)
    if not result.chunks:  # nothing fits: every candidate alone is over the budget
        assert result.dropped and all(d.tokens > budget for d in result.dropped)
    assert all(d.reason == "budget" or d.reason == "page cap" for d in result.dropped)
    assert not {d.chunk_id for d in result.dropped} & {c.id for c in result.chunks}


def test_the_most_relevant_page_comes_first(sample):
    result = sample.recall("Who produces Kentucky Tavern?", budget_tokens=1000)
    assert result.chunks[0].title == "Kentucky Tavern"


@pytest.fixture
def long_page(tmp_path) -> Memory:
    """One long page about bourbon barrels (20 chunks) and four short ones."""
    memory = Memory(tmp_path / "m.db", target_tokens=30)
    long_text = " ".join(f"Bourbon fact {i}: bourbon is aged in new charred oak barrels." for i in range(40))
    memory.knowledge.add(page("https://example.org/long", "Bourbon", long_text))
    for i in range(4):
        memory.knowledge.add(page(f"https://example.org/{i}", f"Distillery {i}", f"Distillery {i} makes bourbon in Kentucky."))
    return memory


def urls(chunks) -> dict[str, int]:
    per_page = {}
    for c in chunks:
        per_page[c.url] = per_page.get(c.url, 0) + 1
    return per_page


def test_one_long_page_does_not_crowd_out_the_others(long_page):
    result = long_page.recall("bourbon barrels", budget_tokens=120, params=RecallParams(per_page=3))  # 3 x 26 + 4 x 9 tokens
    assert urls(result.chunks)["https://example.org/long"] == 3 and len(urls(result.chunks)) == 5
    assert any(d.url == "https://example.org/long" for d in result.dropped)
    # reading order: a page's chunks stay together and in page order
    long_chunks = [c for c in result.chunks if c.url == "https://example.org/long"]
    assert [c.ordinal for c in long_chunks] == sorted(c.ordinal for c in long_chunks)
    positions = [i for i, c in enumerate(result.chunks) if c.url == "https://example.org/long"]
    assert positions == list(range(positions[0], positions[0] + 3))


def test_a_large_budget_reads_the_chosen_pages_whole_in_page_order(long_page):
    small = long_page.recall("bourbon barrels", budget_tokens=150)
    large = long_page.recall("bourbon barrels", budget_tokens=5000)
    whole = long_page.knowledge.chunks(long_page.knowledge.page("https://example.org/long").id)
    assert len(urls(large.chunks)) == 5 and large.stats.tokens_used <= 5000 and not large.dropped
    long_chunks = [c.ordinal for c in large.chunks if c.url == "https://example.org/long"]
    assert long_chunks == [c.ordinal for c in whole] and len(whole) > 3  # the whole page, in page order
    # the pages come in the order the small budget ranks them: the best page first
    order = lambda r: list(dict.fromkeys(c.url for c in r.chunks))
    assert order(large) == order(small)


def test_the_hop_finds_the_page_of_an_entity_the_question_does_not_name(tmp_path):
    memory = Memory(tmp_path / "m.db")
    memory.knowledge.add_many([
        page("https://example.org/film", "The Silent Harbour", "The Silent Harbour is a 1961 drama film directed by Marguerite Okonkwo."),
        page("https://example.org/person", "Marguerite Okonkwo", "Marguerite Okonkwo (1920-1999) was a Nigerian filmmaker from Lagos."),
        *[page(f"https://example.org/noise{i}", f"Harbour {i}", f"Harbour {i} is a port where drama festivals happen.") for i in range(30)],
    ])
    question = "Where was the director of The Silent Harbour born?"
    with_hop = {c.url for c in memory.recall(question, budget_tokens=120).chunks}
    without = {c.url for c in memory.recall(question, budget_tokens=120, params=RecallParams(hop_from=0)).chunks}
    assert "https://example.org/person" in with_hop
    assert "https://example.org/person" not in without


def test_a_question_without_words_recalls_nothing(sample):
    result = sample.recall("?!", budget_tokens=1000)
    assert result.chunks == [] and result.stats.candidates == 0


def test_common_words_do_not_change_what_is_found(sample):
    """The candidate search drops very common words; the top result must not depend on it."""
    full = sample.recall("Kentucky Tavern brand", budget_tokens=300, params=RecallParams(common_min=10**9))
    pruned = sample.recall("Kentucky Tavern brand", budget_tokens=300, params=RecallParams(common_min=0, common_fraction=0.0))
    assert full.chunks[0].title == pruned.chunks[0].title == "Kentucky Tavern"


def test_recall_leaves_no_transaction_open(sample):
    """Recall writes to temporary tables; an open transaction would make this thread's next write
    fail at once with "database is locked" whenever another connection had written meanwhile."""
    sample.recall("Kentucky Tavern", budget_tokens=300)
    with sample.db.connect() as con:
        assert not con.in_transaction


def test_recall_does_not_depend_on_the_order_pages_were_stored(tmp_path):
    """Pages that score the same (here: the same text but a name) come back in the same order however they
    were stored: the pages of sub-questions researched at once are stored as they arrive."""
    pages = [page(f"https://example.org/{n}", f"Maker {n}", f"Bourbon is made in Kentucky by {n}{n}{n}.") for n in "ABCDEF"]
    forward, backward = Memory(tmp_path / "f.db"), Memory(tmp_path / "b.db")
    forward.knowledge.add_many(pages)
    backward.knowledge.add_many(pages[::-1])
    f, b = (m.recall("bourbon Kentucky", budget_tokens=30).chunks for m in (forward, backward))
    assert 1 < len(f) < len(pages)  # the budget chooses among equals
    assert [c.url for c in f] == [c.url for c in b]
