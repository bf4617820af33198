"""The local corpus: ingesting JSONL, Markdown, text and HTML into SQLite FTS5, and BM25 search."""

import json
import sqlite3
from pathlib import Path

import pytest

from tools.errors import CorpusError
from tools.search import EmptyCorpus, LocalIndex, SAMPLE_CORPUS, doc_id_from_url


@pytest.fixture
def index(tmp_path) -> LocalIndex:
    return LocalIndex(tmp_path / "corpus.db")


def test_sample_corpus_is_indexed_and_found(index):
    report = index.add(SAMPLE_CORPUS)
    lines = sum(1 for _ in SAMPLE_CORPUS.open())
    assert report.added == lines and not report.skipped
    hits = index.search_sync("Kentucky Tavern manufacturer", 5)
    assert hits[0].title == "Kentucky Tavern"
    assert doc_id_from_url(hits[0].url) == "musique:536a2d140cdd"
    assert "Sazerac" in hits[0].snippet or "bourbon" in hits[0].snippet


def test_adding_again_is_idempotent_and_changes_are_updated(index, tmp_path):
    first = index.add(SAMPLE_CORPUS)
    again = index.add(SAMPLE_CORPUS)
    assert again.added == 0 and again.unchanged == first.added
    assert index.count() == first.added
    changed = tmp_path / "changed.jsonl"
    row = json.loads(SAMPLE_CORPUS.open().readline())
    row["text"] += " Zyzzyva appears only in the new version."
    changed.write_text(json.dumps(row) + "\n")
    report = index.add(changed)
    assert report.updated == 1 and index.count() == first.added
    assert index.search_sync("zyzzyva", 3)[0].title == row["title"]


def test_folders_of_markdown_text_and_html(index, tmp_path):
    docs = tmp_path / "notes"
    (docs / "sub").mkdir(parents=True)
    (docs / "tea.md").write_text("# Oolong tea\n\nOolong is a traditional semi-oxidized Chinese tea.\n")
    (docs / "sub" / "coffee.txt").write_text("Arabica beans are grown at high altitude.\n")
    (docs / "page.html").write_bytes((Path(__file__).parent / "data" / "article.html").read_bytes())
    (docs / "ignored.bin").write_bytes(b"\x00\x01")
    (docs / "empty.txt").write_text("   \n")
    report = index.add(docs)
    assert report.added == 3 and report.files == 4
    assert any("empty.txt" in s for s in report.skipped)
    assert index.search_sync("semi-oxidized", 1)[0].title == "Oolong tea"
    assert index.search_sync("arabica altitude", 1)[0].title == "coffee"
    html_hit = index.search_sync("Monarch Distillery Owensboro", 1)[0]
    assert html_hit.title == "The Barton Distillery and its bourbons"
    assert "Subscribe" not in index.get(doc_id_from_url(html_hit.url)).text


def test_bad_lines_are_skipped_with_their_line_number(index, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"doc_id": "a", "title": "A", "text": "alpha"}\nnot json\n{"doc_id": "b"}\n{"title": "C", "text": "gamma", "url": "https://example.org/c"}\n')
    report = index.add(path)
    assert report.added == 2
    assert report.skipped == [f"{path}:2: not valid JSON", f"{path}:3: no 'text' field"]
    assert index.search_sync("gamma", 1)[0].url == "https://example.org/c"


def test_query_syntax_from_users_is_safe(index):
    index.add(SAMPLE_CORPUS)
    for query in ['"unbalanced', "AND OR NOT", "title:foo*", "(((", "C++ -- ;DROP TABLE docs"]:
        index.search_sync(query, 3)  # no FTS5 syntax error escapes
    assert index.search_sync("!!! ???", 3) == []


def test_missing_and_unsupported_paths_are_user_errors(index, tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        index.add(tmp_path / "nope.jsonl")
    (tmp_path / "x.docx").write_bytes(b"PK")
    with pytest.raises(CorpusError, match="not a supported file"):
        index.add(tmp_path / "x.docx")


async def test_empty_corpus_says_how_to_add_documents(index):
    with pytest.raises(EmptyCorpus, match="sleuth index add"):
        await index.search("anything")


def test_database_is_in_wal_mode(index):
    index.add(SAMPLE_CORPUS)
    with sqlite3.connect(index.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
