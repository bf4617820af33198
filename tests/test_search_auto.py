"""The default backend: the web first, the local corpus when the web is unavailable, never silent."""

import pytest

from tools.search import AutoSearch, EmptyCorpus, LocalIndex, RateLimited, SAMPLE_CORPUS, SearchHit, SearchUnavailable


class ScriptedWeb:
    """Stands in for the web backend: raises or answers according to a script, one entry per call."""

    name = "duckduckgo"

    def __init__(self, *script):
        self.script = list(script)
        self.calls = 0

    async def search(self, query, *, max_results=10, recency=None):
        self.calls += 1
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


WEB_HIT = [SearchHit(url="https://example.org/", title="Example", snippet="", rank=1, backend="duckduckgo")]


@pytest.fixture
def local(tmp_path):
    index = LocalIndex(tmp_path / "corpus.db")
    index.add(SAMPLE_CORPUS)
    return index


async def test_web_results_when_the_web_answers(local):
    notes = []
    auto = AutoSearch(ScriptedWeb(WEB_HIT), local, notify=notes.append)
    assert await auto.search("q") == WEB_HIT and notes == []


async def test_rate_limit_is_retried_a_bounded_number_of_times(local):
    web = ScriptedWeb(RateLimited("DuckDuckGo is rate-limiting requests."), WEB_HIT)
    auto = AutoSearch(web, local, retries=2, backoff=0.0, notify=[].append)
    assert await auto.search("q") == WEB_HIT and web.calls == 2


async def test_persistent_rate_limit_falls_back_to_local_and_says_so(local):
    limited = RateLimited("DuckDuckGo is rate-limiting requests.")
    web = ScriptedWeb(limited, limited, limited)
    notes = []
    auto = AutoSearch(web, local, retries=2, backoff=0.0, notify=notes.append)
    hits = await auto.search("Kentucky Tavern manufacturer")
    assert web.calls == 3
    assert hits[0].backend == "local" and hits[0].title == "Kentucky Tavern"
    assert len(notes) == 1 and "rate-limiting" in notes[0] and "local corpus" in notes[0]
    # within the cooldown the web is not asked again
    await auto.search("Sazerac")
    assert web.calls == 3


async def test_unreachable_web_falls_back_without_retrying(local):
    web = ScriptedWeb(SearchUnavailable("DuckDuckGo could not be reached (DNS lookup failed)."))
    notes = []
    hits = await AutoSearch(web, local, notify=notes.append).search("bourbon")
    assert web.calls == 1 and hits and "DNS lookup failed" in notes[0]


async def test_no_web_and_no_corpus_says_how_to_add_documents(tmp_path):
    web = ScriptedWeb(SearchUnavailable("DuckDuckGo could not be reached (DNS lookup failed)."))
    auto = AutoSearch(web, LocalIndex(tmp_path / "empty.db"), notify=[].append)
    with pytest.raises(EmptyCorpus, match="sleuth index add"):
        await auto.search("anything")
