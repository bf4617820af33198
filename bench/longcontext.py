"""What long reading buys: `rag` and `deep` on dev questions at several evidence budgets (`--context`).

    python bench/longcontext.py [--limit 60] [--budgets 2000 4000 8000 16000 30232] [--modes rag deep]
                                [--attention dense] [--concurrency 1] [--out bench/results/longcontext]

The questions are every k-th of the file (k = its size // --limit), so that each source dataset is
represented in proportion, and they run in an order whose every prefix is in proportion too. For
each attention mode one model is used: an engine started here, or a running `sleuth serve` of the
configured model (then give one --attention, the serve's), and for each budget the questions are
answered with `context_tokens` = the budget, each budget with
its own data dir (memory) over the same corpus. Prints a table per attention mode, budget and mode:
F1, EM, evidence recall among the pages read and among the pages whose passages were in a prompt,
citation precision, prompt tokens per question, seconds per question (p50), and F1's paired change
with a 95% bootstrap interval: from the first budget, or for sparse attention from dense at the same
budget when both are run; writes longcontext.json, longcontext.png (F1,
evidence in the prompt and seconds against the budget) and results-<attention>-<budget>.jsonl to
--out (an interrupted run resumes; `--report` only reports what --out holds). A run kept in the
repository goes to `--out bench/longcontext-runs/NAME`: its results are tracked, its corpus and
memory are not, and a later session on any machine resumes it with the same command.
"""

import argparse
import asyncio
import json
import random
import sys
from contextlib import AsyncExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents import Settings  # noqa: E402
from agents.evaluation import Evaluator, evaluate, load_questions, read_results, summarize  # noqa: E402
from agents.session import open_chat  # noqa: E402
from tools.search import LocalIndex  # noqa: E402

SHARED = ROOT.parent / "shared" / "bench"


async def main(args: argparse.Namespace) -> None:
    every = load_questions(args.questions)
    questions = in_proportion(every[:: max(1, len(every) // args.limit)][: args.limit])
    ids = {q.id for q in questions}
    args.out.mkdir(parents=True, exist_ok=True)
    corpus_db = args.out / "corpus.db"
    if not corpus_db.exists() and not args.report:
        LocalIndex(corpus_db).add(args.corpus)
    for attention in [] if args.report else args.attention:
        base = Settings.load(search_backend="local", attention=attention)
        async with AsyncExitStack() as stack:
            chat = await open_chat(base, stack)
            for budget in args.budgets:
                s = base.model_copy(update={"data_dir": args.out / f"data-{attention}-{budget}", "context_tokens": budget})
                s.data_dir.mkdir(parents=True, exist_ok=True)
                if not s.corpus_path.exists():
                    LocalIndex(corpus_db).db.copy_to(s.corpus_path)
                results_path = args.out / f"results-{attention}-{budget}.jsonl"
                async with Evaluator(s, chat, LocalIndex(s.corpus_path)) as evaluator:
                    for mode in args.modes:
                        await evaluate(evaluator, mode, questions, results_path, concurrency=args.concurrency)
                        report(args.out, ids)
                        print(f"{attention} {budget} {mode}: done", file=sys.stderr, flush=True)
    print(table(report(args.out, ids)))


def in_proportion(questions: list) -> list:
    """`questions` in an order whose every prefix holds each source dataset in proportion (the file is
    grouped by dataset), so that a long run stopped early is still a fair sample; within a dataset,
    file order."""
    by_dataset: dict[str, list] = {}
    for q in questions:
        by_dataset.setdefault(q.source_dataset, []).append(q)
    place = {q.id: (i + 0.5) / len(group) for group in by_dataset.values() for i, q in enumerate(group)}
    return sorted(questions, key=lambda q: place[q.id])


def report(out: Path, ids: set[str]) -> list[dict]:
    """The rows of every results file in `out` (dense first, budgets in order), written to
    longcontext.json and drawn in longcontext.png. Each mode's rows are over the questions that
    every run of the mode answered, so that a run still under way compares like with like."""
    rows, scores = [], {}
    runs = [(p.stem.split("-")[1], int(p.stem.split("-")[2]), read_results(p)) for p in out.glob("results-*-*.jsonl")]
    common: dict[str, set[str]] = {}  # per mode, the questions every run answered: a partial run is compared on those
    for *_, everything in runs:
        for mode in {r.mode for r in everything}:
            answered = {r.id for r in everything if r.mode == mode} & ids
            common[mode] = common.get(mode, answered) & answered
    for attention, budget, everything in sorted(runs, key=lambda r: (r[0] != "dense", r[1])):
        for mode in dict.fromkeys(r.mode for r in everything):
            results = [r for r in everything if r.mode == mode and r.id in common[mode]]
            if not results:
                continue
            a = summarize(results)[mode]["all"]
            f1 = scores[(attention, budget, mode)] = {r.id: r.f1 for r in results}
            first = next(v for (at, _, m), v in scores.items() if (at, m) == (attention, mode))
            reference = scores.get(("dense", budget, mode)) if attention == "sparse" else None
            rows.append({"attention": attention, "budget": budget, "mode": mode, "questions": a["questions"],
                         "em": a["em"], "f1": a["f1"], "evidence_recall": a["evidence_recall"],
                         "evidence_in_prompt": a["evidence_in_prompt"], "citation_precision": a["citation_precision"],
                         "prompt_tokens": round(sum(r.prompt_tokens for r in results) / len(results)),
                         "seconds_p50": a["latency_p50_s"], "failures": a["failures"],
                         "f1_change": paired_change(reference or first, f1)})
    (out / "longcontext.json").write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    plot(rows, out / "longcontext.png")
    return rows


def paired_change(before: dict[str, float], after: dict[str, float], draws: int = 2000) -> list[float]:
    """Mean F1 change over the questions both runs answered, and its 95% bootstrap interval."""
    diffs = [after[i] - before[i] for i in sorted(before.keys() & after.keys())]
    if not diffs:
        return [0.0, 0.0, 0.0]
    rng = random.Random(0)
    means = sorted(sum(rng.choices(diffs, k=len(diffs))) / len(diffs) for _ in range(draws))
    return [sum(diffs) / len(diffs), means[int(0.025 * draws)], means[int(0.975 * draws) - 1]]


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), dpi=120)
    for key, ax, label in (("f1", axes[0], "F1"), ("evidence_in_prompt", axes[1], "supporting page in the prompt"),
                           ("seconds_p50", axes[2], "seconds a question (p50)")):
        for line in sorted({(r["attention"], r["mode"]) for r in rows}):
            r = [x for x in rows if (x["attention"], x["mode"]) == line and x[key] is not None]
            ax.plot([x["budget"] for x in r], [x[key] for x in r], "o-", label=" ".join(line))
        ax.set_xscale("log", base=2)
        budgets = sorted({x["budget"] for x in rows})
        ax.set_xticks(budgets, [f"{b:,}" for b in budgets], fontsize=7)
        ax.minorticks_off()
        ax.set_ylim(0, 1 if key != "seconds_p50" else None)
        ax.set_xlabel("evidence budget (--context tokens)")
        ax.set_title(label, fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def table(rows: list[dict]) -> str:
    f = lambda v, d=3: "–" if v is None else f"{v:.{d}f}"
    lines = ["| attention | budget | mode | questions | EM | F1 | evidence recall (read / in prompt) | citation precision | "
             "prompt tokens | s / question (p50) | F1 change (95%): from the first budget; sparse: from dense | failures |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['attention']} | {r['budget']:,} | {r['mode']} | {r['questions']} | {f(r['em'])} | {f(r['f1'])} | "
                     f"{f(r['evidence_recall'])} / {f(r['evidence_in_prompt'])} | {f(r['citation_precision'])} | "
                     f"{r['prompt_tokens']:,} | {f(r['seconds_p50'], 1)} | "
                     f"{r['f1_change'][0]:+.3f} ({r['f1_change'][1]:+.3f} to {r['f1_change'][2]:+.3f}) | {r['failures']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=Path, default=SHARED / "questions-dev.jsonl")
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus.jsonl")
    p.add_argument("--limit", type=int, default=60)
    p.add_argument("--budgets", type=int, nargs="+", default=[2000, 4000, 8000, 16000, 30232])
    p.add_argument("--modes", nargs="+", default=["rag", "deep"], choices=["rag", "deep"])
    p.add_argument("--attention", nargs="+", default=["dense"], choices=["dense", "sparse"])
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "longcontext")
    p.add_argument("--report", action="store_true", help="only print the table and draw the plot of the results in --out")
    asyncio.run(main(p.parse_args()))
