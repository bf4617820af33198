"""Memory benchmark: ingest throughput, HCAM recall against a plain FTS5 baseline, recall latency at scale.

    python bench/memory.py [--corpus ../shared/bench/corpus.jsonl] [--questions ...] [--scale-to 150000]

1. Ingests the corpus as pages (one page per paragraph, `sleuth://doc/<id>` URLs) into a fresh
   memory database and reports pages per second.
2. For every question and budget (2000, 4000, 8000 tokens), evidence recall: the fraction of the
   question's supporting titles among the pages of the recalled chunks. The baseline is plain FTS5
   BM25 over chunk text, filled in rank order into the same budget.
3. Adds copies of the corpus (new ids, text marked as a copy) until memory holds `--scale-to`
   chunks, and measures recall latency there.
Prints a table and writes bench/results/memory.json.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# This script shares its name with the package it measures: keep bench/ off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from memory import Memory  # noqa: E402
from tools.clock import now  # noqa: E402
from tools.fetch import Page  # noqa: E402
from tools.documents import doc_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"


def pages_of(rows: list[dict], copy: int = 0) -> list[Page]:
    fetched = now()
    out = []
    for d in rows:
        doc_id = d["doc_id"] if copy == 0 else f"{d['doc_id']}~{copy}"
        text = d["text"] if copy == 0 else f"{d['text']} (copy {copy})"
        out.append(Page(url=doc_url(doc_id), final_url=doc_url(doc_id), title=d["title"], text=text, fetched_at=fetched, status=200))
    return out


def ingest(memory: Memory, pages: list[Page], batch: int = 1000) -> float:
    start = time.perf_counter()
    for i in range(0, len(pages), batch):
        memory.knowledge.add_many(pages[i : i + batch], backend="local")
    return time.perf_counter() - start


def baseline(memory: Memory, question: str, budget: int) -> tuple[set[str], float]:
    """Plain BM25 over chunk text, best first, whole chunks while they fit the budget."""
    start = time.perf_counter()
    used, titles = 0, set()
    for chunk in memory.knowledge.search(question, limit=200):
        if used + chunk.tokens <= budget:
            used += chunk.tokens
            titles.add(chunk.title)
    return titles, (time.perf_counter() - start) * 1000


def hcam(memory: Memory, question: str, budget: int) -> tuple[set[str], float]:
    start = time.perf_counter()
    result = memory.recall(question, budget_tokens=budget)
    return {c.title for c in result.chunks}, (time.perf_counter() - start) * 1000


def evidence(titles: set[str], question: dict) -> float:
    wanted = question["supporting_titles"]
    return sum(t in titles for t in wanted) / len(wanted)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus.jsonl")
    ap.add_argument("--questions", type=Path, default=SHARED / "questions-dev.jsonl")
    ap.add_argument("--budgets", type=int, nargs="+", default=[2000, 4000, 8000])
    ap.add_argument("--scale-to", type=int, default=150_000, help="chunks in memory for the latency at scale")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()

    rows = [json.loads(line) for line in args.corpus.open()]
    questions = [json.loads(line) for line in args.questions.open()]
    result: dict = {"machine": {"cpus": os.cpu_count()}, "questions": len(questions)}
    with tempfile.TemporaryDirectory() as tmp:
        memory = Memory(Path(tmp) / "memory.db")
        seconds = ingest(memory, pages_of(rows))
        stats = memory.knowledge.stats()
        result["ingest"] = {"pages": stats["pages"], "chunks": stats["chunks"], "seconds": round(seconds, 2),
                            "pages_per_second": round(len(rows) / seconds)}

        result["recall"] = []
        for budget in args.budgets:
            line = {"budget_tokens": budget}
            for name, method in (("hcam", hcam), ("baseline", baseline)):
                scores, times = [], []
                for q in questions:
                    titles, ms = method(memory, q["question"], budget)
                    scores.append(evidence(titles, q))
                    times.append(ms)
                line[name] = {"evidence_recall": round(statistics.mean(scores), 4), "ms_p50": pct(times, 0.5), "ms_p95": pct(times, 0.95)}
            result["recall"].append(line)

        latency = [{"chunks": stats["chunks"], **_latency(memory, questions)}]
        copy = 0
        while memory.knowledge.stats()["chunks"] < args.scale_to:
            copy += 1
            ingest(memory, pages_of(rows, copy))
        if copy:
            latency.append({"chunks": memory.knowledge.stats()["chunks"], **_latency(memory, questions)})
        result["latency"] = latency

    _print(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "memory.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {args.out / 'memory.json'}")


def _latency(memory: Memory, questions: list[dict], budget: int = 2000) -> dict:
    for q in questions[:20]:
        memory.recall(q["question"], budget_tokens=budget)  # warm the page cache
    hcam_ms = [hcam(memory, q["question"], budget)[1] for q in questions]
    base_ms = [baseline(memory, q["question"], budget)[1] for q in questions]
    return {"hcam_ms_p50": pct(hcam_ms, 0.5), "hcam_ms_p95": pct(hcam_ms, 0.95),
            "baseline_ms_p50": pct(base_ms, 0.5), "baseline_ms_p95": pct(base_ms, 0.95)}


def _print(r: dict) -> None:
    i = r["ingest"]
    print(f"Ingest: {i['pages']:,} pages, {i['chunks']:,} chunks in {i['seconds']} s ({i['pages_per_second']:,} pages/s)\n")
    print(f"Evidence recall over {r['questions']} questions (fraction of supporting titles recalled):\n")
    print("| budget (tokens) | HCAM recall | FTS5 baseline | HCAM p50 / p95 ms | baseline p50 / p95 ms |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for line in r["recall"]:
        h, b = line["hcam"], line["baseline"]
        print(f"| {line['budget_tokens']:,} | {h['evidence_recall']:.3f} | {b['evidence_recall']:.3f} | "
              f"{h['ms_p50']} / {h['ms_p95']} | {b['ms_p50']} / {b['ms_p95']} |")
    print("\nRecall latency (budget 2,000 tokens):\n")
    print("| chunks in memory | HCAM p50 / p95 ms | baseline p50 / p95 ms |")
    print("| ---: | ---: | ---: |")
    for line in r["latency"]:
        print(f"| {line['chunks']:,} | {line['hcam_ms_p50']} / {line['hcam_ms_p95']} | {line['baseline_ms_p50']} / {line['baseline_ms_p95']} |")


if __name__ == "__main__":
    main()
