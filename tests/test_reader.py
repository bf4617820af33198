"""Reading into memory: fresh pages come from memory, not the network."""

from datetime import timedelta

import pytest

from agents import Reader
from memory import AsyncMemory, Memory, Scope
from tests.conftest import LOOPBACK
from tools import Fetcher, FetchLimits


@pytest.fixture
async def reader(tmp_path):
    memory = Memory(tmp_path / "memory.db")
    async with Fetcher(FetchLimits(read_timeout=1.0, backoff=0.01), LOOPBACK) as fetcher:
        yield Reader(fetcher, AsyncMemory(memory), freshness=timedelta(hours=1)), memory


async def test_a_page_read_recently_is_served_from_memory(server, reader):
    read, memory = reader
    url = server.url + "/article?reader=fresh"
    memory.tasks.start_run("r1", "q")
    memory.tasks.start_run("r2", "q")
    first = await read.read(url, run_id="r1")
    assert first.ok and not first.from_memory and server.hits["/article?reader=fresh"] == 1
    second = await read.read(url, run_id="r2")
    assert second.ok and second.from_memory and server.hits["/article?reader=fresh"] == 1
    assert second.added.page.id == first.added.page.id
    # both runs read it, so recall scoped to either run finds it
    assert memory.recall("Kentucky Tavern", budget_tokens=500, scope=Scope.run("r2")).chunks


async def test_pages_that_fail_are_reported_not_stored(server, reader):
    read, memory = reader
    results = await read.read_many([server.url + "/missing", server.url + "/binary", server.url + "/article?reader=many"])
    assert [r.ok for r in results] == [False, False, True]
    assert results[0].error.startswith("HTTP 404") and "skipped" in results[1].error
    assert memory.knowledge.stats()["pages"] == 1
