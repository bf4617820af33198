"""The `sleuth` command as a user runs it: a real process, real files, a real server on loopback."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import one_line_error
from tools.search import SAMPLE_CORPUS


def test_index_then_search_the_local_corpus(sleuth):
    added = sleuth("index", "add", str(SAMPLE_CORPUS))
    assert added.returncode == 0 and "301 added" in added.stdout
    result = sleuth("search", "--backend", "local", "--json", "-n", "3", "Kentucky Tavern manufacturer")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 3 and hits[0]["title"] == "Kentucky Tavern"
    assert hits[0]["url"] == "sleuth://doc/musique:536a2d140cdd"
    human = sleuth("search", "--backend", "local", "Kentucky Tavern")
    assert "Kentucky Tavern" in human.stdout and "sleuth://doc/" in human.stdout
    stats = json.loads(sleuth("index", "stats", "--json").stdout)
    assert stats["documents"] == 301
    again = sleuth("index", "add", str(SAMPLE_CORPUS))
    assert "0 added" in again.stdout and "301 unchanged" in again.stdout


def test_several_processes_adding_the_same_file_all_succeed_once(data_dir, tmp_path):
    corpus = tmp_path / "many.jsonl"
    corpus.write_text("".join(json.dumps({"doc_id": f"d{i}", "title": f"Doc {i}", "text": f"words of document {i}"}) + "\n"
                              for i in range(5000)))  # more than one write batch
    procs = [subprocess.Popen([sys.executable, "-m", "cli", "index", "add", str(corpus)], env=os.environ.copy(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(*p.communicate(timeout=300), p.returncode) for p in procs]
    assert all(code == 0 and "Traceback" not in err for _, err, code in results), results
    added = sum(int(out.split(" added")[0].rsplit(" ", 1)[1]) for out, _, _ in results)
    assert added == 5000
    stats = subprocess.run([sys.executable, "-m", "cli", "index", "stats", "--json"], capture_output=True, text=True)
    assert json.loads(stats.stdout)["documents"] == 5000


def test_fetch_a_page_and_a_local_document(sleuth, server):
    refused = sleuth("fetch", server.url + "/article")
    assert refused.returncode == 1 and "--allow-private" in one_line_error(refused)
    page = sleuth("fetch", "--allow-private", server.url + "/article")
    assert page.returncode == 0 and "Kentucky Tavern is a brand" in page.stdout
    as_json = json.loads(sleuth("fetch", "--allow-private", "--json", server.url + "/redirect/2").stdout)
    assert as_json["final_url"] == server.url + "/article" and as_json["status"] == 200
    sleuth("index", "add", str(SAMPLE_CORPUS))
    local = sleuth("fetch", "sleuth://doc/musique:536a2d140cdd")
    assert local.returncode == 0 and "Sazerac" in local.stdout


def test_control_sequences_from_a_page_never_reach_the_terminal(sleuth, server):
    for route in ("/terminal", "/terminal.html"):
        page = sleuth("fetch", "--allow-private", server.url + route)
        assert page.returncode == 0 and "Plain words." in page.stdout and "Red words." in page.stdout
        assert not any(ord(c) < 32 and c not in "\t\n" or 0x7f <= ord(c) <= 0x9f for c in page.stdout), repr(page.stdout)
    as_json = json.loads(sleuth("fetch", "--allow-private", "--json", server.url + "/terminal.html").stdout)
    assert as_json["title"].startswith("Title") and "\x1b" not in as_json["title"] + as_json["text"]


@pytest.mark.parametrize(
    "args, env, code, words",
    [
        (["search", "q", "--bogus"], {}, 2, "No such option"),
        (["search", ""], {}, 2, "QUERY: empty"),
        (["search", "  ", "--backend", "local"], {}, 2, "QUERY: empty"),
        (["search"], {}, 2, "Missing argument"),
        (["search", "q", "--backend", "bing"], {}, 2, "search_backend"),
        (["search", "q"], {"SLEUTH_SEARCH_BACKEND": "bing"}, 1, "search_backend"),
        (["search", "q", "--recency", "decade"], {}, 2, "--recency"),
        (["search", "q", "--backend", "local"], {}, 1, "sleuth index add"),
        (["search", "q"], {"SLEUTH_MAX_RESULTS": "lots"}, 1, "max_results"),
        (["index", "add", "/no/such/file.jsonl"], {}, 1, "does not exist"),
        (["index", "add", "/dev/null"], {}, 1, "not a regular file"),
        (["fetch", "file:///etc/passwd"], {}, 1, "only http and https"),
        (["fetch", "example.org/bourbon"], {}, 1, "example.org/bourbon is not a URL; write it with https://"),
        (["ask", ""], {}, 1, "the question is empty"),
        (["ask", "  ", "--search", "local"], {}, 1, "the question is empty"),
        (["memory", "recall", " "], {}, 2, "QUESTION: empty"),
        (["ask", "q", "--model", "qwen2.5-coder-1.5b"], {}, 1,
         "qwen2.5-coder-1.5b is not in sleuth's model catalogue; the nearest is qwen2.5-coder-1.5b-instruct"),
        (["ask", "q", "--model", "nosuch"], {}, 1, "nosuch is not a catalogue model (`sleuth model list`), a checkpoint"),
        (["ask", "q", "--thread", ""], {}, 2, "--thread: empty; give a thread id from `sleuth history`"),
        (["ask", "q", "--resume", " "], {}, 2, "--resume: empty; give a run id from `sleuth history`"),
        (["ask", "q", "--context", "40000"], {}, 2, "--context 40000 does not fit"),
        (["ask", "q"], {"SLEUTH_CONTEXT_TOKENS": "40000"}, 1, "SLEUTH_CONTEXT_TOKENS=40000 does not fit"),
    ],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(sleuth, args, env, code, words):
    result = sleuth(*args, env=env)
    assert result.returncode == code
    assert words in one_line_error(result)
