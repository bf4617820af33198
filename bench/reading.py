"""What a reading budget puts in front of the model, without a model: `rag` on dev questions at
several evidence budgets (`--context`), each answer step's prompt measured instead of answered.

    python bench/reading.py [--limit 400] [--budgets 500 1000 2000 4000 8000 16000 30232] [--out FILE]

The searcher runs as `sleuth eval --mode rag` runs it (the question as its one query, the local
corpus, memory recall within the budget), with a scripted model standing in for the real one: it
answers nothing, so only the reading is measured. Per budget: the prompt's tokens (the default
model's tokenizer), pages read, passages given, and evidence recall among the pages read and among
the pages whose passages were in the prompt (supporting titles found). Prints a table, writes JSON.
"""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents import Settings  # noqa: E402
from agents.evaluation import Evaluator, evaluate, load_questions  # noqa: E402
from agents.llm import ScriptedChat  # noqa: E402
from tools.search import LocalIndex  # noqa: E402

SHARED = ROOT.parent / "shared" / "bench"


def tokenizer():
    from transformers import AutoTokenizer

    from attention_runtime import resolve

    return AutoTokenizer.from_pretrained(resolve(Settings.load().model, Settings.load().data_dir))


async def measure(questions, corpus_db: Path, budget: int, count) -> dict:
    prompts: list[int] = []
    passages: list[int] = []

    def rule(messages, schema):
        last = messages[-1].content
        prompts.append(count("\n".join(m.content for m in messages)))
        passages.append(sum(1 for line in last.splitlines() if line.startswith("[")))
        return ""  # no answer: the searcher reports nothing found, the reading is what is measured

    with tempfile.TemporaryDirectory() as tmp:
        s = Settings.load(search_backend="local", data_dir=Path(tmp), context_tokens=budget)
        LocalIndex(corpus_db).db.copy_to(s.corpus_path)  # the fetcher reads sleuth:// documents from the data dir's corpus
        started = time.perf_counter()
        async with Evaluator(s, ScriptedChat(rule), LocalIndex(s.corpus_path)) as evaluator:
            results = await evaluate(evaluator, "rag", questions, Path(tmp) / "results.jsonl", concurrency=4)
        seconds = time.perf_counter() - started
    mean = lambda xs: round(statistics.fmean(xs), 3) if xs else None
    return {"budget": budget, "questions": len(results),
            "prompt_tokens_mean": round(statistics.fmean(prompts)) if prompts else 0,
            "prompt_tokens_max": max(prompts, default=0),
            "passages_mean": mean(passages),
            "pages_read_mean": mean([r.pages_read for r in results]),
            "evidence_recall": mean([r.evidence_recall for r in results if r.evidence_recall is not None]),
            "evidence_in_prompt": mean([r.evidence_in_prompt for r in results if r.evidence_in_prompt is not None]),
            "all_evidence_in_prompt": mean([float(r.evidence_in_prompt == 1.0) for r in results
                                            if r.evidence_in_prompt is not None]),
            "seconds_per_question": round(seconds / max(1, len(results)), 3)}


async def main(args: argparse.Namespace) -> None:
    every = load_questions(args.questions)
    questions = every[:: max(1, len(every) // args.limit)][: args.limit]
    count = (lambda text, tok=tokenizer(): len(tok(text).input_ids))
    with tempfile.TemporaryDirectory() as tmp:
        corpus_db = Path(tmp) / "corpus.db"
        LocalIndex(corpus_db).add(args.corpus)
        rows = []
        for budget in args.budgets:
            rows.append(await measure(questions, corpus_db, budget, count))
            print(f"budget {budget}: {rows[-1]['prompt_tokens_mean']} prompt tokens", file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    print(table(rows))


def table(rows: list[dict]) -> str:
    lines = ["| budget | questions | prompt tokens (mean / max) | passages | pages read | evidence recall (read / in prompt) "
             "| all evidence in prompt |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['budget']:,} | {r['questions']} | {r['prompt_tokens_mean']:,} / {r['prompt_tokens_max']:,} | "
                     f"{r['passages_mean']} | {r['pages_read_mean']} | {r['evidence_recall']} / {r['evidence_in_prompt']} | "
                     f"{r['all_evidence_in_prompt']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=Path, default=SHARED / "questions-dev.jsonl")
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus.jsonl")
    p.add_argument("--limit", type=int, default=400)
    p.add_argument("--budgets", type=int, nargs="+", default=[500, 1000, 2000, 4000, 8000, 16000, 30232])
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reading.json")
    asyncio.run(main(p.parse_args()))
