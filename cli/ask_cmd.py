"""`sleuth ask`, `sleuth history`, `sleuth show`: research a question; look at past runs."""

import asyncio
import json as jsonlib
import sys
from typing import Annotated, Optional

import typer
from rich.markdown import Markdown
from rich.markup import escape

from agents import Limits, Researcher, Settings
from cli import render


def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question to research.")],
    search: Annotated[Optional[str], typer.Option("--search", help="auto, duckduckgo or local.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Checkpoint folder or Hugging Face id for the local engine.")] = None,
    llm_url: Annotated[Optional[str], typer.Option("--llm-url", help="Use an OpenAI-compatible server instead.")] = None,
    thread: Annotated[Optional[str], typer.Option(help="Continue this conversation thread.")] = None,
    resume: Annotated[Optional[str], typer.Option(help="Resume this interrupted run (its id).")] = None,
    max_nodes: Annotated[int, typer.Option("--max-nodes", min=1, max=50, help="Most sub-questions.")] = 8,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    stream: Annotated[bool, typer.Option("--stream", help="With --json: JSON lines of events.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Research a question and print an answer whose claims cite the pages read."""
    s = Settings.load(**ctx.obj, search_backend=search, model=model, llm_url=llm_url)
    researcher = Researcher(s, limits=Limits(max_nodes=max_nodes))
    run_id = resume
    thread_id = thread or (resume.rsplit("-", 1)[0] if resume else None)

    async def run():
        answer = None
        async for event in researcher.astream(question, thread_id=thread_id, run_id=run_id, resume=bool(resume)):
            if json and stream:
                print(jsonlib.dumps({"type": event.type, **event.data}, ensure_ascii=False), flush=True)
            elif not quiet and not json:
                _progress(event)
            if event.type == "Done":
                answer = event.data["answer"]
        return answer

    try:
        answer = asyncio.run(run())
    except KeyboardInterrupt:
        render.error("stopped; the run is checkpointed: resume it with `sleuth ask --resume RUN_ID \"...\"` "
                     "(see `sleuth history` for the id).")
        raise typer.Exit(130)
    if json and not stream:
        print(jsonlib.dumps(answer, ensure_ascii=False, indent=2))
    elif not json:
        _print_answer(answer)


def history(ctx: typer.Context, json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Past research runs, oldest first."""
    runs = Settings.load(**ctx.obj).open_memory().tasks.runs()
    if json:
        render.as_json(runs)
        return
    for run in runs:
        render.out.print(f"[bold]{escape(run.id)}[/]  {run.status:8}  {run.started_at:%Y-%m-%d %H:%M}  {escape(run.question)}")
    if not runs:
        render.error("no runs yet.")


def show(ctx: typer.Context, run: Annotated[str, typer.Argument(help="A run id from `sleuth history`.")],
         json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One past run: its question, plan and the answer given."""
    memory = Settings.load(**ctx.obj).open_memory()
    record = memory.tasks.get_run(run)
    if record is None:
        render.error(f"no run {run!r}; see `sleuth history`.")
        raise typer.Exit(1)
    turns = [t for t in memory.conversations.turns(record.thread_id or "") if t.question == record.question]
    if json:
        render.as_json({**record.model_dump(mode="json"), "answer": turns[-1].answer if turns else None})
        return
    render.out.print(f"[bold]{escape(record.question)}[/]  ({record.status}, {record.pages} pages read)")
    for node in record.nodes:
        render.out.print(f"  {node.node_id} {escape(f'[{node.status}]')} {escape(node.question)}"
                         + (f"  (after {', '.join(node.depends_on)})" if node.depends_on else ""))
    if turns:
        render.out.print(Markdown(turns[-1].answer))


def _progress(event) -> None:
    if event.type == "PlanUpdated":
        for node_id, node in event.data["nodes"].items():
            if node["status"] == "pending":
                print(f"  plan {node_id}: {node['question']}", file=sys.stderr, flush=True)
    elif event.type == "SubAnswer":
        print(f"  answered {event.data['node']}: {event.data['answer']}", file=sys.stderr, flush=True)


def _print_answer(answer: dict) -> None:
    render.out.print(Markdown(answer["text"]))
    if answer["citations"]:
        render.out.print("\n[bold]Sources[/]")
        for c in answer["citations"]:
            flag = "" if c["supported"] else "  [yellow](support not found in the cited text)[/]"
            render.out.print(f"  [{c['number']}] {escape(c['title'])}  [cyan]{escape(c['url'])}[/]{flag}")
    render.out.print(f"[dim]run {answer['run_id']} · thread {answer['thread_id']} · "
                     f"{answer['timings']['total_s']:.1f} s · {answer['usage']['completion_tokens']} tokens generated[/]")
