"""HCAM-style chunk recall: look at coarse summaries of everything, then read the best chunks in detail.

Hierarchical Chunk Attention Memory (Lampinen et al., 2021) keeps the past in chunks, attends first
to one summary per chunk and only then to the details of the most relevant chunks. Here:
1. coarse: BM25 over chunk summaries (title, lead sentence, salient terms) and over page titles, so
   a page that is about the question brings its chunks even when no single summary matches;
2. detail: the candidates are re-scored by BM25 on their full text;
3. fill: whole chunks, best first, within the token budget and at most `per_page` chunks a page;
   what is left of the budget then reads the rest of the chosen pages, the best page first, so
   that a large budget gives the model documents, not shards. Returned in reading order (pages by
   relevance, chunks in page order). The candidates that did not fit are reported in `dropped`,
   with their scores.
"""

import math
import re
import sqlite3
import time
from dataclasses import dataclass

from memory.db import FTS_TOKENIZER, Database
from memory.knowledge import CHUNK_COLUMNS, chunk_from_row
from memory.models import Chunk, Dropped, Recall, RecallStats
from memory.scope import ALL, Scope
from tools.text import STOPWORDS, WORD as _WORD, fts_or, query_words


@dataclass(frozen=True)
class RecallParams:
    coarse_chunks: int = 100  # chunks taken from the summary search (at least; budget / 20 for larger budgets)
    coarse_pages: int = 20  # pages taken from the title search, each adding its first chunks (at least; budget / 100)
    chunks_per_title_page: int = 3
    per_page: int = 3  # at most this many chunks of one page in the result
    page_weight: float = 0.5  # how much a page's title relevance adds to its chunks' coarse score
    detail_weight: float = 1.0  # how much full-text relevance adds to the coarse score
    common_fraction: float = 0.02  # candidate search skips words found in more than this share of chunks
    common_min: int = 1000  # ... and in more than this many chunks (small memories keep every word)
    max_terms: int = 12  # and at most this many words, the rarest
    hop_from: int = 3  # follow names found in this many best chunks to the pages titled with them (0: off)
    hop_pages: int = 10
    hop_weight: float = 1.0


def recall(db: Database, query: str, *, budget_tokens: int, scope: Scope = ALL, params: RecallParams = RecallParams()) -> Recall:
    started = time.perf_counter()
    words = query_words(query)
    if not words:
        return _result([], [], 0, 0, budget_tokens, started)
    scope_sql, scope_args = scope.pages_sql()
    with db.connect() as con, con:  # a transaction: the temp-table writes below must not leave one open
        expr = fts_or(_informative(con, words, params))
        chunk_scope = f"SELECT id FROM chunks WHERE page_id IN ({scope_sql})" if scope_sql else ""
        # a larger budget looks at more candidates, so that it can be filled
        summary_scores = _top(con, "summaries_fts", expr, chunk_scope, scope_args,
                              max(params.coarse_chunks, budget_tokens // 20))
        title_scores = _top(con, "pages_fts", expr, scope_sql, scope_args, max(params.coarse_pages, budget_tokens // 100))
        candidates = _load(con, summary_scores, title_scores, params.chunks_per_title_page)
    detail_scores = _detail(query, candidates)

    top_summary = max(summary_scores.values(), default=1.0) or 1.0
    top_title = max(title_scores.values(), default=1.0) or 1.0
    top_detail = max(detail_scores.values(), default=1.0) or 1.0
    for c in candidates:
        c.score = (summary_scores.get(c.id, 0.0) / top_summary
                   + params.page_weight * title_scores.get(c.page_id, 0.0) / top_title
                   + params.detail_weight * detail_scores.get(c.id, 0.0) / top_detail)
    candidates.sort(key=_best_first)
    if params.hop_from and candidates:
        with db.connect() as con:
            hops = _hop(con, query, candidates[: params.hop_from], scope_sql, scope_args, params)
        known = {c.id for c in candidates}
        candidates += [h for h in hops if h.id not in known]
        candidates.sort(key=_best_first)

    chosen, dropped = _fit(candidates, budget_tokens, params.per_page)
    if chosen and sum(c.tokens for c in chosen) < budget_tokens:
        with db.connect() as con:
            chosen, dropped = _fill(con, chosen, dropped, budget_tokens)
    pages_considered = len({c.page_id for c in candidates})
    return _result(chosen, dropped, len(candidates), pages_considered, budget_tokens, started)


def _best_first(c: Chunk) -> tuple:
    """Score order; ties broken by page and position, not by row id: pages read at the same time
    are stored in whichever order they arrive, and the same pages must give the same recall."""
    return -c.score, c.url, c.ordinal


def _fit(candidates: list[Chunk], budget: int, cap: int) -> tuple[list[Chunk], list[Dropped]]:
    """The best candidates that fit the budget, at most `cap` from one page, in reading order:
    pages by their best chunk, a page's chunks in page order."""
    chosen: list[Chunk] = []
    dropped: list[Dropped] = []
    used = 0
    per_page: dict[int, int] = {}
    for c in candidates:
        reason = None
        if per_page.get(c.page_id, 0) >= cap:
            reason = "page cap"
        elif used + c.tokens > budget:
            reason = "budget"
        if reason:
            dropped.append(Dropped(chunk_id=c.id, page_id=c.page_id, url=c.url, score=c.score, tokens=c.tokens, reason=reason))
            continue
        chosen.append(c)
        used += c.tokens
        per_page[c.page_id] = per_page.get(c.page_id, 0) + 1
    return _reading_order(chosen), dropped


def _fill(con: sqlite3.Connection, chosen: list[Chunk], dropped: list[Dropped], budget: int) -> tuple[list[Chunk], list[Dropped]]:
    """What is left of the budget goes to the rest of the chosen pages, the best page first, each
    in page order, so that a large budget reads documents rather than shards. A candidate the
    page cap held back and that now does not fit is reported as dropped for the budget."""
    page_rank: dict[int, int] = {}
    best: dict[int, float] = {}
    for c in chosen:  # in reading order already: pages by rank
        page_rank.setdefault(c.page_id, len(page_rank))
        best[c.page_id] = max(best.get(c.page_id, c.score), c.score)
    have = {c.id for c in chosen}
    used = sum(c.tokens for c in chosen)
    marks = ",".join("?" * len(page_rank))
    rows = con.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks c JOIN pages p ON p.id = c.page_id "
                       f"WHERE c.page_id IN ({marks}) AND c.tokens <= ?", (*page_rank, budget - used)).fetchall()
    added = []
    for c in sorted((chunk_from_row(r) for r in rows), key=lambda c: (page_rank[c.page_id], c.ordinal)):
        if c.id in have or used + c.tokens > budget:
            continue
        c.score = best[c.page_id]
        added.append(c)
        used += c.tokens
    if not added:
        return chosen, dropped
    taken = {c.id for c in added}
    dropped = [d if d.reason != "page cap" else d.model_copy(update={"reason": "budget"})
               for d in dropped if d.chunk_id not in taken]
    return _reading_order(chosen + added, page_rank), dropped


def _reading_order(chunks: list[Chunk], page_rank: dict[int, int] | None = None) -> list[Chunk]:
    """Pages by rank (default: the order their first chunk comes in), a page's chunks in page order."""
    if page_rank is None:
        page_rank = {}
        for c in chunks:  # in score order: the first chunk of a page sets the page's rank
            page_rank.setdefault(c.page_id, len(page_rank))
    return sorted(chunks, key=lambda c: (page_rank[c.page_id], c.ordinal))


def _informative(con: sqlite3.Connection, words: list[str], params: RecallParams) -> list[str]:
    """Drop words that occur in a large share of all chunks ("film", "born", "american"): they add
    little to BM25 but make FTS5 score most of the index. The detail step still uses every word."""
    con.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_text USING fts5(x, {FTS_TOKENIZER})")
    con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_terms USING fts5vocab(temp, query_text, instance)")
    con.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.summary_terms USING fts5vocab(main, summaries_fts, row)")
    con.execute("DELETE FROM temp.query_text")
    con.execute("INSERT INTO temp.query_text(x) VALUES (?)", (" ".join(words),))
    stems = {offset: term for term, offset in con.execute("SELECT term, offset FROM temp.query_terms")}
    marks = ",".join("?" * len(stems))
    df = dict(con.execute(f"SELECT term, doc FROM temp.summary_terms WHERE term IN ({marks})", tuple(stems.values())))
    total = con.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0]
    limit = max(params.common_fraction * total, params.common_min)
    freq = [df.get(stems.get(i, ""), 0) for i in range(len(words))]
    kept = [w for w, f in zip(words, freq) if f <= limit]
    if not kept:
        return [w for _, w in sorted(zip(freq, words))[:2]]
    rarest = {w for _, w in sorted((f, w) for w, f in zip(words, freq) if w in kept)[: params.max_terms]}
    return [w for w in kept if w in rarest]


def _top(con: sqlite3.Connection, table: str, expr: str, scope_sql: str, scope_args: tuple, limit: int) -> dict[int, float]:
    """The best rows of an FTS5 table by BM25, best first: rowid -> score (higher is better)."""
    where = f"AND rowid IN ({scope_sql})" if scope_sql else ""
    return dict(con.execute(f"SELECT rowid, -rank FROM {table} WHERE {table} MATCH ? {where} ORDER BY rank LIMIT ?",
                            (expr, *scope_args, limit)))


def _load(con: sqlite3.Connection, chunk_scores: dict[int, float], page_scores: dict[int, float], per_page: int) -> list[Chunk]:
    rows = []
    if chunk_scores:
        marks = ",".join("?" * len(chunk_scores))
        rows += con.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks c JOIN pages p ON p.id = c.page_id WHERE c.id IN ({marks})",
                            tuple(chunk_scores)).fetchall()
    if page_scores:
        marks = ",".join("?" * len(page_scores))
        rows += con.execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks c JOIN pages p ON p.id = c.page_id WHERE c.page_id IN ({marks}) AND c.ordinal < ?",
            (*page_scores, per_page),
        ).fetchall()
    return [chunk_from_row(r) for r in {r[0]: r for r in rows}.values()]


def _detail(query: str, candidates: list[Chunk]) -> dict[int, float]:
    """BM25 of each candidate's full text, computed over the candidate set alone.

    Scoring only the candidates keeps this step's cost independent of how much memory holds; terms
    match by stem prefix ("manufacturer" finds "manufactured"), as the FTS index's stemmer does.
    """
    stems = query_stems(query)
    if not stems or not candidates:
        return {}
    pattern = re.compile(r"\b(?:" + "|".join(f"({re.escape(s)})" for s in stems) + r")\w*", re.IGNORECASE)
    counts = []
    for c in candidates:
        tf = [0] * len(stems)
        for m in pattern.finditer(c.text):
            tf[m.lastindex - 1] += 1
        counts.append(tf)
    n = len(candidates)
    df = [sum(1 for tf in counts if tf[i]) for i in range(len(stems))]
    idf = [math.log(1 + (n - d + 0.5) / (d + 0.5)) for d in df]
    avg_len = sum(c.tokens for c in candidates) / n or 1.0
    k1, b = 1.2, 0.75
    scores = {}
    for c, tf in zip(candidates, counts):
        norm = k1 * (1 - b + b * c.tokens / avg_len)
        scores[c.id] = sum(idf[i] * f * (k1 + 1) / (f + norm) for i, f in enumerate(tf) if f)
    return scores


_SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ies", "es", "ed", "ly", "s")


def query_stems(query: str) -> list[str]:
    """The question's content words, cut to a crude stem: enough to match inflected forms by prefix."""
    stems = []
    for word in _WORD.findall(query.lower()):
        if word in STOPWORDS or len(word) < 2:
            continue
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        stems.append(word)
    return list(dict.fromkeys(stems))


_NAME = re.compile(r"\b[A-Z][\w'’.-]*[\w](?:\s+[A-Z][\w'’.-]*[\w])*")


def _hop(con: sqlite3.Connection, query: str, best: list[Chunk], scope_sql: str, scope_args: tuple,
         params: RecallParams) -> list[Chunk]:
    """The second step of a multi-hop question: the best chunks name things (people, places, works)
    that the question does not; the pages titled with those names are often the missing evidence."""
    asked = {w.lower() for w in _WORD.findall(query)}
    names = []
    for chunk in best:
        for name in _NAME.findall(chunk.text):
            words = [w.lower() for w in _WORD.findall(name)]
            if not words or all(w in asked or w in STOPWORDS for w in words) or (len(words) == 1 and len(words[0]) < 4):
                continue
            names.append(name)
    names = list(dict.fromkeys(names))[:12]
    if not names:
        return []
    expr = " OR ".join('"' + " ".join(_WORD.findall(n)) + '"' for n in names)
    scores = _top(con, "pages_fts", expr, scope_sql, scope_args, params.hop_pages)
    if not scores:
        return []
    top = next(iter(scores.values())) or 1.0
    chunks = _load(con, {}, scores, 1)
    for c in chunks:
        c.score = params.hop_weight * scores[c.page_id] / top * best[0].score
    return chunks


def _result(chunks, dropped, candidates, pages_considered, budget, started) -> Recall:
    stats = RecallStats(
        candidates=candidates, pages_considered=pages_considered, pages_used=len({c.page_id for c in chunks}),
        chunks_used=len(chunks), tokens_used=sum(c.tokens for c in chunks), budget_tokens=budget,
        milliseconds=round((time.perf_counter() - started) * 1000, 2),
    )
    return Recall(chunks=chunks, dropped=dropped, stats=stats)
