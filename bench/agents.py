"""Agents benchmark: orchestration overhead and parallel speed-up, with a scripted model.

    python bench/agents.py [--corpus ../shared/bench/corpus.jsonl]

The full corpus is indexed for local search. A scripted model plans 10 independent sub-questions
(one round), rewrites each into its own query, answers each from its passages, and writes the
final answer. (1) With instant replies, the wall time is sleuth's own work: graphs, search, reading
into memory, recall, checkpoints. (2) With 200 ms per model call, the wall time should follow the
plan's critical path (plan, rewrite, answer, respond: 4 calls) rather than the number of calls
(32): the speed-up is calls x delay / (wall time - overhead). Prints a table, writes JSON.
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

# This script shares its name with the package it measures: keep bench/ off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from agents import Limits, Researcher, Settings  # noqa: E402
from agents.llm import ScriptedChat  # noqa: E402
from agents.prompts import PlanStep, Queries, SubQuestion  # noqa: E402
from tools.search import LocalIndex  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
TOPICS = ["Kentucky Tavern", "Barton Distillery", "Sazerac Company", "Bardstown", "Glenmore Distillery",
          "Owensboro", "bourbon whiskey", "James Thompson", "United Distillers", "Louisville"]
QUESTION = "What connects " + ", ".join(TOPICS) + "?"


def rule(messages, schema):
    text = messages[-1].content
    if schema is PlanStep:
        if text.endswith("(nothing yet)"):
            return PlanStep(sub_questions=[SubQuestion(question=f"What is {t} in this question?") for t in TOPICS[:4]])
        n = text.count(" -> ")
        if n < len(TOPICS):
            return PlanStep(sub_questions=[SubQuestion(question=f"What is {t} in this question?") for t in TOPICS[n:n + 4]][: len(TOPICS) - n])
        return PlanStep(finish=True)
    if schema is Queries:
        return Queries(queries=[text.rsplit("Question: ", 1)[1].strip()])
    if "Findings:" in text:
        return " ".join(line[2:] for line in text.splitlines() if line.startswith("- "))
    return "It is described in the passage [1]."


async def run(settings: Settings, delay: float) -> tuple[float, int, int]:
    chat = ScriptedChat(rule, delay=delay)
    start = time.perf_counter()
    answer = await Researcher(settings, chat=chat, limits=Limits(max_nodes=10, max_rounds=6)).aask(QUESTION)
    return time.perf_counter() - start, len(chat.requests), len(answer.plan)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--delay", type=float, default=0.2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SLEUTH_CONFIG"] = str(Path(tmp) / "none.toml")
        settings = Settings.load(data_dir=Path(tmp), search_backend="local")
        LocalIndex(settings.corpus_path).add(args.corpus)
        asyncio.run(run(settings, 0.0))  # warm: imports, first connections
        instant, calls, nodes = asyncio.run(run(settings, 0.0))
        delayed, calls_d, _ = asyncio.run(run(settings, args.delay))
    serial = calls_d * args.delay
    result = {"sub_questions": nodes, "llm_calls": calls, "instant_s": round(instant, 3),
              "delay_s": args.delay, "delayed_s": round(delayed, 3), "serial_model_time_s": round(serial, 2),
              "model_time_in_wall_s": round(delayed - instant, 2),
              "speedup_vs_serial_calls": round(serial / max(delayed - instant, 1e-9), 2)}
    rows = [("sub-questions (rounds of at most 4)", nodes), ("LLM calls", calls),
            ("wall time, instant model", f"{instant:.2f} s"),
            (f"wall time, {args.delay * 1000:.0f} ms per call", f"{delayed:.2f} s"),
            ("model time if calls ran one by one", f"{serial:.1f} s"),
            ("model time actually added", f"{delayed - instant:.2f} s ({result['speedup_vs_serial_calls']}x less)")]
    print("| measure | value |\n| --- | --- |")
    for k, v in rows:
        print(f"| {k} | {v} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "agents.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {args.out / 'agents.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
