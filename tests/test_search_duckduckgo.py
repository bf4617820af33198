"""DuckDuckGo through `ddgs`, with `ddgs.DDGS` stubbed at its boundary (the live web is not reachable
from tests): result mapping, the recency filter, and the error paths a user meets."""

import threading

import pytest
from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException

from tools.search import DuckDuckGoSearch, RateLimited, SearchTimeout, SearchUnavailable

ROWS = [
    {"title": "Kentucky Tavern - Wikipedia", "href": "https://en.wikipedia.org/wiki/Kentucky_Tavern",
     "body": "Kentucky Tavern is a brand of straight bourbon whiskey."},
    {"title": "no link", "href": "", "body": "dropped"},
    {"title": "Barton 1792 Distillery", "href": "https://www.barton1792.com/", "body": "Bardstown, Kentucky."},
]


class StubDDGS:
    """Stands in for `ddgs.DDGS`: records each call and answers with `result` (rows or an exception)."""

    def __init__(self, result):
        self.result = result
        self.calls: list[dict] = []

    def __call__(self, timeout):  # the client factory
        return self

    def text(self, query, **kwargs):
        self.calls.append({"query": query, **kwargs})
        if isinstance(self.result, Exception):
            raise self.result
        if callable(self.result):
            return self.result()
        return self.result


async def test_hits_are_mapped_and_ranked():
    stub = StubDDGS(ROWS)
    hits = await DuckDuckGoSearch(client_factory=stub).search("Kentucky Tavern", max_results=5)
    assert [h.url for h in hits] == [ROWS[0]["href"], ROWS[2]["href"]]
    assert [h.rank for h in hits] == [1, 2]
    assert hits[0].title == "Kentucky Tavern - Wikipedia" and "bourbon" in hits[0].snippet
    assert {h.backend for h in hits} == {"duckduckgo"}
    assert stub.calls[0]["backend"] == "duckduckgo" and stub.calls[0]["max_results"] == 5


async def test_control_sequences_in_results_are_dropped():
    rows = [{"title": "Bourbon\x1b]52;c;cm0gLXJm\x07 \x1b[2Jfacts", "href": "https://example.org/",
             "body": "Kentucky\x9b2J Tavern\x00."}]
    hits = await DuckDuckGoSearch(client_factory=StubDDGS(rows)).search("bourbon")
    assert hits[0].title == "Bourbon facts" and hits[0].snippet == "Kentucky Tavern."


@pytest.mark.parametrize("recency, timelimit", [(None, None), ("day", "d"), ("week", "w"), ("month", "m"), ("year", "y")])
async def test_recency_becomes_duckduckgos_time_limit(recency, timelimit):
    stub = StubDDGS(ROWS)
    await DuckDuckGoSearch(client_factory=stub).search("q", recency=recency)
    assert stub.calls[0]["timelimit"] == timelimit


@pytest.mark.parametrize(
    "error, expected",
    [
        (RatelimitException("https://html.duckduckgo.com/html 202 Ratelimit"), RateLimited),
        (DDGSException("202 Ratelimit"), RateLimited),
        (TimeoutException("timed out"), SearchTimeout),
        (DDGSException("DNSError: error resolving DNS"), SearchUnavailable),
    ],
)
async def test_errors_map_to_typed_errors(error, expected):
    with pytest.raises(expected) as caught:
        await DuckDuckGoSearch(client_factory=StubDDGS(error)).search("q")
    assert "DuckDuckGo" in str(caught.value)


async def test_no_results_is_an_empty_list():
    assert await DuckDuckGoSearch(client_factory=StubDDGS(DDGSException("No results found."))).search("q") == []


async def test_a_hanging_client_times_out():
    release = threading.Event()
    stub = StubDDGS(lambda: release.wait(10) and [])
    try:
        with pytest.raises(SearchTimeout):
            await DuckDuckGoSearch(timeout=0.1, client_factory=stub).search("q")
    finally:
        release.set()
