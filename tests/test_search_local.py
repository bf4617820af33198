"""The local corpus: ingesting JSONL, Markdown, text and HTML into SQLite FTS5, and BM25 search."""

import json
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
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


def test_a_document_the_query_names_by_title_comes_first(index, tmp_path):
    towns = [("Ellis, Kansas", "Ellis is a city in Ellis County, Kansas. The population was 2,062 at the 2010 census."),
             ("Brown County, Kansas", "Brown County is a county in Kansas. Its population was 9,984 in 2010."),
             ("Kansas City metropolitan area", "The Kansas City metropolitan area has a population of 2,392,035.")]
    rows = [*towns, ("Kansas", "Kansas is a U.S. state in the Midwestern United States. Its capital is Topeka and its "
                               "largest city is Wichita; 2,913,123 people lived there in 2018, the census estimated.")]
    corpus = tmp_path / "kansas.jsonl"
    corpus.write_text("".join(json.dumps({"doc_id": f"k{i}", "title": t, "text": x}) + "\n" for i, (t, x) in enumerate(rows)))
    index.add(corpus)
    # BM25 alone puts the towns first: short passages that say "population" and "Kansas" both
    assert [h.title for h in index.search_sync("What is the population of Kansas?", 4)][0] == "Kansas"
    assert [h.title for h in index.search_sync("population of Ellis, Kansas", 2)][0] == "Ellis, Kansas"  # the longer name
    assert [h.title for h in index.search_sync("Kansas's population", 2)][0] == "Kansas"


def test_adding_again_is_idempotent_and_changes_are_updated(index, tmp_path):
    first = index.add(SAMPLE_CORPUS)
    again = index.add(SAMPLE_CORPUS)
    assert again.added == 0 and again.unchanged == first.added
    assert index.stats()["documents"] == first.added
    changed = tmp_path / "changed.jsonl"
    row = json.loads(SAMPLE_CORPUS.open().readline())
    row["text"] += " Zyzzyva appears only in the new version."
    changed.write_text(json.dumps(row) + "\n")
    report = index.add(changed)
    assert report.updated == 1 and index.stats()["documents"] == first.added
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
    assert report.skipped == [f"{path}:2: not valid JSON (Expecting value at column 1)", f"{path}:3: no 'text' field"]
    assert index.search_sync("gamma", 1)[0].url == "https://example.org/c"


def test_each_unreadable_line_is_reported_and_the_rest_kept(tmp_path):
    index = LocalIndex(tmp_path / "corpus.db", max_document_bytes=2000)
    path = tmp_path / "hostile.jsonl"
    lines = [
        b'{"doc_id": "a", "title": "A", "text": "alpha words"}',
        b'{"doc_id": "s", "text": "lone \\ud800 surrogate"}',
        b'{"doc_id": "u", "text": "bad \xff byte"}',
        b"[" * 1500,
        b'{"doc_id": "big", "text": "' + b"x" * 5000 + b'"}',
        b'{"doc_id": "b", "title": "B", "text": "beta words"}',
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = index.add(path)
    assert report.added == 2 and index.search_sync("beta", 1)[0].title == "B"
    assert [r.split(": ", 1)[0] for r in report.skipped] == [f"{path}:{n}" for n in (2, 3, 4, 5)]
    assert "surrogate" in report.skipped[0] and "UTF-8" in report.skipped[1]
    assert "nested" in report.skipped[2] and "2,000 bytes" in report.skipped[3]


def test_a_text_file_over_the_cap_is_cut_and_reported(tmp_path):
    index = LocalIndex(tmp_path / "corpus.db", max_document_bytes=4096)
    path = tmp_path / "book.md"
    path.write_text("# The book\n" + "Ünïcode words everywhere. " * 1000 + "\nThe hidden ending.\n")
    report = index.add(path)
    assert report.added == 1 and len(report.cut) == 1 and "4,09" in report.cut[0]
    assert index.search_sync("everywhere", 1)[0].title == "The book"
    assert index.search_sync("hidden ending", 1) == []


def test_a_long_document_gives_a_short_snippet_around_its_match(index, tmp_path):
    """FTS5's snippet() is quadratic in a document's length (this one took 3 minutes): the long
    document's snippet is cut from around its first match instead. The 60 s bound is a hang guard."""
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"doc_id": "long", "title": "Long", "text": "zebra crossing word " * 50_000}) + "\n")
    index.add(path)
    with ThreadPoolExecutor(1) as pool:
        hits = pool.submit(index.search_sync, "zebra crossing", 3).result(timeout=60)
    assert hits[0].title == "Long" and "zebra crossing" in hits[0].snippet and len(hits[0].snippet) < 400


def test_devices_and_pipes_are_refused_without_reading(index, tmp_path):
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/null")):
        with pytest.raises(CorpusError, match="not a regular file"):
            index.add(target)


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


def test_a_copy_of_a_freshly_indexed_corpus_holds_every_document(index, tmp_path):
    """What the write-ahead log still holds is in the copy (a plain file copy would miss it)."""
    added = index.add(SAMPLE_CORPUS).added
    assert Path(f"{index.path}-wal").stat().st_size > 0  # the index is open: its last writes are in the log
    index.db.copy_to(tmp_path / "copy" / "corpus.db")
    copy = LocalIndex(tmp_path / "copy" / "corpus.db")
    assert copy.stats()["documents"] == added
    assert copy.search_sync("Kentucky Tavern manufacturer", 1)[0].title == "Kentucky Tavern"
