"""`sleuth memory ...` as a user runs it, on the sample corpus imported into memory."""

import json

import pytest

from memory import Memory
from tests.conftest import one_line_error
from tools.search import SAMPLE_CORPUS


@pytest.fixture
def imported(sleuth, data_dir):
    result = sleuth("memory", "import", str(SAMPLE_CORPUS))
    assert result.returncode == 0 and "301 added" in result.stdout, result.stderr
    return data_dir


def test_stats_search_recall_and_show(sleuth, imported):
    stats = json.loads(sleuth("memory", "stats", "--json").stdout)
    assert stats["pages"] == 301 and stats["chunks"] >= 301
    hits = json.loads(sleuth("memory", "search", "--json", "-n", "3", "bourbon Bardstown").stdout)
    assert hits[0]["title"] == "Kentucky Tavern"
    recall = json.loads(sleuth("memory", "recall", "--json", "--budget", "600", "Who produces Kentucky Tavern?").stdout)
    assert recall["chunks"][0]["title"] == "Kentucky Tavern" and recall["stats"]["tokens_used"] <= 600
    human = sleuth("memory", "recall", "Who produces Kentucky Tavern?")
    assert "used" in human.stdout and "chunks from" in human.stdout
    page = json.loads(sleuth("memory", "show", "--json", "sleuth://doc/musique:536a2d140cdd").stdout)
    assert page["title"] == "Kentucky Tavern" and page["chunks"][0]["start"] == 0
    assert page["text"][page["chunks"][0]["start"] : page["chunks"][0]["end"]] == page["chunks"][0]["text"]


def test_export_threads_and_forget(sleuth, imported, tmp_path):
    out = tmp_path / "export.jsonl"
    assert sleuth("memory", "export", "--out", str(out)).returncode == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 301 and rows[0]["chunks"]
    Memory(imported / "memory.db").conversations.add_turn("trip", "Where is Bardstown?", "In Kentucky [1].")
    threads = json.loads(sleuth("memory", "threads", "--json").stdout)
    assert threads[0]["id"] == "trip" and threads[0]["first_question"] == "Where is Bardstown?"
    assert "Forgot thread trip" in sleuth("memory", "forget", "trip").stdout
    assert "Forgot page" in sleuth("memory", "forget", "sleuth://doc/musique:536a2d140cdd").stdout
    assert json.loads(sleuth("memory", "stats", "--json").stdout)["pages"] == 300
    missing = sleuth("memory", "forget", "no-such-thread")
    assert missing.returncode == 1 and "no thread or page" in one_line_error(missing)


def test_a_damaged_memory_file_is_one_line_and_kept(sleuth, data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "memory.db").write_bytes(b"garbage" * 1000)
    result = sleuth("memory", "stats")
    assert result.returncode == 1
    assert str(data_dir / "memory.db") in one_line_error(result)
    assert (data_dir / "memory.db").read_bytes() == b"garbage" * 1000
