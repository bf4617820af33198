"""Ablation of the agents' workarounds for small models, on the dev set, in `rag` and `deep`.

    python bench/ablation.py [--limit 100] [--modes rag deep] [--concurrency 4] [--variants ...] [--out bench/results/ablation]

The questions are every k-th of the file (k = its size // --limit), so that each source dataset
is represented in proportion (the dev file is sorted by dataset).

Each variant turns one workaround off for the whole run by replacing its function, and answers the
same questions as the shipped code ("all on"). Every variant shares one memo of the model's replies,
kept in --out (memo.jsonl): decoding is greedy, so the same prompt gets the same reply, and a variant
pays only for the prompts it changes (a post-processing step changes none in `rag`); so does a run
again in the same --out after the code changed (delete its results-<variant>.jsonl and data-<variant> first:
finished questions are not run again). The prompts say the date of the first run in --out (kept in its
`today` file; `--today` sets it), so that a run on a later day replays them too. A replayed reply counts
as the call it replays, with its tokens; the seconds a question took measure speed only where nothing
was replayed. The model is a running
`sleuth serve` when one serves the configured model, else an engine started here. Prints a table (EM
and F1 of the short answer, the gold answer in the long text, citation precision, per mode and
variant, with the change in F1 against "all on") and writes ablation.json and results-<variant>.jsonl
to --out.
"""

import argparse
import asyncio
import contextvars
import datetime
import json
import sys
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents import Settings  # noqa: E402
from agents.evaluation import Evaluator, evaluate, load_questions, read_results, summarize  # noqa: E402
from agents.llm.base import CallRecord, as_messages, counting, record  # noqa: E402
from agents.session import open_chat  # noqa: E402
from agents.untrusted import instructions  # noqa: E402
from tools.clock import today  # noqa: E402
from tools.search import LocalIndex  # noqa: E402
from tools.text import MARKER  # noqa: E402

SHARED = ROOT.parent / "shared" / "bench"

# name -> {module attribute: replacement}; the replacement does what the code would do without the workaround
VARIANTS = {
    "all on": {},
    "no yes/no example turns": {"agents.prompts.is_yes_no": lambda question: False},
    # the plan filter's example-copy, off-topic and name checks; the injection check stays (a defence, not a workaround)
    "no on_topic (plan filter)": {"agents.planner.on_topic": lambda subs, question, done:
                                  [s for s in subs if not instructions(s.question)]},
    # the name check alone: a sub-question must name what it asks about ("What is the name of the country?" does not)
    "no name check": {"agents.planner.stands_alone": lambda sub, question: True},
    # the local search's passages of a document the query names by title, put first (tools.search.local)
    "no title-first search": {"tools.search.local.named_titles": lambda con, query: []},
    "no date comparison": {"agents.compare.decide": lambda question, findings: None},
    "no self-planned comparison": {"agents.compare.missing": lambda question, findings: None},
    # whether two share a country or place (agents.same): the decision alone, then the plan and the decision
    "no same-country decision": {"agents.same.decide": lambda question, findings: None},
    "no same-country comparison": {"agents.same.decide": lambda question, findings: None,
                                   "agents.same.missing": lambda question, findings: None},
    # a sub-answer citing no passage that names its subject is asked again of those that do (and, since
    # first_read uses it, a question naming a page by its title is first asked of every passage too)
    "no subject check": {"agents.searcher.about_subject": lambda question, chunks: []},
    # a question naming a page by its title is first asked of that page's passages and those of the pages it names
    "no subject-first reading": {"agents.searcher.first_read": lambda question, chunks: chunks},
    # ... and the page a question names by its full title ("Sabotage (1936 Film)") is that subject
    "no title match": {"agents.searcher.titled": lambda question, chunks: set()},
    # ... and what an answer rests on is the passages holding its words, not only the one it cites
    # (Frank Lloyd's birth date read while citing Frank Borzage's page)
    "no source check": {"agents.searcher.holding": lambda answer, chunks: {int(n) for n in MARKER.findall(answer)}},
    # a sub-answer that only repeats what the question names ("Paul Gross" for whom Paul Gross had a
    # child with) is asked again, the model told so
    "no repeat check": {"agents.searcher.repeats": lambda answer, question: False},
    # ... and so is the final short answer ("Lilu" for "If Gallu is a demon Lilu is what?")
    "no final repeat check": {"agents.answer.repeats": lambda answer, question: False},
    # ... and one whose cited passages do not hold its words cites the finding's passages that do
    "no citation from findings": {"agents.answer.cited_from_findings": lambda reply, nodes, number_of, sources: reply},
    # "Where was the director of film Jaws born?": the director, then where he was born (agents.chain)
    "no chain answer": {"agents.chain.decide": lambda question, findings: None},
    "no self-planned chain": {"agents.chain.missing": lambda question, findings: None,
                              "agents.chain.decide": lambda question, findings: None},
    # "Are A and B both board games?": each asked alone, and no if either is no (agents.both)
    "no self-planned both": {"agents.both.missing": lambda question, findings: None,
                             "agents.both.decide": lambda question, findings: None},
}
# Measured and deleted since, for not earning their keep (README, "Evaluation"): at commit 1b4ee08
# the searcher's first_sentence, ground (extract() in place of an ungrounded answer) and cite_best;
# at b74e57e a plan example of a comparison through a chain; at 59dcfc5 the question's disambiguator
# ("White Rabbit (Film)") put back into a sub-question that dropped it (agents.chain asks those itself);
# at b0c7edc the subject check's second answer kept out when it only names the subject back ("The euro");
# at 1fec487 an answer of the wrong kind ("April 19, 1978" for where) asked again, told the kind wanted,
# the passages about what a sub-question names shown first, and an answer saying "None" taken for none.
DEEP_ONLY = {"no on_topic (plan filter)", "no name check", "no date comparison", "no self-planned comparison", "no same-country decision",
             "no same-country comparison", "no final repeat check", "no citation from findings",
             "no chain answer", "no self-planned chain", "no self-planned both"}


class Memo:
    """A `ChatModel` that asks the model once per distinct request and replays the reply after: in
    this process, and in a later one through `path`, a JSON line per reply appended as it comes. So a
    run again in the same --out (another variant, or the code changed) pays only for the prompts it
    asks differently. A replayed call counts as the call it replays (its tokens and seconds)."""

    def __init__(self, chat, path: Path) -> None:
        self.chat, self.name, self.calls = chat, chat.name, chat.calls
        self.asked = 0
        self._stored: dict[str, tuple] = {}  # request -> (reply as JSON, its call records)
        self._asking: dict[str, asyncio.Task] = {}
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        for line in text.splitlines():
            try:
                stored = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interrupted run
            if stored["model"] == self.name:
                self._stored[stored["key"]] = stored["reply"], [CallRecord.model_validate(c) for c in stored["calls"]]
        self._out = path.open("a", encoding="utf-8")
        if text and not text.endswith("\n"):
            self._out.write("\n")  # what comes next starts a line of its own

    async def complete(self, messages, *, schema=None, max_tokens=256, temperature=0.0, stop=None):
        key = json.dumps([[m.model_dump() for m in as_messages(messages)], schema.__name__ if schema else None,
                          max_tokens, temperature, stop])
        if key not in self._stored:
            if key not in self._asking:
                self.asked += 1
                ask = self._ask(key, messages, schema=schema, max_tokens=max_tokens, temperature=temperature, stop=stop)
                # in a context of its own, so that the first caller counts its calls once, like every other (below)
                self._asking[key] = asyncio.get_running_loop().create_task(ask, context=contextvars.Context())
            await asyncio.shield(self._asking[key])
        reply, calls = self._stored[key]
        for call in calls:
            record([], call)  # counted in the caller's `counting()`, as the call itself was
        return reply if schema is None else schema.model_validate(reply)

    async def _ask(self, key: str, messages, *, schema, **kwargs) -> None:
        try:
            with counting() as calls:
                reply = await self.chat.complete(messages, schema=schema, **kwargs)
        finally:
            del self._asking[key]  # a failed call is asked again next time
        reply = reply if schema is None else reply.model_dump(mode="json")
        self._stored[key] = reply, calls
        self._out.write(json.dumps({"model": self.name, "key": key, "reply": reply,
                                    "calls": [c.model_dump(mode="json") for c in calls]}) + "\n")
        self._out.flush()

    def stream(self, messages, **kwargs):
        return self.chat.stream(messages, **kwargs)


async def main(args: argparse.Namespace) -> None:
    every = load_questions(args.questions)
    questions = every[:: max(1, len(every) // args.limit)][: args.limit]  # every k-th: each source dataset in proportion
    base = Settings.load(search_backend="local")
    corpus_db = args.out / "corpus.db"
    args.out.mkdir(parents=True, exist_ok=True)
    if not corpus_db.exists():
        LocalIndex(corpus_db).add(args.corpus)
    kept = args.out / "today"
    day = args.today or (datetime.date.fromisoformat(kept.read_text().strip()) if kept.exists() else today())
    kept.write_text(f"{day.isoformat()}\n")
    rows = []
    async with AsyncExitStack() as stack:
        memo = Memo(await open_chat(base, stack), args.out / "memo.jsonl")
        for mode in args.modes:  # every variant in rag first: it is cheap, deep is not
            for name, patches in VARIANTS.items():
                if mode != "deep" and name in DEEP_ONLY or name not in args.variants:
                    continue
                slug = name.split(" (")[0].replace(" ", "-").replace("/", "")
                s = base.model_copy(update={"data_dir": args.out / f"data-{slug}"})
                s.data_dir.mkdir(parents=True, exist_ok=True)
                if not s.corpus_path.exists():
                    LocalIndex(corpus_db).db.copy_to(s.corpus_path)
                results_path = args.out / f"results-{slug}.jsonl"
                with ExitStack() as patched:
                    for target in ("agents.researcher.today", "agents.evaluation.runner.today"):  # the prompts' date
                        patched.enter_context(mock.patch(target, lambda: day))
                    for target, replacement in patches.items():
                        patched.enter_context(mock.patch(target, replacement))
                    async with Evaluator(s, memo, LocalIndex(s.corpus_path)) as evaluator:
                        asked = memo.asked
                        await evaluate(evaluator, mode, questions, results_path, concurrency=args.concurrency)
                        print(f"{name} / {mode}: {memo.asked - asked} new model calls", file=sys.stderr, flush=True)
                summary = summarize([r for r in read_results(results_path) if r.id in {q.id for q in questions}])
                a = summary[mode]["all"]
                rows.append({"variant": name, "mode": mode, "questions": a["questions"], "em": a["em"], "f1": a["f1"],
                             "answer_in_text": a["answer_in_text"], "citation_precision": a["citation_precision"],
                             "failures": a["failures"]})
                write(args.out, len(questions), rows)
    print(table(rows))


def write(out: Path, questions: int, rows: list[dict]) -> None:
    """ablation.json, rewritten after each variant (a long run can be read while it goes on)."""
    shipped = {r["mode"]: r["f1"] for r in rows if r["variant"] == "all on"}
    for r in rows:
        r["f1_change"] = round(r["f1"] - shipped[r["mode"]], 4) if r["mode"] in shipped else None
    (out / "ablation.json").write_text(json.dumps({"questions": questions, "rows": rows}, indent=2) + "\n")


def table(rows: list[dict]) -> str:
    lines = ["| mode | variant | questions | EM | F1 | ΔF1 | answer in text | citation precision |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in sorted(rows, key=lambda r: (r["mode"] != "rag", r["mode"])):
        cp = "–" if r["citation_precision"] is None else f"{r['citation_precision']:.3f}"
        lines.append(f"| {r['mode']} | {r['variant']} | {r['questions']} | {r['em']:.3f} | {r['f1']:.3f} | "
                     f"{'–' if r['f1_change'] is None else format(r['f1_change'], '+.3f')} | {r['answer_in_text']:.3f} | {cp} |")
    return "\n".join(lines)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=Path, default=SHARED / "questions-dev.jsonl")
    p.add_argument("--corpus", type=Path, default=SHARED / "corpus.jsonl")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--modes", nargs="+", default=["rag", "deep"], choices=["rag", "deep"])
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="VARIANT",
                   help='the variants to run (default: all); "all on" is the one the others are compared with')
    p.add_argument("--today", type=datetime.date.fromisoformat, default=None,
                   help="the date the prompts say (default: that of the first run in --out, else today)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ablation")
    asyncio.run(main(p.parse_args()))
