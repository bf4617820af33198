"""`sleuth eval`: answer questions with known answers in several modes and score them."""

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agents import Limits, Settings
from agents.evaluation import MODES, Evaluator, evaluate, load_questions, read_results, summarize, summary_markdown
from agents.session import open_chat, search_backend
from cli import render, terminal
from cli.ask_cmd import Attention, Context
from cli.chart import modes_chart
from tools.search import LocalIndex

_err = terminal.err


def eval_cmd(
    ctx: typer.Context,
    questions: Annotated[Path, typer.Argument(help="JSONL: id, question, answer, aliases, supporting_titles.")],
    corpus: Annotated[Optional[Path], typer.Option(help="Index this corpus for the evaluation and search it locally.")] = None,
    mode: Annotated[Optional[list[str]], typer.Option(help="direct, rag or deep; repeat for several (default: all three).")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N questions.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Questions answered at once.")] = 4,
    out: Annotated[Path, typer.Option(help="Where results.jsonl, summary.json, summary.md and modes.png go.")] = Path("sleuth-eval"),
    model: Annotated[Optional[str], typer.Option(help="Catalogue name (`sleuth model list`), checkpoint folder or Hugging Face id.")] = None,
    llm_url: Annotated[Optional[str], typer.Option("--llm-url", help="Use an OpenAI-compatible server instead.")] = None,
    attention: Annotated[Optional[str], Attention] = None,
    context: Annotated[Optional[int], Context] = None,
    max_nodes: Annotated[int, typer.Option("--max-nodes", min=1, max=50, help="Most sub-questions (deep).")] = 8,
) -> None:
    """Score sleuth on questions with known answers; an interrupted evaluation resumes where it stopped."""
    modes = mode or list(MODES)
    if bad := [m for m in modes if m not in MODES]:
        render.error(f"unknown mode {bad[0]!r}; use direct, rag or deep.")
        raise typer.Exit(2)
    qs = load_questions(questions, limit)
    user = Settings.load(**ctx.obj, model=model, llm_url=llm_url, attention=attention, context_tokens=context)
    s = user.model_copy(update={"data_dir": out / "data", "search_backend": "local" if corpus else user.search_backend})
    s.data_dir.mkdir(parents=True, exist_ok=True)
    if corpus:
        LocalIndex(s.corpus_path).add(corpus)
    results_path = out / "results.jsonl"
    done = read_results(results_path)
    if any((m, q.id) not in {(r.mode, r.id) for r in done} for m in modes for q in qs):  # else only the reports
        asyncio.run(_run(s, modes, qs, results_path, done, concurrency, Limits(max_nodes=max_nodes),
                         _prepare(user)))

    summary = summarize(read_results(results_path))
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    table = summary_markdown(summary)
    (out / "summary.md").write_text(table)
    model_name = Path(s.model).name
    modes_chart(summary, out / "modes.png", f"sleuth eval: {questions.name}, {len(qs)} questions, {model_name}")
    print(table, end="")
    _err.print(f"results in {out}/: results.jsonl, summary.json, summary.md, modes.png")


async def _run(s: Settings, modes: list[str], qs, results_path: Path, done: list, concurrency: int,
               limits: Limits, prepare) -> None:
    search = search_backend(s)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=_err) as bar:
        async with AsyncExitStack() as stack, Evaluator(s, await open_chat(s, stack, prepare), search, limits) as evaluator:
            for m in modes:
                seen = [r for r in done if r.mode == m and r.id in {q.id for q in qs}]
                task = bar.add_task(_running(m, seen), total=len(qs), completed=len(seen))

                def show(result, m=m, seen=seen, task=task) -> None:
                    seen.append(result)
                    bar.update(task, advance=1, description=_running(m, seen))

                await evaluate(evaluator, m, qs, results_path, concurrency=concurrency, on_result=show)


def _prepare(user: Settings):
    """Convert the model in the user's data dir (not the evaluation's), with progress; the engine's
    log goes there too."""
    from cli.model_cmd import ensure_model_quietly

    return lambda s: ensure_model_quietly(user)


def _running(mode: str, results: list) -> str:
    if not results:
        return f"{mode:6}"
    n = len(results)
    recall = [r.evidence_recall for r in results if r.evidence_recall is not None]
    text = f"{mode:6} EM {sum(r.em for r in results) / n:.2f}  F1 {sum(r.f1 for r in results) / n:.2f}"
    return text + (f"  recall {sum(recall) / len(recall):.2f}" if recall else "")
