"""Local corpus benchmark: time to index the offline corpus and time per BM25 query.

    python bench/search_local.py [--corpus ../shared/bench/corpus.jsonl] [--questions ...] [--out bench/results]

Indexes the corpus into a fresh SQLite file, then runs every benchmark question as a query (each
once to warm up, then timed). Also reports how often a supporting title is among the top 10 hits,
so speed is never bought with relevance. Prints a table and writes JSON.
"""

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from tools.search import LocalIndex

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus.jsonl")
    ap.add_argument("--questions", type=Path, default=SHARED / "questions-dev.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()

    questions = [json.loads(line) for line in args.questions.open()]
    with tempfile.TemporaryDirectory() as tmp:
        index = LocalIndex(Path(tmp) / "corpus.db")
        report = index.add(args.corpus)
        readd = index.add(args.corpus)
        for q in questions:
            index.search_sync(q["question"], args.k)
        times, found = [], 0
        for q in questions:
            start = time.perf_counter()
            hits = index.search_sync(q["question"], args.k)
            times.append((time.perf_counter() - start) * 1000)
            titles = {h.title for h in hits}
            found += any(t in titles for t in q.get("supporting_titles", []))
        size = index.path.stat().st_size

    times.sort()
    result = {
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "documents": report.added,
        "index_seconds": round(report.seconds, 2),
        "docs_per_second": round(report.added / report.seconds),
        "readd_seconds": round(readd.seconds, 2),
        "readd_unchanged": readd.unchanged,
        "index_mb": round(size / 1e6, 1),
        "queries": len(times),
        "query_ms_p50": round(statistics.median(times), 2),
        "query_ms_p95": round(times[int(0.95 * (len(times) - 1))], 2),
        "query_ms_max": round(times[-1], 2),
        f"supporting_title_in_top{args.k}": round(found / len(questions), 3),
    }
    rows = [
        ("documents indexed", f"{result['documents']:,}"),
        ("index time", f"{result['index_seconds']} s ({result['docs_per_second']:,} docs/s)"),
        ("re-add (all unchanged)", f"{result['readd_seconds']} s"),
        ("index size", f"{result['index_mb']} MB"),
        ("query p50 / p95 / max", f"{result['query_ms_p50']} / {result['query_ms_p95']} / {result['query_ms_max']} ms"),
        (f"a supporting title in top {args.k}", f"{result[f'supporting_title_in_top{args.k}']:.1%} of {len(questions)} questions"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure'.ljust(width)} | value |\n| {'-' * width} | --- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "search_local.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {args.out / 'search_local.json'}")


if __name__ == "__main__":
    main()
