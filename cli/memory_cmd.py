"""`sleuth memory ...`: look into what sleuth has read and been asked, and manage it."""

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from agents.settings import Settings
from cli import render, terminal
from memory import Memory
from tools import Page
from tools.clock import now
from tools.search import read_jsonl

app = typer.Typer(help="Inspect and manage sleuth's memory of pages, threads and runs.", no_args_is_help=True)
Json = typer.Option("--json", help="Print JSON instead of formatted text.")


def _memory(ctx: typer.Context) -> Memory:
    return Settings.load(**ctx.obj).open_memory()


@app.command()
def stats(ctx: typer.Context, json: Annotated[bool, Json] = False) -> None:
    """How many pages, chunks, threads and runs memory holds."""
    data = _memory(ctx).knowledge.stats()
    render.as_json(data) if json else render.memory_stats(data)


@app.command()
def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Words to look for in the chunks of stored pages.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many chunks.")] = 10,
    json: Annotated[bool, Json] = False,
) -> None:
    """Full-text search over every chunk in memory."""
    chunks = _memory(ctx).knowledge.search(text, limit=limit)
    if json:
        render.as_json(chunks)
    elif chunks:
        render.chunks(chunks)
    else:
        render.error(f"nothing in memory matches {text!r}.")


@app.command()
def recall(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question to recall evidence for.")],
    budget: Annotated[Optional[int], typer.Option("--budget", "-b", min=1, help="Token budget (default: the setting context_tokens).")] = None,
    json: Annotated[bool, Json] = False,
) -> None:
    """The chunks a research step would get for a question: coarse summaries first, then details."""
    if not question.strip():
        raise typer.BadParameter("empty; give the question to recall evidence for.", param_hint="QUESTION")
    s = Settings.load(**ctx.obj)
    result = s.open_memory().recall(question, budget_tokens=budget or s.context_tokens)
    if json:
        render.as_json(result)
    else:
        render.chunks(result.chunks)
        render.out.print(f"[dim]{result.describe()}, {len(result.dropped)} left out, {result.stats.milliseconds} ms[/]")


@app.command()
def show(
    ctx: typer.Context,
    page: Annotated[str, typer.Argument(help="A page's URL or its number (see `memory search`).")],
    json: Annotated[bool, Json] = False,
) -> None:
    """One stored page: its metadata and its chunks."""
    memory = _memory(ctx)
    stored = memory.knowledge.page(page)
    if stored is None:
        render.error(f"no page {page!r} in memory.")
        raise typer.Exit(1)
    chunks = memory.knowledge.chunks(stored.id)
    if json:
        render.as_json({**stored.model_dump(mode="json"), "chunks": [c.model_dump(mode="json", exclude={"url", "title", "score"}) for c in chunks]})
    else:
        render.stored_page(stored, chunks)


@app.command()
def threads(ctx: typer.Context, json: Annotated[bool, Json] = False) -> None:
    """Conversation threads, most recent first."""
    found = _memory(ctx).conversations.threads()
    if json:
        render.as_json(found)
    elif found:
        render.threads(found)
    else:
        render.error("no threads yet.")


@app.command()
def forget(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A thread id, or a page's URL or number.")],
) -> None:
    """Remove a thread (with its turns and runs) or a page (with its chunks)."""
    memory = _memory(ctx)
    if "://" not in target and not target.isdigit() and memory.conversations.forget(target):
        render.out.print(f"Forgot thread {target}.")
    elif memory.knowledge.forget(target):
        render.out.print(f"Forgot page {target}.")
    else:
        render.error(f"no thread or page {target!r} in memory.")
        raise typer.Exit(1)


@app.command()
def export(
    ctx: typer.Context,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export every stored page with its chunks, one JSON line per page."""
    if out is not None and not out.parent.is_dir():
        raise typer.BadParameter(f"the folder {out.parent} does not exist.", param_hint="--out")
    memory = _memory(ctx)
    if out is None:
        for row in memory.knowledge.export():
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    # Written beside `out` and renamed at the end, so a failed export leaves an existing file as it was.
    part = out.with_name(f".{out.name}.part")
    try:
        with part.open("w", encoding="utf-8") as stream:
            for row in memory.knowledge.export():
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A JSONL file of documents (doc_id, title, text[, url]).")],
) -> None:
    """Store documents as pages in memory, as if sleuth had read them (for offline corpora)."""
    if not path.is_file():
        raise typer.BadParameter(f"{path} is not a file.", param_hint="PATH")
    s = Settings.load(**ctx.obj)
    memory = s.open_memory()
    skipped: list[str] = []
    counts: dict[str, int] = {}
    batch: list[Page] = []
    fetched = now()

    def flush() -> None:
        for added in memory.knowledge.add_many(batch, backend="import"):
            counts[added.status] = counts.get(added.status, 0) + 1
        batch.clear()

    for doc in read_jsonl(path, skipped, s.max_document_bytes):
        batch.append(Page(url=doc.url, final_url=doc.url, title=doc.title, text=doc.text, fetched_at=fetched, status=200))
        if len(batch) >= 1000:
            flush()
    flush()
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"
    render.out.print(f"Imported {path}: {summary}, {len(skipped)} skipped.")
    for reason in skipped[:20]:
        terminal.line(f"  skipped {reason}")
