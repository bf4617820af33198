"""`sleuth ask`, `sleuth history`, `sleuth show`: research a question; look at past runs."""

import asyncio
import json as jsonlib
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown
from rich.markup import escape
from rich.tree import Tree

from agents import AnswerDelta, Done, Limits, PageRead, PlanUpdated, Researcher, SearchStarted, Settings, SubAnswer
from agents.researcher import new_run_id, new_thread_id
from cli import render, terminal

Attention = typer.Option(help="Local engine's attention for long contexts: dense, flexprefill, hcam or sparse (both).")
Context = typer.Option("--context", min=100, metavar="TOKENS",
                       help="Evidence a reading step gives the model (default 500; at most 30,232 in a 32k context).")


def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question to research.")],
    search: Annotated[Optional[str], typer.Option("--search", help="auto, duckduckgo or local.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Catalogue name (`sleuth model list`), checkpoint folder or Hugging Face id.")] = None,
    llm_url: Annotated[Optional[str], typer.Option("--llm-url", help="Use an OpenAI-compatible server instead.")] = None,
    attention: Annotated[Optional[str], Attention] = None,
    context: Annotated[Optional[int], Context] = None,
    thread: Annotated[Optional[str], typer.Option(help="Continue this conversation thread.")] = None,
    resume: Annotated[Optional[str], typer.Option(help="Resume this interrupted run (its id).")] = None,
    max_nodes: Annotated[int, typer.Option("--max-nodes", min=1, max=50, help="Most sub-questions.")] = 8,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    stream: Annotated[bool, typer.Option("--stream", help="With --json: JSON lines of events.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """Research a question and print an answer whose claims cite the pages read."""
    for value, flag, what in ((thread, "--thread", "a thread id from `sleuth history`, or leave it out for a new thread"),
                              (resume, "--resume", "a run id from `sleuth history`")):
        if value is not None and not value.strip():
            raise typer.BadParameter(f"empty; give {what}.", param_hint=flag)
    s = Settings.load(**ctx.obj, search_backend=search, model=model, llm_url=llm_url, attention=attention, context_tokens=context)
    from cli.model_cmd import ensure_model_quietly

    researcher = Researcher(s, limits=Limits(max_nodes=max_nodes), prepare=partial(ensure_model_quietly, progress=not quiet))
    thread_id = thread or new_thread_id()  # on --resume the run's own thread is used
    run_id = resume or new_run_id(thread_id)

    async def run():
        answer = None
        view = LiveView() if not (quiet or json) else None
        with view.live() if view else nullcontext():
            async for event in researcher.astream(question, thread_id=thread_id, run_id=run_id, resume=bool(resume)):
                if json:
                    if stream:
                        print(jsonlib.dumps(event.model_dump(mode="json"), ensure_ascii=False), flush=True)
                elif isinstance(event, AnswerDelta):  # the checked answer, sentence by sentence, as it is written
                    if view:
                        view.stop()
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
                elif view:
                    view.update(event)
                if isinstance(event, Done):
                    answer = event.answer.model_dump(mode="json")
        return answer

    terminal.on_interrupt = (f"stopped; the run is checkpointed: resume it with `sleuth ask --resume {run_id} "
                             f"{shlex.quote(question)}`.")
    answer = asyncio.run(run())
    if json and not stream:
        print(jsonlib.dumps(answer, ensure_ascii=False, indent=2))
    elif not json:
        _print_sources(answer)


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


class LiveView:
    """What `sleuth ask` shows on stderr while it works: the plan as a tree with each sub-question's
    status, the queries being searched, and the pages read so far. It appears with the first event,
    so an error before any work is done is one line, not a tree and a line."""

    ICONS = {"pending": "[dim]○[/]", "searching": "[yellow]◐[/]", "answered": "[green]●[/]", "failed": "[red]✗[/]"}

    def __init__(self, console: Console | None = None) -> None:
        self.nodes: dict[str, dict] = {}
        self.pages: list[str] = []
        self.console = console or terminal.err
        self._live: Live | None = None
        self._stopped = False

    @contextmanager
    def live(self) -> Iterator["LiveView"]:
        try:
            yield self
        finally:
            self.stop()

    def stop(self) -> None:
        """Leave the tree as it is on screen (the answer follows on stdout)."""
        self._stopped = True
        if self._live:
            self._live.stop()
            if not self.console.is_terminal:  # rich ends the last line only on a terminal; in a log of both
                self.console.line()  # streams the answer would follow on the tree's last line
            self._live = None

    def update(self, event) -> None:
        if isinstance(event, PlanUpdated):
            for node_id, node in event.nodes.items():
                self.nodes.setdefault(node_id, {"question": node.question, "status": node.status.value, "queries": []})
        elif isinstance(event, SearchStarted) and event.node in self.nodes:
            self.nodes[event.node].update(status="searching", queries=event.queries)
        elif isinstance(event, PageRead):
            self.pages.append(event.title or event.url)
        elif isinstance(event, SubAnswer) and event.node in self.nodes:
            self.nodes[event.node].update(status=event.status.value, answer=event.answer)
        if self._stopped:
            return
        if self._live is None:
            self._live = Live(self.render(), console=self.console, refresh_per_second=8, transient=False)
            self._live.start()
        else:
            self._live.update(self.render())

    def render(self) -> Tree:
        tree = Tree(f"[bold]Researching[/] · {len(self.pages)} pages read")
        for node_id, node in self.nodes.items():
            branch = tree.add(f"{self.ICONS[node['status']]} {node_id} {escape(node['question'])}")
            if node["status"] == "searching":
                for q in node["queries"]:
                    branch.add(f"[dim]search: {escape(q)}[/]")
            elif node.get("answer"):
                branch.add(f"[dim]{escape(node['answer'][:160])}[/]")
        return tree


def _print_sources(answer: dict) -> None:
    """After the streamed answer: its numbered sources and what the run cost."""
    render.out.print()
    if answer.get("stopped"):
        render.out.print(f"\n[yellow](Research stopped early: {escape(answer['stopped'])}.)[/]")
    if answer["citations"]:
        render.out.print("\n[bold]Sources[/]")
        for c in answer["citations"]:
            flag = "" if c["supported"] else "  [yellow](support not found in the cited text)[/]"
            render.out.print(f"  [{c['number']}] {escape(c['title'])}  [cyan]{escape(c['url'])}[/]{flag}")
    render.out.print(f"[dim]run {answer['run_id']} · thread {answer['thread_id']} · "
                     f"{answer['timings']['total_s']:.1f} s · {answer['usage']['calls']} calls, the largest prompt "
                     f"{answer['usage']['largest_prompt']:,} tokens · {answer['usage']['completion_tokens']} tokens generated[/]")
