"""Reading throughput: pages fetched, extracted, chunked and stored in memory per minute.

    python bench/pipeline.py [--corpus ../shared/bench/corpus.jsonl] [--pages 2000] [--levels 1,8,32,128]

A real HTTP server on loopback (its own process) serves corpus paragraphs as HTML pages: each a
few KB of realistic markup (navigation, sidebar, footer, scripts) around the article; one page in
50 is large (about 400 KB of article) and one in 50 answers only after a second. For each
concurrency level, sleuth's reader (`agents.Reader`: fetch, extract, chunk, store in a fresh
memory database) reads distinct pages with that many readers at once. Reported per level: pages
per minute, pages stored, lost and stored twice, and CPU use of the reading process and of the
server (percent of one core). Prints a table and writes bench/results/pipeline.json.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: tests.loopback

from agents.reader import Reader  # noqa: E402
from memory import AsyncMemory, Memory  # noqa: E402
from tools import Fetcher, FetchLimits  # noqa: E402
from tests.loopback import LoopbackServer, send  # noqa: E402
from tools.netguard import AddressPolicy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
NAV = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(30))
SIDEBAR = "".join(f'<li><a href="/page/{i}.html">Related article {i}</a></li>' for i in range(12))
TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} - Encyclopedia</title>
<meta name="viewport" content="width=device-width"><link rel="stylesheet" href="/static/site.css">
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}gtag('js',new Date());</script>
</head><body><header class="site"><a class="logo" href="/">Encyclopedia</a><form action="/search"><input name="q"></form>
<nav><ul>{nav}</ul></nav></header><main><article><h1>{title}</h1><p class="byline">From the encyclopedia</p>
{body}</article><aside><h2>Related</h2><ul>{sidebar}</ul></aside></main>
<footer><p>Text is available under the Creative Commons Attribution-ShareAlike License.</p>
<ul><li><a href="/privacy">Privacy</a></li><li><a href="/about">About</a></li><li><a href="/contact">Contact</a></li></ul>
</footer><script src="/static/app.js"></script></body></html>"""
SLOW, LARGE = 7, 13  # page i is slow when i % 50 == SLOW, large when i % 50 == LARGE


def render(i: int, docs: list[dict]) -> bytes:
    d = docs[i % len(docs)]
    paragraphs = [d["text"]]
    if i % 50 == LARGE:
        j = i
        while sum(map(len, paragraphs)) < 400_000:
            j += 7919
            paragraphs.append(docs[j % len(docs)]["text"])
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return TEMPLATE.format(title=d["title"], nav=NAV, sidebar=SIDEBAR, body=body).encode()


def serve(docs: list[dict], port: "multiprocessing.Value", ready: "multiprocessing.Event") -> None:
    def page(h) -> None:
        i = int(h.path.rsplit("/", 1)[1].split(".")[0])
        if i % 50 == SLOW:
            time.sleep(1.0)  # a slow server, on purpose (this is a benchmark, not a test)
        send(h, 200, render(i, docs), "text/html; charset=utf-8")

    server = LoopbackServer(page, backlog=512)
    port.value = server.port
    ready.set()
    server.httpd.serve_forever()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def read_all(urls: list[str], concurrency: int, db: Path) -> dict:
    memory = Memory(db)
    limits = FetchLimits(max_connections=concurrency, per_host=concurrency, read_timeout=30.0, total_timeout=60.0)
    async with Fetcher(limits, AddressPolicy(allowed_networks=("127.0.0.0/8",))) as fetcher:
        reader = Reader(fetcher, AsyncMemory(memory), freshness=timedelta(0))
        todo = list(reversed(urls))
        failed: list[str] = []

        async def worker() -> None:
            while todo:
                url = todo.pop()
                read = await reader.read(url)
                if not read.ok:
                    failed.append(f"{url}: {read.error}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    con = sqlite3.connect(db)
    stored, distinct = con.execute("SELECT count(*), count(DISTINCT canonical_url) FROM pages").fetchone()
    chunks = con.execute("SELECT count(*) FROM chunks").fetchone()[0]
    con.close()
    return {"stored": stored, "stored_twice": stored - distinct, "chunks": chunks, "failed": failed[:5],
            "lost": len(urls) - distinct}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus.jsonl")
    ap.add_argument("--pages", type=int, default=2000, help="pages read per concurrency level")
    ap.add_argument("--levels", default="1,8,32,128")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()
    docs = [json.loads(line) for line in args.corpus.open()]
    levels = [int(x) for x in args.levels.split(",")]

    port, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    server = multiprocessing.get_context("fork").Process(target=serve, args=(docs, port, ready), daemon=True)
    server.start()
    ready.wait(30)
    base = f"http://127.0.0.1:{port.value}/page"
    rows = []
    try:
        for n, k in enumerate(levels):
            urls = [f"{base}/{n * args.pages + i}.html" for i in range(args.pages)]  # new pages at every level
            with tempfile.TemporaryDirectory() as tmp:
                wall, cpu, srv = time.perf_counter(), time.process_time(), cpu_seconds(server.pid)
                result = asyncio.run(read_all(urls, k, Path(tmp) / "memory.db"))
                wall, cpu, srv = time.perf_counter() - wall, time.process_time() - cpu, cpu_seconds(server.pid) - srv
            rows.append({"concurrency": k, "pages": args.pages, "seconds": round(wall, 2),
                         "pages_per_min": round(args.pages / wall * 60), "reader_cpu_pct": round(100 * cpu / wall),
                         "server_cpu_pct": round(100 * srv / wall), **result})
            r = rows[-1]
            print(f"concurrency {k:>3}: {r['pages_per_min']:>6} pages/min  {r['seconds']:>6.1f} s  stored {r['stored']}  "
                  f"lost {r['lost']}  twice {r['stored_twice']}  cpu reader {r['reader_cpu_pct']}% server "
                  f"{r['server_cpu_pct']}%", flush=True)
    finally:
        server.terminate()

    print("\n| concurrency | pages | seconds | pages/min | stored | lost | stored twice | reader CPU | server CPU |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['concurrency']} | {r['pages']} | {r['seconds']:.1f} | {r['pages_per_min']:,} | {r['stored']} | "
              f"{r['lost']} | {r['stored_twice']} | {r['reader_cpu_pct']}% | {r['server_cpu_pct']}% |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pipeline.json").write_text(json.dumps({"cpus": os.cpu_count(), "levels": rows}, indent=2) + "\n")
    print(f"\nwrote {args.out / 'pipeline.json'}")


if __name__ == "__main__":
    main()
